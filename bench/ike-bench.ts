/**
 * IKEv2 benchmark against one strongSwan gateway (charon 5.9 with kernel-libipsec) in network
 * namespaces, comparing `lupina connect` with strongSwan's own client, a second charon with
 * kernel-libipsec in the client namespace:
 *
 * - connect: time from starting the client (`lupina connect PROFILE`, or `swanctl --initiate`
 *   against an already running client charon) to the first ping reply from the office host
 *   through the tunnel, the median of several runs;
 * - throughput: iperf3 TCP for 5 s from the client to the office host.
 *
 * Needs root, charon, swanctl, pki and iperf3. Run with `npm run bench:ike`.
 */

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
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
import { startStrongswanClient } from '../test/lab/strongswan.js';

const RUNS = 5;
const IPERF_SECONDS = 5;
const SECRET = `lupina-${randomBytes(8).toString('hex')}`;
const PROPOSALS = { ikeProposals: 'aes128-sha256-x25519', espProposals: 'aes128gcm16' };
const AUTH = { method: 'psk' as const, secret: SECRET };

/** A shell loop in the client namespace that ends at the first ping reply from the office host. */
const PING_UNTIL_REPLY =
  `while ! ping -c 1 -W 1 -q ${OFFICE_HOST} >/dev/null 2>&1; do sleep 0.01; done`;

interface Figures {
  connectMs: number[];
  /** Lupina only: from its "connecting" log line to the first ping reply, without start-up. */
  negotiateMs?: number[];
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

async function measureStrongswan(lab: GatewayLab): Promise<Figures> {
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
    return { connectMs, bitsPerSecond: iperf.bitsPerSecond, iperfError: iperf.error };
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
    return `${name.padEnd(22)}${connect}${mbits}   ${runs}${error}`;
  };
  const connectRatio = median(lupina.connectMs) / median(strongswan.connectMs);
  const throughputRatio = lupina.bitsPerSecond / strongswan.bitsPerSecond;
  process.stdout.write(
    [
      `IKEv2 against charon (kernel-libipsec), ${PROPOSALS.ikeProposals} / ${PROPOSALS.espProposals}`,
      `${'client'.padEnd(22)}${'connect ms'.padStart(10)}${'iperf3 Mb/s'.padStart(12)}   each connect run (ms)`,
      row('lupina connect', lupina),
      row('  without start-up', { ...lupina, connectMs: lupina.negotiateMs ?? [] }),
      row('strongSwan (charon)', strongswan),
      '',
      `connect time: ${connectRatio.toFixed(2)}x strongSwan's (target at most 1.5x: ` +
        `${connectRatio <= 1.5 ? 'met' : 'not met'})`,
      `throughput: ${throughputRatio.toFixed(2)}x strongSwan's (target at least 1x: ` +
        `${throughputRatio >= 1 ? 'met' : 'not met'})`,
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
    const lupina = await measureLupina(lab);
    const strongswan = await measureStrongswan(lab);
    printTable(lupina, strongswan);
  });
}

await main();
