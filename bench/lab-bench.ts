/**
 * Lab benchmark: Lupina against strongSwan over the same three namespaces of test/lab/lab.ts
 * (client, gateway, office), all with AES-128-CBC and HMAC-SHA2-256-128 in tunnel mode.
 *
 * Tunnels measured, each in a fresh lab:
 *   lupina       `lupina connect` at both ends, static keys from setkey.conf, raw ESP
 *   lupina-udp   the same keys and SAs, ESP in UDP on port 4500 (RFC 3948)
 *   strongswan   two charons with kernel-libipsec, keyed by IKEv2 with a PSK. kernel-libipsec in
 *                strongSwan 5.9.8 always sends ESP in UDP, so lupina-udp is its closest match.
 *
 * Each tunnel gets four measurements:
 *   - ping latency through the tunnel against the plain outer path;
 *   - one iperf3 TCP stream each way;
 *   - 64-byte UDP at full speed and at a fixed rate, with a loss ledger that sets iperf3's
 *     counts beside the tunnel's and the kernel's counters;
 *   - the RSS and CPU time of the client's tunnel process.
 *
 * Usage: npm run bench:lab [-- --json] [-- --only NAMES] [-- --entry bin|dist] [-- --seconds N]
 *   --json          print the figures as JSON instead of tables
 *   --only          comma-separated tunnel names from the list above (default: all)
 *   --entry         how `lupina connect` starts. bin (default) runs bin/lupina.js, which uses
 *                   dist/ when it is current and the sources through tsx otherwise. dist runs
 *                   dist/main/cli/run.js even when it is older than the sources. The report
 *                   names the code that ran, because tsx adds about 20 to 40 MB of RSS.
 *   --seconds       length of each iperf3 TCP run in seconds (default 10)
 *   --udp-seconds   length of each iperf3 UDP run in seconds (default 5)
 *   --pings         pings per latency sample, sent 10 ms apart (default 200)
 *
 * Needs root, iperf3, ping and, for the strongswan tunnel, strongswan-charon and
 * strongswan-swanctl. Progress goes to standard error. The whole run stops after 5 minutes and
 * always deletes its namespaces and ends the processes it started.
 */

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describeLupinaEntry } from './lupina-entry.js';
import {
  createLab,
  isRoot,
  LAB,
  lupinaEnvironment,
  lupinaStatus,
  runIn,
  writeProfile,
  type Lab,
} from '../test/lab/lab.js';

const run = promisify(execFile);

const TUNNEL_NAMES = ['lupina', 'lupina-udp', 'strongswan'] as const;
type TunnelName = (typeof TUNNEL_NAMES)[number];

const CHARON = '/usr/lib/ipsec/charon';
const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
const LUPINA_BIN = join(PROJECT_ROOT, 'bin', 'lupina.js');
const LUPINA_DIST = join(PROJECT_ROOT, 'dist', 'main', 'cli', 'run.js');
/** The whole run, including setup and cleanup, must end within this time. */
const RUN_DEADLINE_MS = 300_000;
const UDP_PAYLOAD_BYTES = 64;
/** The packet rate of the fixed-rate UDP run, the packets/s target of docs/benchmarks.md. */
const UDP_FIXED_RATE_PPS = 60_000;
const MEMORY_SAMPLE_MS = 200;
const PING_INTERVAL_S = 0.01;
const CLOCK_TICKS_PER_SECOND = 100;

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  json: boolean;
  only: TunnelName[];
  entry: 'bin' | 'dist';
  seconds: number;
  udpSeconds: number;
  pings: number;
}

function parseArguments(argv: string[]): Options {
  const options: Options = {
    json: false,
    only: [...TUNNEL_NAMES],
    entry: 'bin',
    seconds: 10,
    udpSeconds: 5,
    pings: 200,
  };
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    if (argument === '--json') {
      options.json = true;
    } else if (argument === '--only') {
      options.only = parseTunnelNames(argv[++i] ?? '');
    } else if (argument === '--entry') {
      options.entry = parseEntry(argv[++i]);
    } else if (argument === '--seconds') {
      options.seconds = parsePositive(argument, argv[++i]);
    } else if (argument === '--udp-seconds') {
      options.udpSeconds = parsePositive(argument, argv[++i]);
    } else if (argument === '--pings') {
      options.pings = parsePositive(argument, argv[++i]);
    } else {
      throw new Error(
        `unknown option "${argument}"; expected --json, --only NAMES, --entry bin|dist, ` +
          '--seconds N, --udp-seconds N or --pings N',
      );
    }
  }
  return options;
}

function parseTunnelNames(text: string): TunnelName[] {
  const names = text.split(',').filter((name) => name !== '');
  for (const name of names) {
    if (!(TUNNEL_NAMES as readonly string[]).includes(name)) {
      throw new Error(
        `invalid tunnel name "${name}" for --only; expected ${TUNNEL_NAMES.join(', ')}`,
      );
    }
  }
  if (names.length === 0) {
    throw new Error(`--only needs at least one of ${TUNNEL_NAMES.join(', ')}`);
  }
  return names as TunnelName[];
}

function parseEntry(text: string | undefined): 'bin' | 'dist' {
  if (text !== 'bin' && text !== 'dist') {
    throw new Error(`invalid value "${text}" for --entry; expected bin or dist`);
  }
  return text;
}

function parsePositive(option: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`invalid value "${text}" for ${option}; expected a positive whole number`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Processes, time boxes and cleanup

/** Every process this benchmark started, so that cleanup can end each one by its PID. */
const startedProcesses = new Set<ChildProcess>();
/** Labs not yet destroyed, for the cleanup after a signal or the run deadline. */
const activeLabs = new Set<Lab>();

function track(child: ChildProcess): ChildProcess {
  startedProcesses.add(child);
  child.once('exit', () => startedProcesses.delete(child));
  return child;
}

/** Spawns a command inside a namespace. `ip netns exec` execs it, so the PID is the command's. */
function spawnIn(
  namespace: string,
  command: string,
  args: string[],
  env = process.env,
): ChildProcess {
  return track(
    spawn('ip', ['netns', 'exec', namespace, command, ...args], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
}

/** Sends SIGTERM, then SIGKILL after `graceMs`, and resolves once the process has exited. */
async function endProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

async function endAllProcesses(): Promise<void> {
  await Promise.all([...startedProcesses].map((child) => endProcess(child)));
}

/** Ends every started process and deletes every lab, then exits with `code`. */
async function abortRun(code: number): Promise<never> {
  await endAllProcesses();
  for (const lab of activeLabs) {
    await lab.destroy();
  }
  process.exit(code);
}

function log(message: string): void {
  process.stderr.write(`[bench:lab] ${message}\n`);
}

class StepTimeoutError extends Error {
  constructor(step: string, ms: number) {
    super(`step "${step}" timed out after ${ms / 1000} s`);
    this.name = 'StepTimeoutError';
  }
}

/** Runs one step of the benchmark and rejects when it takes longer than `ms`. */
async function step<T>(name: string, ms: number, work: () => Promise<T>): Promise<T> {
  log(name);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StepTimeoutError(name, ms)), ms);
  });
  try {
    return await Promise.race([work(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Kernel counters

interface LinkCounters {
  rxPackets: number;
  rxDropped: number;
  txPackets: number;
  txDropped: number;
}

interface KernelCounters {
  /** /proc/net/snmp of the namespace, such as snmp.Udp.InDatagrams. */
  snmp: Record<string, Record<string, number>>;
  links: Record<string, LinkCounters>;
  /** The drops column of /proc/net/raw and raw6, summed per IP protocol number. */
  rawDrops: Record<number, number>;
}

function parseSnmp(text: string): Record<string, Record<string, number>> {
  const tables: Record<string, Record<string, number>> = {};
  const lines = text.trim().split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/);
    const table = names[0]!.replace(':', '');
    tables[table] = {};
    for (let column = 1; column < names.length; column++) {
      tables[table][names[column]!] = Number(values[column]);
    }
  }
  return tables;
}

/** Sums the drops column per protocol; a raw socket's local "port" is its IP protocol. */
function parseRawDrops(text: string): Record<number, number> {
  const drops: Record<number, number> = {};
  for (const line of text.trim().split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const protocol = Number.parseInt(fields[1]?.split(':')[1] ?? '', 16);
    const count = Number(fields.at(-1));
    if (Number.isFinite(protocol) && Number.isFinite(count)) {
      drops[protocol] = (drops[protocol] ?? 0) + count;
    }
  }
  return drops;
}

interface IpLinkJson {
  ifname: string;
  stats64: {
    rx: { packets: number; dropped: number };
    tx: { packets: number; dropped: number };
  };
}

async function readKernelCounters(namespace: string): Promise<KernelCounters> {
  const [snmp, raw, raw6, links] = await Promise.all([
    runIn(namespace, 'cat', ['/proc/net/snmp'], 10_000),
    runIn(namespace, 'cat', ['/proc/net/raw'], 10_000),
    runIn(namespace, 'cat', ['/proc/net/raw6'], 10_000),
    runIn(namespace, 'ip', ['-j', '-s', 'link'], 10_000),
  ]);
  const rawDrops = parseRawDrops(raw);
  for (const [protocol, count] of Object.entries(parseRawDrops(raw6))) {
    rawDrops[Number(protocol)] = (rawDrops[Number(protocol)] ?? 0) + count;
  }
  const linkCounters: Record<string, LinkCounters> = {};
  for (const link of JSON.parse(links) as IpLinkJson[]) {
    linkCounters[link.ifname] = {
      rxPackets: link.stats64.rx.packets,
      rxDropped: link.stats64.rx.dropped,
      txPackets: link.stats64.tx.packets,
      txDropped: link.stats64.tx.dropped,
    };
  }
  return { snmp: parseSnmp(snmp), links: linkCounters, rawDrops };
}

/** Reads the dropped column of /proc/net/softnet_stat, summed over CPUs and all namespaces. */
function readSoftnetDrops(): number {
  let total = 0;
  for (const line of readFileSync('/proc/net/softnet_stat', 'utf8').trim().split('\n')) {
    total += Number.parseInt(line.trim().split(/\s+/)[1] ?? '0', 16);
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Process memory and CPU time

function readStatusField(pid: number, field: string): number | null {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  return match ? Number(match[1]) / 1024 : null;
}

/** Returns the user plus system CPU seconds of a process, from /proc/PID/stat fields 14 and 15. */
function readCpuSeconds(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Returns the PID whose command line starts with `program`: `pid` itself, or the first
 * descendant that matches, for launchers that fork instead of exec.
 */
function findProcess(pid: number, program: string): number {
  const queue = [pid];
  while (queue.length > 0) {
    const candidate = queue.shift()!;
    const commandLine = readFileSync(`/proc/${candidate}/cmdline`, 'utf8').replaceAll('\0', ' ');
    if (commandLine.startsWith(`${program} `) || commandLine.trim() === program) {
      return candidate;
    }
    const children = readFileSync(`/proc/${candidate}/task/${candidate}/children`, 'utf8');
    queue.push(...children.trim().split(/\s+/).filter(Boolean).map(Number));
  }
  throw new Error(`no process running ${program} under PID ${pid}`);
}

/** Samples VmRSS of a process every MEMORY_SAMPLE_MS while a measurement runs. */
class MemorySampler {
  private maxMb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), MEMORY_SAMPLE_MS);
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.maxMb;
  }

  private sample(): void {
    const rss = readStatusField(this.pid, 'VmRSS');
    if (rss !== null && rss > this.maxMb) {
      this.maxMb = rss;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Tunnels under test

/** Packets and drops that the tunnel software counts itself, per end. */
interface TunnelCounters {
  clientOut: number;
  clientIn: number;
  gatewayOut: number;
  gatewayIn: number;
  /** Packets the client's tunnel process dropped between reading the TUN device and sending. */
  clientDrops: Record<string, number>;
  /** Packets the gateway's tunnel process dropped between receiving and writing the TUN device. */
  gatewayDrops: Record<string, number>;
}

interface TunnelUnderTest {
  name: TunnelName;
  /** The TUN device that carries inner packets, in both the client and the gateway. */
  device: string;
  clientPid: number;
  gatewayPid: number;
  /** The process that the RSS and CPU figures describe, and the code it runs. */
  processLabel: string;
  readCounters(): Promise<TunnelCounters>;
  stop(): Promise<void>;
}

const hexKey = (length: number) => `0x${randomBytes(length).toString('hex')}`;

/**
 * Builds the client's and the gateway's setkey.conf: one SA each way with AES-128-CBC and
 * HMAC-SHA2-256-128, a 32-packet replay window (strongSwan's default) and tunnel-mode policies
 * between the client's inner address and the office network.
 */
function setkeyFiles(encapsulation: 'raw' | 'udp') {
  const client = LAB.client.outer;
  const gateway = LAB.gateway.outer;
  const [clientEnd, gatewayEnd, protocol] =
    encapsulation === 'udp'
      ? [`${client}[4500]`, `${gateway}[4500]`, 'esp-udp']
      : [client, gateway, 'esp'];
  const sa = (from: string, to: string, spi: string) =>
    `add ${from} ${to} ${protocol} ${spi} -m tunnel -r 4 ` +
    `-E aes-cbc ${hexKey(16)} -A hmac-sha256 ${hexKey(32)};`;
  const sas = [sa(clientEnd, gatewayEnd, '0x1001'), sa(gatewayEnd, clientEnd, '0x2001')];
  const inner = `${LAB.client.inner}/32`;
  const office = LAB.office.network;
  const toGateway = `esp/tunnel/${client}-${gateway}/require`;
  const toClient = `esp/tunnel/${gateway}-${client}/require`;
  const clientFile = [
    ...sas,
    `spdadd ${inner} ${office} any -P out ipsec ${toGateway};`,
    `spdadd ${office} ${inner} any -P in ipsec ${toClient};`,
  ];
  const gatewayFile = [
    ...sas,
    `spdadd ${office} ${inner} any -P out ipsec ${toClient};`,
    `spdadd ${inner} ${office} any -P in ipsec ${toGateway};`,
  ];
  return { client: `${clientFile.join('\n')}\n`, gateway: `${gatewayFile.join('\n')}\n` };
}

interface LupinaStatusCounters {
  sas: { direction: 'in' | 'out'; packets: number; drops: Record<string, number> }[];
  counters: {
    sad: Record<string, number>;
    dataPlane: Record<string, number>;
    transport: Record<string, number>;
  };
}

/** Sums the packets and drops of one direction's SAs from `lupina status --json`. */
function summarizeLupina(status: LupinaStatusCounters, direction: 'in' | 'out') {
  let packets = 0;
  const drops: Record<string, number> = {};
  const add = (name: string, count: number | undefined) => {
    drops[name] = (drops[name] ?? 0) + (count ?? 0);
  };
  for (const sa of status.sas.filter((candidate) => candidate.direction === direction)) {
    packets += sa.packets;
    for (const [reason, count] of Object.entries(sa.drops)) {
      add(`SA ${reason}`, count);
    }
  }
  const { sad, dataPlane, transport } = status.counters;
  if (direction === 'out') {
    add('SAD noPolicy', sad.noPolicy);
    add('tooBig', dataPlane.tooBig);
    // transportSendFailures already counts the transport's sendDrops and sendErrors.
    add('transportSendFailures', dataPlane.transportSendFailures);
  } else {
    add('SAD unknownSpi', sad.unknownSpi);
    add('SAD malformed', sad.malformed);
    add('transport foreignDropped', transport.foreignDropped);
    add('transport malformedDropped', transport.malformedDropped);
    add('deviceWriteFailures', dataPlane.deviceWriteFailures);
  }
  return { packets, drops };
}

interface LupinaProcess {
  child: ChildProcess;
  environment: NodeJS.ProcessEnv;
}

/** Starts `lupina connect PROFILE` in a namespace and resolves once it prints "connected". */
async function startLupinaProcess(
  lab: Lab,
  namespace: string,
  name: string,
  profile: string,
  entry: Options['entry'],
): Promise<LupinaProcess> {
  const environment = lupinaEnvironment(lab.directory, name);
  const script = entry === 'dist' ? LUPINA_DIST : LUPINA_BIN;
  const child = track(
    spawn('ip', ['netns', 'exec', namespace, process.execPath, script, 'connect', profile], {
      cwd: PROJECT_ROOT,
      env: environment,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (/: connected$/m.test(output)) {
        resolve();
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.once('exit', (code) =>
      reject(new Error(`lupina connect in ${namespace} exited with ${code}:\n${output}`)),
    );
  });
  return { child, environment };
}

async function startLupinaTunnel(
  lab: Lab,
  encapsulation: 'raw' | 'udp',
  entry: Options['entry'],
): Promise<TunnelUnderTest> {
  const files = setkeyFiles(encapsulation);
  const gatewayProfile = await writeProfile(
    lab,
    `bench-${encapsulation}-gateway.conf`,
    files.gateway,
  );
  const clientProfile = await writeProfile(lab, `bench-${encapsulation}-client.conf`, files.client);
  const gateway = await startLupinaProcess(
    lab,
    lab.gateway,
    `bench-${encapsulation}-gateway`,
    gatewayProfile,
    entry,
  );
  const client = await startLupinaProcess(
    lab,
    lab.client,
    `bench-${encapsulation}-client`,
    clientProfile,
    entry,
  );
  const readStatus = async (namespace: string, environment: NodeJS.ProcessEnv) =>
    (await lupinaStatus(namespace, environment)) as unknown as LupinaStatusCounters;

  return {
    name: encapsulation === 'udp' ? 'lupina-udp' : 'lupina',
    device: 'lupina0',
    clientPid: findProcess(client.child.pid!, process.execPath),
    gatewayPid: findProcess(gateway.child.pid!, process.execPath),
    processLabel: `lupina connect from ${describeLupinaEntry(entry)}`,
    async readCounters() {
      const [clientStatus, gatewayStatus] = await Promise.all([
        readStatus(lab.client, client.environment),
        readStatus(lab.gateway, gateway.environment),
      ]);
      const clientOut = summarizeLupina(clientStatus, 'out');
      const gatewayIn = summarizeLupina(gatewayStatus, 'in');
      return {
        clientOut: clientOut.packets,
        clientIn: summarizeLupina(clientStatus, 'in').packets,
        gatewayOut: summarizeLupina(gatewayStatus, 'out').packets,
        gatewayIn: gatewayIn.packets,
        clientDrops: clientOut.drops,
        gatewayDrops: gatewayIn.drops,
      };
    },
    async stop() {
      await endProcess(client.child);
      await endProcess(gateway.child);
    },
  };
}

/**
 * strongswan.conf for a benchmark charon. Only the listed plugins load, so bypass-lan,
 * forecast, farp and connmark stay off, and the vici socket lives in the charon's directory.
 */
function strongswanConf(directory: string): string {
  const plugins = [
    'random',
    'nonce',
    'openssl',
    'pem',
    'pkcs1',
    'x509',
    'pubkey',
    'hmac',
    'aes',
    'sha1',
    'sha2',
    'gmp',
    'kdf',
    'kernel-libipsec',
    'kernel-netlink',
    'socket-default',
    'vici',
  ];
  return `charon {
  load_modular = no
  load = ${plugins.join(' ')}
  install_virtual_ip = no
  plugins {
    vici {
      socket = unix://${join(directory, 'charon.vici')}
    }
  }
  filelog {
    bench {
      path = ${join(directory, 'charon.log')}
      default = 1
      flush_line = yes
    }
  }
  syslog {
    daemon {
      default = -1
    }
  }
}
`;
}

interface SwanctlEnd {
  localAddress: string;
  remoteAddress: string;
  localId: string;
  remoteId: string;
  localTs: string;
  remoteTs: string;
}

function swanctlConf(end: SwanctlEnd, secret: string): string {
  return `connections {
  bench {
    version = 2
    local_addrs = ${end.localAddress}
    remote_addrs = ${end.remoteAddress}
    proposals = aes128-sha256-modp2048
    mobike = no
    local {
      auth = psk
      id = ${end.localId}
    }
    remote {
      auth = psk
      id = ${end.remoteId}
    }
    children {
      bench {
        local_ts = ${end.localTs}
        remote_ts = ${end.remoteTs}
        esp_proposals = aes128-sha256-modp2048
        mode = tunnel
      }
    }
  }
}
secrets {
  ike-bench {
    id-1 = ${end.localId}
    id-2 = ${end.remoteId}
    secret = 0x${secret}
  }
}
`;
}

interface Charon {
  pid: number;
  swanctl(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Starts charon in a namespace with a private /run (for its PID file) and loads its config. */
async function startCharon(
  namespace: string,
  directory: string,
  end: SwanctlEnd,
  secret: string,
): Promise<Charon> {
  await mkdir(join(directory, 'swanctl'), { recursive: true });
  await writeFile(join(directory, 'strongswan.conf'), strongswanConf(directory));
  await writeFile(join(directory, 'swanctl', 'swanctl.conf'), swanctlConf(end, secret), {
    mode: 0o600,
  });
  const environment = {
    ...process.env,
    STRONGSWAN_CONF: join(directory, 'strongswan.conf'),
    SWANCTL_DIR: join(directory, 'swanctl'),
  };
  const child = spawnIn(
    namespace,
    'unshare',
    ['-m', 'sh', '-c', `mount -t tmpfs tmpfs /run && exec ${CHARON}`],
    environment,
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const vici = join(directory, 'charon.vici');
  while (!existsSync(vici)) {
    if (child.exitCode !== null) {
      throw new Error(`charon in ${namespace} exited with ${child.exitCode}: ${stderr}`);
    }
    await sleep(50);
  }
  const swanctl = async (args: string[]) => {
    const { stdout } = await run('swanctl', [...args, '--uri', `unix://${vici}`], {
      env: environment,
      timeout: 20_000,
    });
    return stdout;
  };
  await swanctl(['--load-all']);
  return { pid: findProcess(child.pid!, CHARON), swanctl, stop: () => endProcess(child) };
}

/** Reads a child SA's packet counters from `swanctl --list-sas --raw`. */
async function readCharonPackets(charon: Charon): Promise<{ in: number; out: number }> {
  const raw = await charon.swanctl(['--list-sas', '--raw']);
  const packetsIn = /packets-in=(\d+)/.exec(raw);
  const packetsOut = /packets-out=(\d+)/.exec(raw);
  if (!packetsIn || !packetsOut) {
    throw new Error(`no CHILD_SA packet counters in swanctl --list-sas output: ${raw}`);
  }
  return { in: Number(packetsIn[1]), out: Number(packetsOut[1]) };
}

async function startStrongswanTunnel(lab: Lab): Promise<TunnelUnderTest> {
  // The client's inner address sits on lo, so charon's route into ipsec0 uses it as source.
  await runIn(lab.client, 'ip', ['address', 'add', `${LAB.client.inner}/32`, 'dev', 'lo']);
  const secret = randomBytes(32).toString('hex');
  const clientId = 'client@lupina.test';
  const gatewayId = 'gateway@lupina.test';
  const gateway = await startCharon(
    lab.gateway,
    join(lab.directory, 'charon-gateway'),
    {
      localAddress: LAB.gateway.outer,
      remoteAddress: LAB.client.outer,
      localId: gatewayId,
      remoteId: clientId,
      localTs: LAB.office.network,
      remoteTs: `${LAB.client.inner}/32`,
    },
    secret,
  );
  const client = await startCharon(
    lab.client,
    join(lab.directory, 'charon-client'),
    {
      localAddress: LAB.client.outer,
      remoteAddress: LAB.gateway.outer,
      localId: clientId,
      remoteId: gatewayId,
      localTs: `${LAB.client.inner}/32`,
      remoteTs: LAB.office.network,
    },
    secret,
  );
  await client.swanctl(['--initiate', '--child', 'bench', '--timeout', '15']);

  return {
    name: 'strongswan',
    device: 'ipsec0',
    clientPid: client.pid,
    gatewayPid: gateway.pid,
    processLabel: 'charon (kernel-libipsec)',
    async readCounters() {
      const [clientPackets, gatewayPackets] = await Promise.all([
        readCharonPackets(client),
        readCharonPackets(gateway),
      ]);
      return {
        clientOut: clientPackets.out,
        clientIn: clientPackets.in,
        gatewayOut: gatewayPackets.out,
        gatewayIn: gatewayPackets.in,
        // vici reports no drop counters for kernel-libipsec.
        clientDrops: {},
        gatewayDrops: {},
      };
    },
    async stop() {
      await client.stop();
      await gateway.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Measurements

/** Returns the value at percentile `p` (0 to 100), interpolated between the nearest ranks. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (rank - lower);
}

interface PingSample {
  target: string;
  sent: number;
  received: number;
  medianMs: number;
  p90Ms: number;
}

async function pingSample(lab: Lab, target: string, count: number): Promise<PingSample> {
  const output = await runIn(
    lab.client,
    'ping',
    ['-n', '-c', String(count), '-i', String(PING_INTERVAL_S), '-W', '1', target],
    count * 50 + 10_000,
  );
  const times = [...output.matchAll(/time=([\d.]+) ms/g)].map((match) => Number(match[1]));
  if (times.length === 0) {
    throw new Error(`no ping replies from ${target}:\n${output}`);
  }
  return {
    target,
    sent: count,
    received: times.length,
    medianMs: percentile(times, 50),
    p90Ms: percentile(times, 90),
  };
}

interface LatencyResult {
  plain: PingSample;
  tunnelGateway: PingSample;
  tunnelOffice: PingSample;
  addedMedianMs: number;
  addedP90Ms: number;
}

/**
 * Pings the gateway's outer address (no tunnel), then the gateway's office address and the
 * office host through the tunnel. The added latency compares the two paths to the gateway.
 */
async function measureLatency(lab: Lab, count: number): Promise<LatencyResult> {
  await pingSample(lab, LAB.gateway.office, 20);
  const plain = await pingSample(lab, LAB.gateway.outer, count);
  const tunnelGateway = await pingSample(lab, LAB.gateway.office, count);
  const tunnelOffice = await pingSample(lab, LAB.office.address, count);
  return {
    plain,
    tunnelGateway,
    tunnelOffice,
    addedMedianMs: tunnelGateway.medianMs - plain.medianMs,
    addedP90Ms: tunnelGateway.p90Ms - plain.p90Ms,
  };
}

interface IperfJson {
  end: {
    sum_sent: {
      seconds: number;
      bytes: number;
      packets?: number;
      retransmits?: number;
      bits_per_second: number;
    };
    sum_received: {
      seconds: number;
      bytes: number;
      packets?: number;
      lost_packets?: number;
      bits_per_second: number;
    };
  };
}

let nextIperfPort = 5301;

/** Runs iperf3 from the client against a one-shot server on the office host. */
async function runIperf(lab: Lab, args: string[], seconds: number): Promise<IperfJson> {
  const port = String(nextIperfPort++);
  const server = spawnIn(lab.office, 'iperf3', ['-s', '-1', '-B', LAB.office.address, '-p', port]);
  try {
    await sleep(300);
    const output = await runIn(
      lab.client,
      'iperf3',
      ['-c', LAB.office.address, '-p', port, '-t', String(seconds), '-J', ...args],
      (seconds + 20) * 1000,
    );
    return JSON.parse(output) as IperfJson;
  } finally {
    await endProcess(server, 1000);
  }
}

interface TcpResult {
  direction: 'client-to-office' | 'office-to-client';
  mbitPerSecond: number;
  retransmits: number;
  /** CPU use of the client's and the gateway's tunnel process, in percent of one core. */
  clientCpuPercent: number;
  gatewayCpuPercent: number;
}

async function measureTcp(
  lab: Lab,
  tunnel: TunnelUnderTest,
  reverse: boolean,
  seconds: number,
): Promise<TcpResult> {
  const started = process.hrtime.bigint();
  const clientCpu = readCpuSeconds(tunnel.clientPid);
  const gatewayCpu = readCpuSeconds(tunnel.gatewayPid);
  const result = await runIperf(lab, reverse ? ['-R'] : [], seconds);
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    direction: reverse ? 'office-to-client' : 'client-to-office',
    mbitPerSecond: result.end.sum_received.bits_per_second / 1e6,
    retransmits: result.end.sum_sent.retransmits ?? 0,
    clientCpuPercent: ((readCpuSeconds(tunnel.clientPid) - clientCpu) / elapsed) * 100,
    gatewayCpuPercent: ((readCpuSeconds(tunnel.gatewayPid) - gatewayCpu) / elapsed) * 100,
  };
}

interface LedgerStage {
  stage: string;
  /** Packets that passed this point, where a counter exists; other traffic may be included. */
  packets: number | null;
  drops: Record<string, number>;
}

interface UdpResult {
  /** "max" for iperf3 -b 0, or the requested rate in packets/s. */
  rate: 'max' | number;
  seconds: number;
  sent: number;
  received: number;
  sentPerSecond: number;
  deliveredPerSecond: number;
  lost: number;
  /** Sum of every drop in the ledger. */
  accounted: number;
  /**
   * lost minus accounted: packets that no counter explains. A negative figure means that drop
   * counters also caught packets of other traffic.
   */
  unaccounted: number;
  ledger: LedgerStage[];
}

interface Snapshot {
  client: KernelCounters;
  gateway: KernelCounters;
  office: KernelCounters;
  tunnel: TunnelCounters;
  softnetDrops: number;
}

async function takeSnapshot(lab: Lab, tunnel: TunnelUnderTest): Promise<Snapshot> {
  const [client, gateway, office, counters] = await Promise.all([
    readKernelCounters(lab.client),
    readKernelCounters(lab.gateway),
    readKernelCounters(lab.office),
    tunnel.readCounters(),
  ]);
  return { client, gateway, office, tunnel: counters, softnetDrops: readSoftnetDrops() };
}

function differenceOf(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, value] of Object.entries(after)) {
    result[name] = value - (before[name] ?? 0);
  }
  return result;
}

/**
 * Builds the loss ledger of one UDP run from counter snapshots, stage by stage along the path
 * client socket, client TUN device, client tunnel process, outer link, gateway socket, gateway
 * tunnel process, gateway forwarding, office socket.
 */
function buildLedger(before: Snapshot, after: Snapshot, device: string): LedgerStage[] {
  const snmp = (end: 'client' | 'gateway' | 'office', table: string, name: string) =>
    (after[end].snmp[table]?.[name] ?? 0) - (before[end].snmp[table]?.[name] ?? 0);
  const link = (end: 'client' | 'gateway' | 'office', name: string, field: keyof LinkCounters) =>
    (after[end].links[name]?.[field] ?? 0) - (before[end].links[name]?.[field] ?? 0);
  const rawDrops = (end: 'gateway', protocol: number) =>
    (after[end].rawDrops[protocol] ?? 0) - (before[end].rawDrops[protocol] ?? 0);
  // Udp InDatagrams counts datagrams that a socket read, so the office's UDP arrivals come from
  // the IP counters: every IPv4 datagram received, minus the TCP segments and ICMP messages.
  const officeArrived =
    snmp('office', 'Ip', 'InReceives') -
    snmp('office', 'Tcp', 'InSegs') -
    snmp('office', 'Icmp', 'InMsgs');
  const officeRead = snmp('office', 'Udp', 'InDatagrams');
  const officeInErrors = snmp('office', 'Udp', 'InErrors');
  const officeNoPorts = snmp('office', 'Udp', 'NoPorts');

  return [
    {
      // With ESP in UDP, the tunnel's own datagrams are in this count too.
      stage: 'client kernel: UDP datagrams sent',
      packets: snmp('client', 'Udp', 'OutDatagrams'),
      drops: { 'client Udp SndbufErrors': snmp('client', 'Udp', 'SndbufErrors') },
    },
    {
      stage: `client ${device}: packets read by the tunnel process`,
      packets: link('client', device, 'txPackets'),
      drops: { [`client ${device} tx dropped`]: link('client', device, 'txDropped') },
    },
    {
      stage: 'client tunnel process: packets protected (outbound SA)',
      packets: after.tunnel.clientOut - before.tunnel.clientOut,
      drops: prefixKeys(
        'client tunnel ',
        differenceOf(before.tunnel.clientDrops, after.tunnel.clientDrops),
      ),
    },
    {
      stage: 'outer link: packets sent by the client',
      packets: link('client', 'wan0', 'txPackets'),
      drops: {
        'client wan0 tx dropped': link('client', 'wan0', 'txDropped'),
        'gateway wan0 rx dropped': link('gateway', 'wan0', 'rxDropped'),
        'softnet backlog dropped (all namespaces)': after.softnetDrops - before.softnetDrops,
      },
    },
    {
      stage: 'gateway sockets: ESP received',
      packets: null,
      drops: {
        'gateway raw ESP socket drops': rawDrops('gateway', 50),
        'gateway Udp InErrors': snmp('gateway', 'Udp', 'InErrors'),
      },
    },
    {
      stage: 'gateway tunnel process: packets unprotected (inbound SA)',
      packets: after.tunnel.gatewayIn - before.tunnel.gatewayIn,
      drops: prefixKeys(
        'gateway tunnel ',
        differenceOf(before.tunnel.gatewayDrops, after.tunnel.gatewayDrops),
      ),
    },
    {
      stage: 'gateway forwarding: packets forwarded, both directions',
      packets: snmp('gateway', 'Ip', 'ForwDatagrams'),
      drops: {
        [`gateway ${device} rx dropped`]: link('gateway', device, 'rxDropped'),
        'gateway Ip InDiscards': snmp('gateway', 'Ip', 'InDiscards'),
        'gateway Ip OutDiscards': snmp('gateway', 'Ip', 'OutDiscards'),
        'gateway lan0 tx dropped': link('gateway', 'lan0', 'txDropped'),
        'office lan0 rx dropped': link('office', 'lan0', 'rxDropped'),
      },
    },
    {
      stage: 'office kernel: UDP datagrams arrived',
      packets: officeArrived,
      drops: {
        'office Udp InErrors': officeInErrors,
        'office Udp NoPorts (after iperf3 closed)': officeNoPorts,
        // Datagrams still queued on the socket when the iperf3 server closed it: the kernel
        // frees them without a counter, so this is the difference of the counters above.
        'office socket unread at close':
          officeArrived - officeRead - officeInErrors - officeNoPorts,
      },
    },
    {
      stage: 'office iperf3: datagrams read (Udp InDatagrams)',
      packets: officeRead,
      drops: {},
    },
  ];
}

function prefixKeys(prefix: string, record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(record).map(([name, value]) => [`${prefix}${name}`, value]),
  );
}

async function measureUdp(
  lab: Lab,
  tunnel: TunnelUnderTest,
  rate: 'max' | number,
  seconds: number,
): Promise<UdpResult> {
  const bitrate = rate === 'max' ? '0' : String(rate * UDP_PAYLOAD_BYTES * 8);
  const before = await takeSnapshot(lab, tunnel);
  const result = await runIperf(
    lab,
    ['-u', '-l', String(UDP_PAYLOAD_BYTES), '-b', bitrate],
    seconds,
  );
  await sleep(500);
  const after = await takeSnapshot(lab, tunnel);

  const sent = result.end.sum_sent.packets ?? 0;
  const received =
    (result.end.sum_received.packets ?? 0) - (result.end.sum_received.lost_packets ?? 0);
  const ledger = buildLedger(before, after, tunnel.device);
  const accounted = ledger.reduce(
    (sum, stage) => sum + Object.values(stage.drops).reduce((total, count) => total + count, 0),
    0,
  );
  const sendSeconds = result.end.sum_sent.seconds;
  return {
    rate,
    seconds: sendSeconds,
    sent,
    received,
    sentPerSecond: sent / sendSeconds,
    deliveredPerSecond: received / sendSeconds,
    lost: sent - received,
    accounted,
    unaccounted: sent - received - accounted,
    ledger,
  };
}

// ---------------------------------------------------------------------------------------------
// One tunnel, start to end

interface TunnelResult {
  name: TunnelName;
  processLabel: string;
  latency: LatencyResult;
  tcp: TcpResult[];
  udp: UdpResult[];
  memory: {
    idleRssMb: number;
    /** The largest VmRSS sampled every 200 ms during the iperf3 runs. */
    loadRssMb: number;
    /** VmHWM at the end: the peak RSS over the process's life. */
    peakRssMb: number;
    gatewayLoadRssMb: number;
  };
}

async function benchmarkTunnel(name: TunnelName, options: Options): Promise<TunnelResult> {
  const lab = await step(`${name}: create the lab`, 20_000, () => createLab());
  activeLabs.add(lab);
  log(`${name}: namespaces ${lab.client}, ${lab.gateway}, ${lab.office}`);
  let tunnel: TunnelUnderTest | undefined;
  try {
    tunnel = await step(`${name}: start the tunnel`, 30_000, () =>
      name === 'strongswan'
        ? startStrongswanTunnel(lab)
        : startLupinaTunnel(lab, name === 'lupina-udp' ? 'udp' : 'raw', options.entry),
    );
    const running = tunnel;

    const latency = await step(`${name}: ping`, 30_000, () => measureLatency(lab, options.pings));
    await sleep(1000);
    const idleRssMb = readStatusField(running.clientPid, 'VmRSS') ?? Number.NaN;

    const clientMemory = new MemorySampler(running.clientPid);
    const gatewayMemory = new MemorySampler(running.gatewayPid);
    const tcpBudget = (options.seconds + 25) * 1000;
    const udpBudget = (options.udpSeconds + 25) * 1000;
    const tcp = [
      await step(`${name}: iperf3 TCP client to office`, tcpBudget, () =>
        measureTcp(lab, running, false, options.seconds),
      ),
      await step(`${name}: iperf3 TCP office to client`, tcpBudget, () =>
        measureTcp(lab, running, true, options.seconds),
      ),
    ];
    const udp = [
      await step(`${name}: iperf3 UDP ${UDP_PAYLOAD_BYTES} B at full speed`, udpBudget, () =>
        measureUdp(lab, running, 'max', options.udpSeconds),
      ),
      await step(
        `${name}: iperf3 UDP ${UDP_PAYLOAD_BYTES} B at ${UDP_FIXED_RATE_PPS} packets/s`,
        udpBudget,
        () => measureUdp(lab, running, UDP_FIXED_RATE_PPS, options.udpSeconds),
      ),
    ];
    const memory = {
      idleRssMb,
      loadRssMb: clientMemory.stop(),
      peakRssMb: readStatusField(running.clientPid, 'VmHWM') ?? Number.NaN,
      gatewayLoadRssMb: gatewayMemory.stop(),
    };
    return { name, processLabel: running.processLabel, latency, tcp, udp, memory };
  } finally {
    await step(`${name}: stop the tunnel and delete the lab`, 20_000, async () => {
      await tunnel?.stop();
      await endAllProcesses();
      await lab.destroy();
      activeLabs.delete(lab);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Report

async function describeMachine() {
  const memoryInfo = readFileSync('/proc/meminfo', 'utf8');
  const memTotal = /^MemTotal:\s+(\d+) kB/m.exec(memoryInfo);
  const cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  const version = async (command: string, args: string[]) => {
    try {
      const { stdout, stderr } = await run(command, args, { timeout: 10_000 });
      return (stdout || stderr).trim().split('\n')[0] ?? 'unknown';
    } catch {
      return 'not installed';
    }
  };
  return {
    cpu: cpuModel?.[1] ?? 'unknown',
    cores: cpus().length,
    memoryGb: memTotal ? Number(memTotal[1]) / 1024 / 1024 : totalmem() / 2 ** 30,
    kernel: release(),
    node: process.version,
    openssl: process.versions.openssl,
    strongswan: await version('dpkg-query', ['-W', '-f', '${Version}', 'strongswan-charon']),
    iperf3: await version('iperf3', ['--version']),
    loadAverage: loadavg(),
  };
}

/** One target of docs/benchmarks.md checked against one Lupina tunnel. */
interface TargetCheck {
  tunnel: TunnelName;
  target: string;
  measured: string;
  met: boolean;
}

/**
 * Checks the lab targets for each Lupina tunnel. A UDP run counts as fully accounted when no
 * loss is left unexplained (unaccounted <= 0): a negative figure means that a drop counter also
 * caught packets of other traffic, such as the iperf3 control connection.
 */
function checkTargets(tunnels: TunnelResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const strongswan = tunnels.find((tunnel) => tunnel.name === 'strongswan');
  for (const tunnel of tunnels.filter((candidate) => candidate.name !== 'strongswan')) {
    const add = (target: string, measured: string, met: boolean) =>
      checks.push({ tunnel: tunnel.name, target, measured, met });
    for (const [index, tcp] of tunnel.tcp.entries()) {
      const reference = strongswan?.tcp[index]?.mbitPerSecond;
      const referenceText =
        reference === undefined ? 'strongSwan not measured' : `strongSwan ${format(reference)}`;
      add(
        `TCP ${tcp.direction} >= 500 Mbit/s and >= strongSwan`,
        `${format(tcp.mbitPerSecond)} Mbit/s (${referenceText})`,
        tcp.mbitPerSecond >= 500 && reference !== undefined && tcp.mbitPerSecond >= reference,
      );
    }
    const full = tunnel.udp.find((udp) => udp.rate === 'max')!;
    add(
      `UDP ${UDP_PAYLOAD_BYTES} B >= ${UDP_FIXED_RATE_PPS} packets/s delivered`,
      `${format(full.deliveredPerSecond)} packets/s`,
      full.deliveredPerSecond >= UDP_FIXED_RATE_PPS,
    );
    const unaccounted = tunnel.udp.map((udp) => udp.unaccounted);
    add(
      'UDP: every loss accounted for',
      `unaccounted ${unaccounted.join(' and ')}`,
      unaccounted.every((count) => count <= 0),
    );
    add(
      'added latency median <= 0.15 ms',
      `${format(tunnel.latency.addedMedianMs, 3)} ms`,
      tunnel.latency.addedMedianMs <= 0.15,
    );
    add(
      'client RSS idle <= 80 MB',
      `${format(tunnel.memory.idleRssMb, 1)} MB`,
      tunnel.memory.idleRssMb <= 80,
    );
    add(
      'client RSS under load <= 120 MB',
      `${format(tunnel.memory.loadRssMb, 1)} MB`,
      tunnel.memory.loadRssMb <= 120,
    );
  }
  return checks;
}

interface Report {
  machine: Awaited<ReturnType<typeof describeMachine>>;
  loadAverageAfter: number[];
  options: Options;
  tunnels: TunnelResult[];
  failures: { name: TunnelName; error: string }[];
  targets: TargetCheck[];
  durationSeconds: number;
}

const format = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toFixed(digits) : 'n/a';

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const [index, row] of rows.entries()) {
    console.log(
      row
        .map((cell, column) =>
          column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
        )
        .join('  '),
    );
    if (index === 0) {
      console.log(widths.map((width) => '-'.repeat(width)).join('  '));
    }
  }
}

/** Formats two figures as "a / b". */
const pair = (first: number, second: number, digits = 0) =>
  `${format(first, digits)} / ${format(second, digits)}`;

/** Builds the summary table: one row per figure, one column per tunnel. */
function summaryRows(tunnels: TunnelResult[]): string[][] {
  const udpAt = (tunnel: TunnelResult, rate: 'max' | number) =>
    tunnel.udp.find((udp) => udp.rate === rate)!;
  const fixed = `UDP at ${UDP_FIXED_RATE_PPS}/s`;
  const full = `UDP ${UDP_PAYLOAD_BYTES} B max`;
  const figures: [string, (tunnel: TunnelResult) => string][] = [
    ['TCP client to office (Mbit/s)', (t) => format(t.tcp[0]!.mbitPerSecond)],
    ['TCP office to client (Mbit/s)', (t) => format(t.tcp[1]!.mbitPerSecond)],
    ['TCP retransmits up / down', (t) => pair(t.tcp[0]!.retransmits, t.tcp[1]!.retransmits)],
    [
      'client process CPU up / down (%)',
      (t) => pair(t.tcp[0]!.clientCpuPercent, t.tcp[1]!.clientCpuPercent),
    ],
    [
      'gateway process CPU up / down (%)',
      (t) => pair(t.tcp[0]!.gatewayCpuPercent, t.tcp[1]!.gatewayCpuPercent),
    ],
    [`${full}: sent (packets/s)`, (t) => format(udpAt(t, 'max').sentPerSecond)],
    [`${full}: delivered (packets/s)`, (t) => format(udpAt(t, 'max').deliveredPerSecond)],
    [`${full}: lost / unaccounted`, (t) => pair(udpAt(t, 'max').lost, udpAt(t, 'max').unaccounted)],
    [
      `${fixed}: delivered (packets/s)`,
      (t) => format(udpAt(t, UDP_FIXED_RATE_PPS).deliveredPerSecond),
    ],
    [
      `${fixed}: lost / unaccounted`,
      (t) => pair(udpAt(t, UDP_FIXED_RATE_PPS).lost, udpAt(t, UDP_FIXED_RATE_PPS).unaccounted),
    ],
    [
      'ping plain to gateway median / p90 (ms)',
      (t) => pair(t.latency.plain.medianMs, t.latency.plain.p90Ms, 3),
    ],
    [
      'ping tunnel to gateway median / p90 (ms)',
      (t) => pair(t.latency.tunnelGateway.medianMs, t.latency.tunnelGateway.p90Ms, 3),
    ],
    [
      'ping tunnel to office median / p90 (ms)',
      (t) => pair(t.latency.tunnelOffice.medianMs, t.latency.tunnelOffice.p90Ms, 3),
    ],
    [
      'added latency median / p90 (ms)',
      (t) => pair(t.latency.addedMedianMs, t.latency.addedP90Ms, 3),
    ],
    ['client RSS idle (MB)', (t) => format(t.memory.idleRssMb, 1)],
    ['client RSS under load, max sampled (MB)', (t) => format(t.memory.loadRssMb, 1)],
    ['client RSS peak, VmHWM (MB)', (t) => format(t.memory.peakRssMb, 1)],
    ['gateway RSS under load (MB)', (t) => format(t.memory.gatewayLoadRssMb, 1)],
  ];
  return [
    ['measure', ...tunnels.map((tunnel) => tunnel.name)],
    ...figures.map(([label, pick]) => [label, ...tunnels.map(pick)]),
  ];
}

function printReport(report: Report): void {
  const { machine, tunnels } = report;
  const loads = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ');
  console.log(
    `${machine.cpu}, ${machine.cores} cores, ${format(machine.memoryGb, 1)} GB; ` +
      `Linux ${machine.kernel}; Node ${machine.node}; OpenSSL ${machine.openssl}; ` +
      `strongSwan ${machine.strongswan}; ${machine.iperf3}`,
  );
  console.log(
    `load average before: ${loads(machine.loadAverage)}, ` +
      `after: ${loads(report.loadAverageAfter)}; run took ${format(report.durationSeconds)} s\n`,
  );

  printTable(summaryRows(tunnels));
  const processes = tunnels.map((tunnel) => `${tunnel.name} = ${tunnel.processLabel}`);
  console.log(`\nRSS and CPU are of the tunnel process: ${processes.join('; ')}.`);

  for (const tunnel of tunnels) {
    for (const udp of tunnel.udp) {
      const rate = udp.rate === 'max' ? 'full speed' : `${udp.rate} packets/s`;
      console.log(
        `\n${tunnel.name}: UDP ${UDP_PAYLOAD_BYTES} B at ${rate} ` +
          `for ${format(udp.seconds, 1)} s: iperf3 sent ${udp.sent}, ` +
          `received ${udp.received}, lost ${udp.lost}, ` +
          `counted drops ${udp.accounted}, unaccounted ${udp.unaccounted}`,
      );
      for (const stage of udp.ledger) {
        const drops = Object.entries(stage.drops)
          .filter(([, count]) => count !== 0)
          .map(([name, count]) => `${name} ${count}`)
          .join(', ');
        console.log(
          `  ${stage.stage}: ${stage.packets ?? '-'}${drops === '' ? '' : `; drops: ${drops}`}`,
        );
      }
    }
  }
  console.log('\ntargets:');
  for (const check of report.targets) {
    console.log(
      `  ${check.met ? 'met    ' : 'NOT met'}  ${check.tunnel}: ${check.target}: ${check.measured}`,
    );
  }
  for (const failure of report.failures) {
    console.log(`\n${failure.name} failed: ${failure.error}`);
  }
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  if (!isRoot()) {
    throw new Error('bench:lab needs root to create network namespaces; run it with sudo');
  }
  const started = Date.now();
  const deadline = setTimeout(() => {
    log(`the run exceeded ${RUN_DEADLINE_MS / 1000} s; ending its processes and deleting its labs`);
    void abortRun(2);
  }, RUN_DEADLINE_MS);

  const machine = await describeMachine();
  if (options.entry === 'dist' && !existsSync(LUPINA_DIST)) {
    throw new Error(`${LUPINA_DIST} not found; run npm run build or use --entry bin`);
  }
  const tunnels: TunnelResult[] = [];
  const failures: Report['failures'] = [];
  for (const name of options.only) {
    if (name === 'strongswan' && !existsSync(CHARON)) {
      failures.push({
        name,
        error: `${CHARON} not found; install strongswan-charon and strongswan-swanctl`,
      });
      continue;
    }
    try {
      tunnels.push(await benchmarkTunnel(name, options));
    } catch (error) {
      failures.push({ name, error: error instanceof Error ? error.message : String(error) });
      log(`${name} failed: ${String(error)}`);
    }
  }
  clearTimeout(deadline);

  const report: Report = {
    machine,
    loadAverageAfter: loadavg(),
    options,
    tunnels,
    failures,
    targets: checkTargets(tunnels),
    durationSeconds: (Date.now() - started) / 1000,
  };
  if (options.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    printReport(report);
  }
  process.exitCode = failures.length === 0 ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: ending the processes and deleting the labs this run started`);
    void abortRun(130);
  });
}

await main();
