/**
 * Manual keys over IPv6 outer addresses: IPv6 in IPv6 and IPv4 in IPv6 with ESP in tunnel mode,
 * and AH in transport mode between the client and the gateway.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLab, isRoot, LAB, lupinaStatus, runIn, startLupina, writeProfile, type Lab } from './lab.js';

const CLIENT_INNER6 = '2001:db8:200::200';
const key = (bytes: number) => `0x${randomBytes(bytes).toString('hex')}`;

interface Case {
  name: string;
  client: string;
  gateway: string;
  target: string;
}

function tunnelCase(name: string, clientInner: string, officeNetwork: string, target: string): Case {
  const client = LAB.client.outer6;
  const gateway = LAB.gateway.outer6;
  const sas = [
    `add ${client} ${gateway} esp 0x1001 -m tunnel -E aes-cbc ${key(16)} -A hmac-sha256 ${key(32)};`,
    `add ${gateway} ${client} esp 0x2001 -m tunnel -E aes-cbc ${key(16)} -A hmac-sha256 ${key(32)};`,
  ];
  return {
    name,
    target,
    client: [...sas,
      `spdadd ${clientInner} ${officeNetwork} any -P out ipsec esp/tunnel/${client}-${gateway}/require;`,
      `spdadd ${officeNetwork} ${clientInner} any -P in ipsec esp/tunnel/${gateway}-${client}/require;`, ''].join('\n'),
    gateway: [...sas,
      `spdadd ${officeNetwork} ${clientInner} any -P out ipsec esp/tunnel/${gateway}-${client}/require;`,
      `spdadd ${clientInner} ${officeNetwork} any -P in ipsec esp/tunnel/${client}-${gateway}/require;`, ''].join('\n'),
  };
}

function ahTransportCase(): Case {
  const client = LAB.client.outer6;
  const gateway = LAB.gateway.outer6;
  const sas = [
    `add ${client} ${gateway} ah 0x3001 -A hmac-sha512 ${key(64)};`,
    `add ${gateway} ${client} ah 0x4001 -A hmac-sha512 ${key(64)};`,
  ];
  return {
    name: 'AH transport IPv6',
    target: gateway,
    client: [...sas, `spdadd ${client} ${gateway} any -P out ipsec ah/transport//require;`,
      `spdadd ${gateway} ${client} any -P in ipsec ah/transport//require;`, ''].join('\n'),
    gateway: [...sas, `spdadd ${gateway} ${client} any -P out ipsec ah/transport//require;`,
      `spdadd ${client} ${gateway} any -P in ipsec ah/transport//require;`, ''].join('\n'),
  };
}

const CASES = [
  tunnelCase('ESP tunnel IPv6 in IPv6', `${CLIENT_INNER6}/128`, '2001:db8:300::/64', LAB.office.address6),
  tunnelCase('ESP tunnel IPv4 in IPv6', `${LAB.client.inner}/32`, LAB.office.network, LAB.office.address),
  ahTransportCase(),
];

describe('manual-key lab over IPv6', { skip: isRoot() ? false : 'needs root for network namespaces' }, () => {
  let lab: Lab;
  before(async () => {
    lab = await createLab();
  });
  after(async () => {
    await lab?.destroy();
  });

  for (const testCase of CASES) {
    it(`${testCase.name} carries ping`, { timeout: 60_000 }, async () => {
      const tag = testCase.name.replace(/[^a-z0-9]+/gi, '-');
      const gateway = startLupina(lab.gateway, lab.directory, `${tag}-gateway`, await writeProfile(lab, `${tag}-gw.conf`, testCase.gateway));
      const client = startLupina(lab.client, lab.directory, `${tag}-client`, await writeProfile(lab, `${tag}-cl.conf`, testCase.client));
      try {
        await gateway.connected;
        await client.connected;
        const ping = await runIn(lab.client, 'ping', ['-c', '5', '-i', '0.2', '-W', '2', testCase.target]);
        assert.match(ping, / 0% packet loss/);
        const status = await lupinaStatus(lab.client, client.environment);
        const outbound = status.sas.find((sa) => sa.direction === 'out')!;
        const inbound = status.sas.find((sa) => sa.direction === 'in')!;
        assert.ok(outbound.packets >= 5);
        assert.ok(inbound.packets >= 5);
      } finally {
        assert.equal(await client.stop(), 0, client.output());
        assert.equal(await gateway.stop(), 0, gateway.output());
      }
    });
  }
});
