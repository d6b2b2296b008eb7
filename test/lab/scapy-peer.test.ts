/**
 * Interop with an independent IPsec implementation: `lupina connect` in the client namespace
 * against scapy_peer.py, a static-key gateway built on Scapy 2.5.0's SecurityAssociation, in
 * the gateway namespace. The peer replies to echo requests itself, so a ping that passes proves
 * that each side decrypts what the other protects. Cases: raw ESP tunnel mode, raw AH tunnel
 * mode, raw ESP transport mode and ESP in UDP (RFC 3948) in tunnel mode. Lupina's SA counters
 * must match the peer's own count of decrypted packets and replies.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { scapyAvailable } from '../oracle/scapy-oracle.js';
import {
  createLab, isRoot, LAB, lupinaStatus, runIn, startLupina, writeProfile, type Lab, type LupinaStatusJson,
} from './lab.js';

const PYTHON = '/usr/bin/python3';
const PEER_SCRIPT = fileURLToPath(new URL('./scapy_peer.py', import.meta.url));
const OUT_SPI = 0x1001;
const IN_SPI = 0x2001;
const PINGS = 5;
const STEP_TIMEOUT_MS = 15_000;

/** The counters that scapy_peer.py prints on SIGTERM. */
interface PeerSummary {
  received: number;
  keepalives: number;
  nonEsp: number;
  foreign: number;
  unknownSpi: number;
  integrityFailures: number;
  malformed: number;
  decrypted: number;
  echoRequests: number;
  ignored: number;
  answered: number;
}

interface PeerSa {
  proto: 'esp' | 'ah';
  spi: number;
  mode: 'tunnel' | 'transport';
  crypt?: 'AES-CBC';
  cryptKey?: string;
  auth: 'SHA2-256-128';
  authKey: string;
}

interface InteropCase {
  name: string;
  protocol: 'esp' | 'ah';
  mode: 'tunnel' | 'transport';
  udp: boolean;
  targets: string[];
}

const CASES: InteropCase[] = [
  { name: 'raw ESP tunnel', protocol: 'esp', mode: 'tunnel', udp: false, targets: [LAB.office.address, LAB.gateway.office] },
  { name: 'raw AH tunnel', protocol: 'ah', mode: 'tunnel', udp: false, targets: [LAB.office.address] },
  { name: 'raw ESP transport', protocol: 'esp', mode: 'transport', udp: false, targets: [LAB.gateway.outer] },
  { name: 'ESP in UDP tunnel', protocol: 'esp', mode: 'tunnel', udp: true, targets: [LAB.office.address] },
];

/** AES-CBC-128 and HMAC-SHA2-256 keys for one direction, as hex without 0x. */
function directionKeys(protocol: 'esp' | 'ah') {
  return {
    crypt: protocol === 'esp' ? randomBytes(16).toString('hex') : undefined,
    auth: randomBytes(32).toString('hex'),
  };
}

function peerSa(testCase: InteropCase, spi: number, keys: ReturnType<typeof directionKeys>): PeerSa {
  const sa: PeerSa = { proto: testCase.protocol, spi, mode: testCase.mode, auth: 'SHA2-256-128', authKey: keys.auth };
  if (keys.crypt !== undefined) {
    sa.crypt = 'AES-CBC';
    sa.cryptKey = keys.crypt;
  }
  return sa;
}

/** Builds the client's setkey.conf and the peer's JSON configuration with the same keys. */
function configurations(testCase: InteropCase) {
  const client = LAB.client.outer;
  const gateway = LAB.gateway.outer;
  const toGateway = directionKeys(testCase.protocol);
  const toClient = directionKeys(testCase.protocol);

  const protocol = testCase.udp ? 'esp-udp' : testCase.protocol;
  const from = testCase.udp ? `${client}[4500]` : client;
  const to = testCase.udp ? `${gateway}[4500]` : gateway;
  const saLine = (source: string, destination: string, spi: number, keys: ReturnType<typeof directionKeys>, extra: string) => {
    const encryption = keys.crypt === undefined ? '' : ` -E aes-cbc 0x${keys.crypt}`;
    return `add ${source} ${destination} ${protocol} 0x${spi.toString(16)} -m ${testCase.mode}` +
      `${encryption} -A hmac-sha256 0x${keys.auth}${extra};`;
  };
  const level = (start: string, end: string) => (testCase.mode === 'tunnel'
    ? `${testCase.protocol}/tunnel/${start}-${end}/require`
    : `${testCase.protocol}/transport//require`);
  const local = testCase.mode === 'tunnel' ? `${LAB.client.inner}/32` : client;
  const remote = testCase.mode === 'tunnel' ? LAB.office.network : gateway;
  const setkey = [
    saLine(from, to, OUT_SPI, toGateway, ''),
    // Anti-replay on the client's inbound SA also checks the peer's sequence numbers.
    saLine(to, from, IN_SPI, toClient, ' -r 8'),
    `spdadd ${local} ${remote} any -P out ipsec ${level(client, gateway)};`,
    `spdadd ${remote} ${local} any -P in ipsec ${level(gateway, client)};`,
    '',
  ].join('\n');

  const peer = {
    local: gateway,
    peer: client,
    encapsulation: testCase.udp ? 'udp' : 'raw',
    answer: [LAB.office.network, `${LAB.gateway.outer}/32`],
    inbound: peerSa(testCase, OUT_SPI, toGateway),
    outbound: peerSa(testCase, IN_SPI, toClient),
  };
  return { setkey, peer };
}

function withTimeout<T>(promise: Promise<T>, what: string, milliseconds = STEP_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${milliseconds} ms`)), milliseconds);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface ScapyPeer {
  ready: Promise<void>;
  /** Sends SIGTERM and resolves with the counters that the peer prints. */
  stop(): Promise<PeerSummary>;
  output(): string;
}

/** Starts scapy_peer.py in a namespace, with its configuration on stdin (keys stay off argv). */
function startPeer(namespace: string, configuration: object): ScapyPeer {
  const child = spawn('ip', ['netns', 'exec', namespace, PYTHON, PEER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (/^READY$/m.test(stdout)) {
        resolve();
      }
    });
    void exited.then((code) => reject(new Error(`scapy_peer.py exited with ${code} before READY:\n${stderr}`)));
  });
  ready.catch(() => undefined);
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin.end(JSON.stringify(configuration));

  return {
    ready,
    output: () => `${stdout}${stderr}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
      }
      const code = await exited;
      assert.equal(code, 0, `scapy_peer.py exited with ${code}:\n${stderr}`);
      const lines = stdout.trim().split('\n');
      return JSON.parse(lines[lines.length - 1]!) as PeerSummary;
    },
  };
}

/** Sends a NAT keepalive and an IKE-marked datagram to the peer's UDP port from the client. */
async function sendNonEspDatagrams(lab: Lab): Promise<void> {
  const script = [
    'import socket, sys',
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    's.bind((sys.argv[1], 0))',
    's.sendto(b"\\xff", (sys.argv[2], 4500))',
    's.sendto(b"\\x00\\x00\\x00\\x00" + bytes(28), (sys.argv[2], 4500))',
  ].join('\n');
  await runIn(lab.client, PYTHON, ['-c', script, LAB.client.outer, LAB.gateway.outer], STEP_TIMEOUT_MS);
}

function saByDirection(status: LupinaStatusJson, direction: 'in' | 'out') {
  const sa = status.sas.find((candidate) => candidate.direction === direction);
  assert.ok(sa, `no ${direction} SA in ${JSON.stringify(status)}`);
  return sa;
}

function totalDrops(status: LupinaStatusJson): number {
  return status.sas.reduce((sum, sa) => sum + Object.values(sa.drops).reduce((a, b) => a + b, 0), 0);
}

if (isRoot() && !scapyAvailable() && process.env.CI) {
  throw new Error('Scapy is missing: install python3-scapy for /usr/bin/python3');
}
const skip = !isRoot() ? 'needs root for network namespaces' : !scapyAvailable() ? 'needs Scapy for /usr/bin/python3' : false;

describe('Scapy peer interop', { skip }, () => {
  let lab: Lab;
  before(async () => {
    lab = await createLab();
  });
  after(async () => {
    await lab?.destroy();
  });

  for (const testCase of CASES) {
    it(`${testCase.name} carries ping`, { timeout: 60_000 }, async (t) => {
      const { setkey, peer: peerConfiguration } = configurations(testCase);
      const tag = testCase.name.replace(/[^a-z0-9]+/gi, '-');
      const profile = await writeProfile(lab, `${tag}-client.conf`, setkey);

      const peer = startPeer(lab.gateway, peerConfiguration);
      const client = startLupina(lab.client, lab.directory, `${tag}-client`, profile);
      let status: LupinaStatusJson;
      let stopped: [PromiseSettledResult<PeerSummary>, PromiseSettledResult<number | null>];
      let failed = true;
      try {
        await withTimeout(peer.ready, 'scapy_peer.py start');
        await withTimeout(client.connected, 'lupina connect');

        for (const target of testCase.targets) {
          const ping = await runIn(lab.client, 'ping', ['-c', String(PINGS), '-i', '0.2', '-W', '2', target], STEP_TIMEOUT_MS);
          assert.match(ping, / 0% packet loss/, `ping ${target}`);
          assert.doesNotMatch(ping, /DUP!/, `ping ${target}`);
        }
        if (testCase.udp) {
          await sendNonEspDatagrams(lab);
        }
        status = await lupinaStatus(lab.client, client.environment);
        failed = false;
      } finally {
        stopped = await Promise.allSettled([peer.stop(), client.stop()]);
        if (failed) {
          t.diagnostic(`scapy_peer.py output:\n${peer.output()}`);
          t.diagnostic(`lupina output:\n${client.output()}`);
        }
      }
      const [peerResult, clientResult] = stopped;
      if (peerResult.status === 'rejected') {
        throw peerResult.reason;
      }
      assert.deepEqual(clientResult, { status: 'fulfilled', value: 0 }, client.output());
      const summary = peerResult.value;

      const pings = PINGS * testCase.targets.length;
      const outbound = saByDirection(status, 'out');
      const inbound = saByDirection(status, 'in');
      assert.equal(outbound.mode, testCase.mode);
      assert.equal(parseInt(outbound.spi, 16), OUT_SPI);
      assert.equal(outbound.packets, pings);
      // Whatever Lupina protected, the peer decrypted, and Lupina accepted every reply.
      assert.equal(summary.decrypted, outbound.packets);
      assert.equal(summary.echoRequests, pings);
      assert.equal(summary.answered, pings);
      assert.equal(inbound.packets, summary.answered);
      assert.equal(summary.integrityFailures, 0);
      assert.equal(summary.malformed, 0);
      assert.equal(summary.unknownSpi, 0);
      assert.equal(summary.foreign, 0);
      assert.equal(totalDrops(status), 0);
      // The test sends one keepalive and one IKE-marked datagram. Lupina may add keepalives.
      const nonEspSent = testCase.udp ? 2 : 0;
      assert.ok(summary.received >= summary.decrypted + nonEspSent, JSON.stringify(summary));
      if (testCase.udp) {
        assert.ok(summary.keepalives >= 1, `keepalives: ${summary.keepalives}`);
        assert.equal(summary.nonEsp, 1);
      }
    });
  }
});
