/**
 * End to end with manual keys: `lupina connect` runs at both ends of the lab (the client and the
 * gateway), each from an ipsec-tools setkey.conf, for every transform that static keys allow,
 * in tunnel and transport mode. Ping and iperf3 must pass, both ends' counters must agree, and
 * disconnecting must leave no device, route or rule behind.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLab, isRoot, LAB, lupinaStatus, runIn, startLupina, writeProfile, type Lab, type LupinaStatusJson } from './lab.js';

interface LabTransform {
  name: string;
  protocol: 'esp' | 'ah';
  /** setkey algorithm names and key lengths in bytes. */
  encryption?: [string, number];
  integrity: [string, number];
}

const TRANSFORMS: LabTransform[] = [
  { name: 'AES-CBC-128 HMAC-SHA1-96', protocol: 'esp', encryption: ['aes-cbc', 16], integrity: ['hmac-sha1', 20] },
  { name: 'AES-CBC-128 HMAC-SHA2-256', protocol: 'esp', encryption: ['aes-cbc', 16], integrity: ['hmac-sha256', 32] },
  { name: 'AES-CBC-256 HMAC-SHA2-384', protocol: 'esp', encryption: ['aes-cbc', 32], integrity: ['hmac-sha384', 48] },
  { name: 'AES-CBC-192 HMAC-SHA2-512', protocol: 'esp', encryption: ['aes-cbc', 24], integrity: ['hmac-sha512', 64] },
  { name: 'NULL HMAC-SHA2-256', protocol: 'esp', encryption: ['null', 0], integrity: ['hmac-sha256', 32] },
  { name: 'AH HMAC-SHA2-256', protocol: 'ah', integrity: ['hmac-sha256', 32] },
];

const hexKey = (length: number) => `0x${randomBytes(length).toString('hex')}`;

function saLine(from: string, to: string, spi: number, transform: LabTransform, mode: 'tunnel' | 'transport', keys: string[]): string {
  const parts = ['add', from, to, transform.protocol, `0x${spi.toString(16)}`, '-m', mode];
  if (transform.encryption) {
    parts.push('-E', transform.encryption[0], transform.encryption[1] === 0 ? '' : keys[0]!);
  }
  parts.push('-A', transform.integrity[0], keys[1]!);
  return `${parts.filter((part) => part !== '').join(' ')};`;
}

/** Builds the client's and the gateway's setkey.conf for one transform and mode. */
function setkeyFiles(transform: LabTransform, mode: 'tunnel' | 'transport') {
  const client = LAB.client.outer;
  const gateway = LAB.gateway.outer;
  const toGateway = [transform.encryption ? hexKey(transform.encryption[1]) : '', hexKey(transform.integrity[1])];
  const toClient = [transform.encryption ? hexKey(transform.encryption[1]) : '', hexKey(transform.integrity[1])];
  const sas = [
    saLine(client, gateway, 0x1001, transform, mode, toGateway),
    saLine(gateway, client, 0x2001, transform, mode, toClient),
  ];
  const level = (from: string, to: string) => mode === 'tunnel'
    ? `${transform.protocol}/tunnel/${from}-${to}/require`
    : `${transform.protocol}/transport//require`;
  const clientInner = mode === 'tunnel' ? `${LAB.client.inner}/32` : client;
  const remote = mode === 'tunnel' ? LAB.office.network : gateway;

  const clientFile = [
    ...sas,
    `spdadd ${clientInner} ${remote} any -P out ipsec ${level(client, gateway)};`,
    `spdadd ${remote} ${clientInner} any -P in ipsec ${level(gateway, client)};`,
  ].join('\n');
  const gatewayFile = [
    ...sas,
    `spdadd ${remote} ${clientInner} any -P out ipsec ${level(gateway, client)};`,
    `spdadd ${clientInner} ${remote} any -P in ipsec ${level(client, gateway)};`,
  ].join('\n');
  return { clientFile: `${clientFile}\n`, gatewayFile: `${gatewayFile}\n` };
}

function saByDirection(status: LupinaStatusJson, direction: 'in' | 'out') {
  const sa = status.sas.find((candidate) => candidate.direction === direction);
  assert.ok(sa, `no ${direction} SA in ${JSON.stringify(status)}`);
  return sa;
}

function totalDrops(status: LupinaStatusJson): number {
  return status.sas.reduce((sum, sa) => sum + Object.values(sa.drops).reduce((a, b) => a + b, 0), 0);
}

/** Runs an iperf3 server for one test in `serverNamespace` and a 2-second client run against it. */
async function iperf(lab: Lab, serverNamespace: string, target: string): Promise<number> {
  const server = spawn('ip', ['netns', 'exec', serverNamespace, 'iperf3', '-s', '-1', '-B', target], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const output = await runIn(lab.client, 'iperf3', ['-c', target, '-t', '2', '-J'], 30_000);
    const result = JSON.parse(output) as { end: { sum_received: { bytes: number } } };
    return result.end.sum_received.bytes;
  } finally {
    server.kill();
  }
}

describe('manual-key lab', { skip: isRoot() ? false : 'needs root for network namespaces' }, () => {
  let lab: Lab;
  before(async () => {
    lab = await createLab();
  });
  after(async () => {
    await lab?.destroy();
  });

  for (const transform of TRANSFORMS) {
    for (const mode of ['tunnel', 'transport'] as const) {
      it(`${transform.name} ${mode} carries ping and iperf3`, { timeout: 90_000 }, async () => {
        const files = setkeyFiles(transform, mode);
        const tag = `${transform.name}-${mode}`.replace(/[^a-z0-9]+/gi, '-');
        const gatewayProfile = await writeProfile(lab, `${tag}-gateway.conf`, files.gatewayFile);
        const clientProfile = await writeProfile(lab, `${tag}-client.conf`, files.clientFile);

        const gateway = startLupina(lab.gateway, lab.directory, `${tag}-gateway`, gatewayProfile);
        const client = startLupina(lab.client, lab.directory, `${tag}-client`, clientProfile);
        try {
          await gateway.connected;
          await client.connected;

          const target = mode === 'tunnel' ? LAB.office.address : LAB.gateway.outer;
          const ping = await runIn(lab.client, 'ping', ['-c', '5', '-i', '0.2', '-W', '2', target]);
          assert.match(ping, / 0% packet loss/);

          const serverNamespace = mode === 'tunnel' ? lab.office : lab.gateway;
          const received = await iperf(lab, serverNamespace, target);
          assert.ok(received > 100_000, `iperf3 moved only ${received} bytes`);

          const clientStatus = await lupinaStatus(lab.client, client.environment);
          const gatewayStatus = await lupinaStatus(lab.gateway, gateway.environment);
          assert.equal(clientStatus.state.status, 'connected');
          assert.equal(saByDirection(clientStatus, 'out').mode, mode);
          // Every packet the client protected reached the gateway's inbound SA, and back.
          assert.equal(saByDirection(clientStatus, 'out').packets, saByDirection(gatewayStatus, 'in').packets);
          assert.equal(saByDirection(gatewayStatus, 'out').packets, saByDirection(clientStatus, 'in').packets);
          assert.ok(saByDirection(clientStatus, 'out').packets >= 5);
          assert.equal(totalDrops(clientStatus), 0);
          assert.equal(totalDrops(gatewayStatus), 0);
        } finally {
          const clientExit = await client.stop();
          const gatewayExit = await gateway.stop();
          assert.equal(clientExit, 0, client.output());
          assert.equal(gatewayExit, 0, gateway.output());
        }

        // Nothing is left behind: no TUN device, no route into the tunnel, no policy rule.
        const links = await runIn(lab.client, 'ip', ['-o', 'link']);
        assert.doesNotMatch(links, /: lupina\d+:/);
        const routes = await runIn(lab.client, 'ip', ['route']);
        assert.doesNotMatch(routes, /203\.0\.113/);
        const rules = await runIn(lab.client, 'ip', ['rule']);
        assert.doesNotMatch(rules, /0x4c50|19536/);
      });
    }
  }
});
