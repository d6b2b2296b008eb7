/**
 * IKEv2 end to end against strongSwan: charon with kernel-libipsec is the office gateway, an
 * office host sits behind it, and `lupina connect` reads a swanctl.conf road-warrior profile in
 * the client namespace. Ping reaches the office host for several proposal sets, and only the
 * traffic selectors that the gateway narrowed to are routed into the tunnel.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runIn } from './lab.js';
import { clientConf, gatewayConf, labSkip, OFFICE_HOST, withClient, withGateway } from './ike-lab.js';

const run = promisify(execFile);
const SECRET = `lupina-${randomBytes(8).toString('hex')}`;
const AUTH = { method: 'psk' as const, secret: SECRET };

const PROPOSAL_SETS = [
  { ikeProposals: 'aes128-sha256-x25519', espProposals: 'aes128gcm16' },
  { ikeProposals: 'aes256gcm16-prfsha384-ecp384', espProposals: 'aes256-sha384' },
  { ikeProposals: 'chacha20poly1305-prfsha256-ecp256', espProposals: 'chacha20poly1305' },
];

describe('IKEv2 with strongSwan', { skip: labSkip }, () => {
  for (const proposals of PROPOSAL_SETS) {
    it(`PSK ${proposals.ikeProposals} / ${proposals.espProposals} carries traffic`, { timeout: 90_000 }, async () => {
      await withGateway({ swanctlConf: gatewayConf({ ...proposals, auth: AUTH }) }, async (lab) => {
        const exit = await withClient(lab, `psk-${proposals.espProposals}`, clientConf({ ...proposals, auth: AUTH }), {}, async (client) => {
          await client.process.connected;
          const ping = await runIn(lab.gateway.clientNamespace, 'ping', ['-c', '5', '-i', '0.2', '-W', '2', OFFICE_HOST]);
          assert.match(ping, / 0% packet loss/);

          const status = await client.statusJson();
          assert.equal(status.state.status, 'connected');
          const outbound = status.sas.find((sa) => sa.direction === 'out')!;
          assert.ok(outbound.packets >= 5);
          const listing = await lab.gateway.listSas();
          const child = listing.ikeSas[0]?.childSas[0];
          assert.ok(child, listing.raw);
          assert.equal(child.spiIn, outbound.spi);
        });
        assert.equal(exit, 0);
      });
    });
  }

  it('routes exactly the narrowed selectors', { timeout: 60_000 }, async () => {
    // The client asks for 203.0.113.0/24; the gateway narrows it to two ranges inside.
    const proposals = PROPOSAL_SETS[0]!;
    const conf = gatewayConf({ ...proposals, auth: AUTH })
      .replace('local_ts = 203.0.113.0/24', 'local_ts = 203.0.113.0/29, 203.0.113.64/26');
    await withGateway({ swanctlConf: conf }, async (lab) => {
      // charon routes each selector from an address of its own inside it, so it needs one in .64/26.
      await run('ip', ['-n', lab.gateway.namespace, 'address', 'add', '203.0.113.65/32', 'dev', 'lo']);
      const exit = await withClient(lab, 'narrowed', clientConf({ ...proposals, auth: AUTH }), {}, async (client) => {
        await client.process.connected;
        const routes = await runIn(lab.gateway.clientNamespace, 'ip', ['route']);
        assert.match(routes, /^203\.0\.113\.0\/29 dev lupina\d/m);
        assert.match(routes, /^203\.0\.113\.64\/26 dev lupina\d/m);
        assert.doesNotMatch(routes, /^203\.0\.113\.0\/24 dev lupina/m);
        const ping = await runIn(lab.gateway.clientNamespace, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', OFFICE_HOST]);
        assert.match(ping, / 0% packet loss/);
      });
      assert.equal(exit, 0);
    });
  });
});
