/**
 * IKEv2 benchmark against one strongSwan gateway (charon 5.9 with kernel-libipsec) in network
 * namespaces, comparing `lupina connect` with strongSwan's own client, a second charon with
 * kernel-libipsec in the client namespace:
 *
 * - connect: time to the first ping reply from the office host through the tunnel, the median
 *   of several runs, measured two ways. From a cold start: from starting `lupina connect PROFILE`,
 *   or from starting the client charon, which then loads its configuration and initiates. From a
 *   running client: from a connect request to a Lupina process that already runs and has
 *   connected and disconnected before (bench/running-client.ts, as the desktop app's main
 *   process), or from `swanctl --initiate` against a charon that already runs. The time from
 *   the "connecting" line of `lupina connect`, the first connect of a new process, is printed too.
 *   The ping starts when the client reports the tunnel up: Lupina's "connected" line, or the
 *   end of `swanctl --initiate`;
 * - throughput: iperf3 TCP for 5 s from the client to the office host.
 *
 * Needs root, charon, swanctl, pki and iperf3. Run with `npm run bench:ike`.
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  clientConf,
  gatewayConf,
  labAvailable,
  OFFICE_HOST,
  runInNamespace,
  runIperf,
  startConnect,
  withGateway,
  type GatewayLab,
} from '../test/lab/ike-lab.js';
import { lupinaEnvironment } from '../test/lab/lab.js';
import { startStrongswanClient } from '../test/lab/strongswan.js';
import { describeLupinaEntry } from './lupina-entry.js';

const RUNS = 5;
const IPERF_SECONDS = 5;
const SECRET = `lupina-${randomBytes(8).toString('hex')}`;
const PROPOSALS = { ikeProposals: 'aes128-sha256-x25519', espProposals: 'aes128gcm16' };
const AUTH = { method: 'psk' as const, secret: SECRET };

/** A shell loop in the client namespace that ends at the first ping reply from the office host. */
const PING_UNTIL_REPLY =
  `while ! ping -c 1 -W 1 -q ${OFFICE_HOST} >/dev/null 2>&1; do sleep 0.01; done`;

const RUNNING_CLIENT = fileURLToPath(new URL('../dist/bench/running-client.js', import.meta.url));

interface Figures {
  connectMs: number[];
  /** Lupina only: from the "connecting" line of a new `lupina connect` to the first ping reply. */
  negotiateMs?: number[];
  /** Lupina only: from a connect request to a running client process to the first ping reply. */
  runningMs?: number[];
  /** strongSwan only: from starting the client charon to the first ping reply. */
  coldStartMs?: number[];
  bitsPerSecond: number;
  iperfError?: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function pingUntilReply(namespace: string): Promise<void> {
  const result = await runInNamespace(namespace, 'sh', ['-c', PING_UNTIL_REPLY], 30_000);
  if (result.code !== 0) {
    throw new Error(`no ping reply through the tunnel within 30 s: ${result.stderr}`);
  }
}

/**
 * Times connects of one running client process (bench/running-client.ts in dist/), from the
 * connect request on its stdin to the first ping reply.
 */
async function measureLupinaRunning(lab: GatewayLab): Promise<number[]> {
  if (!existsSync(RUNNING_CLIENT)) {
    throw new Error(`${RUNNING_CLIENT} is missing; run "npm run build" first`);
  }
  const folder = join(lab.directory, 'running');
  await mkdir(folder, { recursive: true });
  const profile = join(folder, 'swanctl.conf');
  await writeFile(profile, clientConf({ ...PROPOSALS, auth: AUTH }), { mode: 0o600 });
  const child = spawn('ip', ['netns', 'exec', lab.gateway.clientNamespace, process.execPath, RUNNING_CLIENT, profile], {
    env: lupinaEnvironment(folder, 'state'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const expect = async (expected: string) => {
    const line = await lines.next();
    if (line.done || line.value !== expected) {
      throw new Error(`running client: expected "${expected}", got ${line.done ? 'the end of its output' : `"${line.value}"`}`);
    }
  };

  try {
    await expect('ready');
    const connectMs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      child.stdin!.write('connect\n');
      await expect('connected');
      await pingUntilReply(lab.gateway.clientNamespace);
      connectMs.push(performance.now() - started);
      child.stdin!.write('disconnect\n');
      await expect('disconnected');
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    return connectMs;
  } finally {
    child.stdin!.end();
    await new Promise((resolve) => child.once('close', resolve));
  }
}

async function measureLupina(lab: GatewayLab): Promise<Figures> {
  const profile = clientConf({ ...PROPOSALS, auth: AUTH });
  const connectMs: number[] = [];
  const negotiateMs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const client = await startConnect(lab, `bench-${run}`, profile);
    let connectingAt = Number.NaN;
    client.process.child.stdout!.on('data', () => {
      if (Number.isNaN(connectingAt) && /: connecting$/m.test(client.output())) {
        connectingAt = performance.now();
      }
    });
    try {
      // As with swanctl --initiate, the ping starts once the client reports the tunnel up, so
      // no ping goes out early and waits for its timeout.
      await client.process.connected;
      await pingUntilReply(lab.gateway.clientNamespace);
      const replyAt = performance.now();
      connectMs.push(replyAt - started);
      negotiateMs.push(replyAt - connectingAt);
      if (run < RUNS - 1) {
        continue;
      }
      const iperf = await runIperf(lab.gateway.clientNamespace, lab.office, IPERF_SECONDS);
      return { connectMs, negotiateMs, bitsPerSecond: iperf.bitsPerSecond, iperfError: iperf.error };
    } finally {
      await client.stop();
      // charon deletes the IKE SA when the client's Delete arrives; give it a moment.
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
  throw new Error('no benchmark runs');
}

/** Times charon from its start, with loading the configuration and initiating, to the first reply. */
async function measureStrongswanColdStart(lab: GatewayLab): Promise<number[]> {
  const conf = clientConf({ ...PROPOSALS, auth: AUTH });
  const connectMs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const client = await startStrongswanClient(lab.gateway.clientNamespace, { swanctlConf: conf });
    try {
      await client.swanctl(['--initiate', '--child', 'office']);
      await pingUntilReply(lab.gateway.clientNamespace);
      connectMs.push(performance.now() - started);
    } finally {
      await client.stop();
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
  return connectMs;
}

async function measureStrongswan(lab: GatewayLab): Promise<Figures> {
  const coldStartMs = await measureStrongswanColdStart(lab);
  const conf = clientConf({ ...PROPOSALS, auth: AUTH });
  const client = await startStrongswanClient(lab.gateway.clientNamespace, { swanctlConf: conf });
  try {
    const connectMs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      await client.swanctl(['--initiate', '--child', 'office']);
      await pingUntilReply(lab.gateway.clientNamespace);
      connectMs.push(performance.now() - started);
      if (run < RUNS - 1) {
        await client.swanctl(['--terminate', '--ike', 'office']);
      }
    }
    const iperf = await runIperf(lab.gateway.clientNamespace, lab.office, IPERF_SECONDS);
    return { connectMs, coldStartMs, bitsPerSecond: iperf.bitsPerSecond, iperfError: iperf.error };
  } finally {
    await client.stop();
  }
}

function printTable(lupina: Figures, strongswan: Figures): void {
  const row = (name: string, figures: Figures) => {
    const connect = median(figures.connectMs).toFixed(0).padStart(10);
    const runs = figures.connectMs.map((ms) => ms.toFixed(0)).join(' ');
    const mbits = (figures.bitsPerSecond / 1e6).toFixed(0).padStart(12);
    const error = figures.iperfError === undefined ? '' : `  iperf3 error: ${figures.iperfError}`;
    return `${name.padEnd(34)}${connect}${mbits}   ${runs}${error}`;
  };
  const coldRatio = median(lupina.connectMs) / median(strongswan.coldStartMs ?? []);
  const runningRatio = median(lupina.runningMs ?? []) / median(strongswan.connectMs);
  const throughputRatio = lupina.bitsPerSecond / strongswan.bitsPerSecond;
  const verdict = (ratio: number, met: boolean) => `${ratio.toFixed(2)}x (${met ? 'met' : 'not met'})`;
  process.stdout.write(
    [
      `IKEv2 against charon (kernel-libipsec), ${PROPOSALS.ikeProposals} / ${PROPOSALS.espProposals}`,
      `lupina connect ran ${describeLupinaEntry('bin')}`,
      `${'client'.padEnd(34)}${'connect ms'.padStart(10)}${'iperf3 Mb/s'.padStart(12)}   each connect run (ms)`,
      row('lupina connect, cold start', lupina),
      row('strongSwan, charon cold start', { ...strongswan, connectMs: strongswan.coldStartMs ?? [] }),
      row('lupina, running client', { ...lupina, connectMs: lupina.runningMs ?? [] }),
      row('strongSwan, charon running', strongswan),
      row('lupina connect, from "connecting"', { ...lupina, connectMs: lupina.negotiateMs ?? [] }),
      '',
      'target: connect at most 1.5x strongSwan\'s, throughput at least 1x',
      `connect from a cold start: ${verdict(coldRatio, coldRatio <= 1.5)}`,
      `connect from a running client: ${verdict(runningRatio, runningRatio <= 1.5)}`,
      `throughput: ${verdict(throughputRatio, throughputRatio >= 1)}`,
      '',
    ].join('\n'),
  );
}

async function main(): Promise<void> {
  if (!labAvailable) {
    process.stderr.write('ike-bench: needs root, charon, swanctl, pki and iperf3\n');
    process.exitCode = 1;
    return;
  }
  const conf = gatewayConf({ ...PROPOSALS, auth: AUTH });
  await withGateway({ swanctlConf: conf }, async (lab) => {
    const lupina = { ...await measureLupina(lab), runningMs: await measureLupinaRunning(lab) };
    const strongswan = await measureStrongswan(lab);
    printTable(lupina, strongswan);
  });
}

await main();
