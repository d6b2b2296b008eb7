/**
 * Liveness and recovery of `lupina connect` against charon: the client answers the gateway's
 * liveness checks, reconnects by itself after the gateway deletes the IKE SA, and after charon
 * is killed and started again. The state lines that `lupina connect` prints are checked.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  clientConf,
  gatewayConf,
  labSkip,
  pingOffice,
  withClient,
  withGateway,
} from './ike-lab.js';

const SECRET = `lupina-${randomBytes(8).toString('hex')}`;
const PROPOSALS = { ikeProposals: 'aes128-sha256-x25519', espProposals: 'aes128gcm16' };
const psk = { method: 'psk' as const, secret: SECRET };
const CONNECTED = /: connected$/m;

function count(text: string, pattern: RegExp): number {
  return text.match(new RegExp(pattern.source, 'gm'))?.length ?? 0;
}

describe('IKEv2 recovery with strongSwan', { skip: labSkip }, () => {
  it('gateway delete and liveness checks', { timeout: 60_000 }, async () => {
    const conf = gatewayConf({ ...PROPOSALS, auth: psk, connection: 'dpd_delay = 1s' });
    await withGateway({ swanctlConf: conf }, async (lab) => {
      const profile = clientConf({ ...PROPOSALS, auth: psk, connection: 'dpd_delay = 2s' });
      const exit = await withClient(lab, 'delete', profile, {}, async (client) => {
        await client.waitFor(CONNECTED, 20_000);
        await new Promise((resolve) => setTimeout(resolve, 4000));

        const log = await lab.gateway.log();
        assert.ok(count(log, /sending DPD request/) >= 2, 'charon sent fewer than two DPDs');
        assert.ok(count(log, /parsed INFORMATIONAL response \d+ \[ \]/) >= 2, log.slice(-3000));
        assert.ok(count(log, /parsed INFORMATIONAL request \d+ \[ \]/) >= 1, 'no client check');
        assert.doesNotMatch(client.output(), /reconnecting/);

        const mark = client.output().length;
        await lab.gateway.swanctl(['--terminate', '--ike', 'rw']);
        const loss = await client.waitFor(/reconnecting: (.*)$/m, 5000, mark);
        assert.equal(loss[1], 'the gateway closed the connection (deleted by the gateway)');
        const afterLoss = mark + loss.index + loss[0].length;
        await client.waitFor(CONNECTED, 15_000, afterLoss);
        assert.match(await pingOffice(lab.gateway.clientNamespace, 3), / 0% packet loss/);
        const listing = await lab.gateway.listSas();
        assert.equal(listing.ikeSas.length, 1, listing.raw);
      });
      assert.equal(exit, 0);
    });
  });

  it('charon killed and restarted', { timeout: 120_000 }, async () => {
    const conf = gatewayConf({ ...PROPOSALS, auth: psk });
    await withGateway({ swanctlConf: conf }, async (lab) => {
      const profile = clientConf({ ...PROPOSALS, auth: psk, connection: 'dpd_delay = 2s' });
      const exit = await withClient(lab, 'kill', profile, {}, async (client) => {
        await client.waitFor(CONNECTED, 20_000);
        assert.match(await pingOffice(lab.gateway.clientNamespace, 2), / 0% packet loss/);

        const mark = client.output().length;
        const killedAt = Date.now();
        await lab.gateway.kill('SIGKILL');
        // Each liveness check retransmits for 30 s before the client gives up on the gateway.
        const loss = await client.waitFor(/reconnecting: (.*)$/m, 45_000, mark);
        assert.match(loss[1]!, /^the gateway stopped answering \(the gateway did not answer: /);
        assert.ok(Date.now() - killedAt >= 25_000, 'the loss was reported before the give-up time');

        await lab.gateway.restart();
        const afterLoss = mark + loss.index + loss[0].length;
        await client.waitFor(CONNECTED, 40_000, afterLoss);
        assert.match(await pingOffice(lab.gateway.clientNamespace, 3), / 0% packet loss/);
        const status = await client.statusJson();
        assert.equal(status.state.status, 'connected');
      });
      assert.equal(exit, 0);
    });
  });
});
