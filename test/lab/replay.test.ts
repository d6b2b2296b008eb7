/**
 * Anti-replay end to end (RFC 4303 section 3.4.3). Lupina runs at both ends with static keys and
 * a replay window. tcpdump in the client namespace captures the ESP packets that the client
 * sends, and a raw socket in the client namespace sends the same bytes to the gateway again.
 * The gateway's inbound SA must drop every copy as a duplicate or as too old, its packet
 * counter must not rise, and the office host must not see a second copy of any echo request.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createLab, isRoot, LAB, lupinaStatus, runIn, startLupina, writeProfile, type Lab, type LupinaProcess,
  type LupinaStatusJson,
} from './lab.js';

const TO_GATEWAY_SPI = 0x1001;
const STEP_TIMEOUT_MS = 15_000;

/** pcap link type of Ethernet (LINKTYPE_ETHERNET), which tcpdump writes for a veth device. */
const LINKTYPE_ETHERNET = 1;
const ETHERNET_HEADER_LENGTH = 14;
const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_ESP = 50;

/** Sends each hex-encoded IPv4 packet from argv[2:] as is, through a raw socket (raw(7)). */
const RESEND_SCRIPT = [
  'import socket, sys',
  's = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)',
  'for text in sys.argv[2:]:',
  '    s.sendto(bytes.fromhex(text), (sys.argv[1], 0))',
].join('\n');

interface EspPacket {
  /** The whole IPv4 packet, as captured. */
  bytes: Buffer;
  spi: number;
  seq: number;
}

/**
 * Reads the IPv4 ESP packets of a classic pcap file from an Ethernet device. Both byte orders
 * and both timestamp resolutions of the format are accepted, but pcapng is not.
 */
function readEspPackets(file: Buffer): EspPacket[] {
  const magic = file.readUInt32LE(0);
  const littleEndian = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!littleEndian && file.readUInt32BE(0) !== 0xa1b2c3d4 && file.readUInt32BE(0) !== 0xa1b23c4d) {
    throw new Error(`not a pcap file: magic number 0x${magic.toString(16)}`);
  }
  const read32 = (offset: number) => (littleEndian ? file.readUInt32LE(offset) : file.readUInt32BE(offset));
  const linkType = read32(20);
  if (linkType !== LINKTYPE_ETHERNET) {
    throw new Error(`pcap link type ${linkType} is not Ethernet`);
  }

  const packets: EspPacket[] = [];
  let offset = 24;
  while (offset + 16 <= file.length) {
    const capturedLength = read32(offset + 8);
    const frame = file.subarray(offset + 16, offset + 16 + capturedLength);
    offset += 16 + capturedLength;
    if (frame.length < ETHERNET_HEADER_LENGTH + 20 || frame.readUInt16BE(12) !== ETHERTYPE_IPV4) {
      continue;
    }
    const ip = frame.subarray(ETHERNET_HEADER_LENGTH);
    const headerLength = (ip[0]! & 0x0f) * 4;
    if (ip[9] !== IPPROTO_ESP || ip.length < headerLength + 8) {
      continue;
    }
    const bytes = Buffer.from(ip.subarray(0, ip.readUInt16BE(2)));
    packets.push({ bytes, spi: ip.readUInt32BE(headerLength), seq: ip.readUInt32BE(headerLength + 4) });
  }
  return packets;
}

interface Capture {
  /** Resolves when tcpdump is listening. */
  ready: Promise<void>;
  /** Resolves with tcpdump's stdout once it exits by itself, as `-c COUNT` makes it. */
  finished(): Promise<string>;
  /** Stops tcpdump and resolves with what it printed on stdout. */
  stop(): Promise<string>;
}

function startTcpdump(namespace: string, args: string[]): Capture {
  // Immediate mode hands each packet to tcpdump at once, so none waits in the kernel's buffer.
  const child = spawn('ip', ['netns', 'exec', namespace, 'tcpdump', '-n', '-U', '--immediate-mode', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('listening on')) {
        resolve();
      }
    });
    void exited.then(() => reject(new Error(`tcpdump exited before listening:\n${stderr}`)));
  });
  ready.catch(() => undefined);
  return {
    ready: withTimeout(ready, 'tcpdump start'),
    async finished() {
      await withTimeout(exited, `tcpdump ${args.join(' ')}`, 3_000);
      return stdout;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
      }
      await exited;
      return stdout;
    },
  };
}

function withTimeout<T>(promise: Promise<T>, what: string, milliseconds = STEP_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${milliseconds} ms`)), milliseconds);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Builds both ends' setkey.conf for ESP tunnel mode with `-r windowBytes` on every SA. */
function setkeyFiles(windowBytes: number) {
  const client = LAB.client.outer;
  const gateway = LAB.gateway.outer;
  const key = (bytes: number) => `0x${randomBytes(bytes).toString('hex')}`;
  const sas = [
    `add ${client} ${gateway} esp 0x${TO_GATEWAY_SPI.toString(16)} -m tunnel -r ${windowBytes} ` +
      `-E aes-cbc ${key(16)} -A hmac-sha256 ${key(32)};`,
    `add ${gateway} ${client} esp 0x2001 -m tunnel -r ${windowBytes} -E aes-cbc ${key(16)} -A hmac-sha256 ${key(32)};`,
  ];
  const inner = `${LAB.client.inner}/32`;
  const office = LAB.office.network;
  const toGateway = `esp/tunnel/${client}-${gateway}/require`;
  const toClient = `esp/tunnel/${gateway}-${client}/require`;
  return {
    client: [...sas, `spdadd ${inner} ${office} any -P out ipsec ${toGateway};`,
      `spdadd ${office} ${inner} any -P in ipsec ${toClient};`, ''].join('\n'),
    gateway: [...sas, `spdadd ${office} ${inner} any -P out ipsec ${toClient};`,
      `spdadd ${inner} ${office} any -P in ipsec ${toGateway};`, ''].join('\n'),
  };
}

function inboundSa(status: LupinaStatusJson) {
  const sa = status.sas.find((candidate) => candidate.direction === 'in' && parseInt(candidate.spi, 16) === TO_GATEWAY_SPI);
  assert.ok(sa, `no inbound SA 0x${TO_GATEWAY_SPI.toString(16)} in ${JSON.stringify(status)}`);
  return sa;
}

async function ping(lab: Lab, count: number, interval: string): Promise<string> {
  const output = await runIn(lab.client, 'ping', ['-c', String(count), '-i', interval, '-W', '2', LAB.office.address], STEP_TIMEOUT_MS);
  assert.match(output, / 0% packet loss/);
  assert.doesNotMatch(output, /DUP!/);
  return output;
}

async function resend(lab: Lab, packets: EspPacket[]): Promise<void> {
  const hex = packets.map((packet) => packet.bytes.toString('hex'));
  await runIn(lab.client, '/usr/bin/python3', ['-c', RESEND_SCRIPT, LAB.gateway.outer, ...hex], STEP_TIMEOUT_MS);
}

/** Polls the gateway until its inbound SA has counted `drops` replay drops, or times out. */
async function waitForReplayDrops(lab: Lab, gateway: LupinaProcess, drops: number): Promise<LupinaStatusJson> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const status = await lupinaStatus(lab.gateway, gateway.environment);
    const sa = inboundSa(status);
    const replayDrops = (sa.drops.replayDuplicate ?? 0) + (sa.drops.replayTooOld ?? 0);
    if (replayDrops >= drops || Date.now() > deadline) {
      return status;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Ends {
  client: LupinaProcess;
  gateway: LupinaProcess;
  clientCapture: Capture;
  officeCapture: Capture;
  pcapPath: string;
}

/**
 * Connects both ends with a window of `windowBytes * 8` packets and starts both captures. The
 * client's capture ends after `sent` ESP packets.
 */
async function connectEnds(lab: Lab, tag: string, windowBytes: number, sent: number): Promise<Ends> {
  const files = setkeyFiles(windowBytes);
  const pcapPath = join(lab.directory, `${tag}.pcap`);
  const ends: Ends = {
    gateway: startLupina(lab.gateway, lab.directory, `${tag}-gateway`, await writeProfile(lab, `${tag}-gw.conf`, files.gateway)),
    client: startLupina(lab.client, lab.directory, `${tag}-client`, await writeProfile(lab, `${tag}-cl.conf`, files.client)),
    clientCapture: startTcpdump(lab.client, ['-i', 'wan0', '-c', String(sent), '-w', pcapPath, `ip proto ${IPPROTO_ESP} and src ${LAB.client.outer}`]),
    // One line per echo request that reaches the office host.
    officeCapture: startTcpdump(lab.office, ['-i', 'lan0', '-l', `icmp[icmptype] == icmp-echo and dst ${LAB.office.address}`]),
    pcapPath,
  };
  return ends;
}

async function stopEnds(ends: Ends): Promise<void> {
  await Promise.allSettled([ends.clientCapture.stop(), ends.officeCapture.stop()]);
  const [clientExit, gatewayExit] = await Promise.all([ends.client.stop(), ends.gateway.stop()]);
  assert.equal(clientExit, 0, ends.client.output());
  assert.equal(gatewayExit, 0, ends.gateway.output());
}

async function waitUntilReady(ends: Ends): Promise<void> {
  await withTimeout(ends.gateway.connected, 'gateway lupina connect');
  await withTimeout(ends.client.connected, 'client lupina connect');
  await ends.clientCapture.ready;
  await ends.officeCapture.ready;
}

function countLines(text: string): number {
  return text.split('\n').filter((line) => line.trim() !== '').length;
}

describe('anti-replay in the lab', { skip: isRoot() ? false : 'needs root for network namespaces' }, () => {
  let lab: Lab;
  before(async () => {
    lab = await createLab();
  });
  after(async () => {
    await lab?.destroy();
  });

  it('replayed packets count as duplicates', { timeout: 60_000 }, async () => {
    const ends = await connectEnds(lab, 'duplicate', 8, 5);
    try {
      await waitUntilReady(ends);
      await ping(lab, 5, '0.2');
      await ends.clientCapture.finished();
      const captured = readEspPackets(await readFile(ends.pcapPath));
      assert.deepEqual(captured.map((packet) => packet.spi), [1, 2, 3, 4, 5].map(() => TO_GATEWAY_SPI));
      assert.deepEqual(captured.map((packet) => packet.seq), [1, 2, 3, 4, 5]);

      const before = inboundSa(await lupinaStatus(lab.gateway, ends.gateway.environment));
      assert.equal(before.packets, 5);
      await resend(lab, captured);
      const replayed = inboundSa(await waitForReplayDrops(lab, ends.gateway, captured.length));
      assert.equal(replayed.drops.replayDuplicate, 5);
      assert.equal(replayed.drops.replayTooOld, 0);
      assert.equal(replayed.drops.icv, 0);
      assert.equal(replayed.packets, before.packets);
      assert.equal(replayed.bytes, before.bytes);

      // The SA still takes new packets after the replayed ones.
      await ping(lab, 3, '0.2');
      const echoRequests = countLines(await ends.officeCapture.stop());
      assert.equal(echoRequests, 8);
      const last = inboundSa(await lupinaStatus(lab.gateway, ends.gateway.environment));
      assert.equal(last.packets, 8);
    } finally {
      await stopEnds(ends);
    }
  });

  it('packets behind a 32-packet window count as too old', { timeout: 60_000 }, async () => {
    const ends = await connectEnds(lab, 'too-old', 4, 40);
    try {
      await waitUntilReady(ends);
      await ping(lab, 40, '0.01');
      await ends.clientCapture.finished();
      const captured = readEspPackets(await readFile(ends.pcapPath));
      assert.equal(captured.length, 40);
      // Sequence numbers 1 to 3 lie more than 32 below the highest one, 40.
      const old = captured.filter((packet) => packet.seq <= 3);
      const newest = captured.filter((packet) => packet.seq === 40);
      assert.equal(old.length, 3);
      assert.equal(newest.length, 1);

      const before = inboundSa(await lupinaStatus(lab.gateway, ends.gateway.environment));
      assert.equal(before.packets, 40);
      await resend(lab, [...old, ...newest]);
      const replayed = inboundSa(await waitForReplayDrops(lab, ends.gateway, 4));
      assert.equal(replayed.drops.replayTooOld, 3);
      assert.equal(replayed.drops.replayDuplicate, 1);
      assert.equal(replayed.drops.icv, 0);
      assert.equal(replayed.packets, before.packets);

      const echoRequests = countLines(await ends.officeCapture.stop());
      assert.equal(echoRequests, 40);
    } finally {
      await stopEnds(ends);
    }
  });
});
