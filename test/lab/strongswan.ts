/**
 * Starts a strongSwan 5.9 gateway (charon with kernel-libipsec, so no kernel ESP state) in a
 * network namespace of its own, wired by a veth pair to a second namespace for the client.
 * Addresses come from the documentation range 192.0.2.0/24: gateway 192.0.2.1, client
 * 192.0.2.10. Charon gets a private /run and its own vici socket, so several gateways and the
 * host's own strongSwan never collide. Needs root and the Debian packages strongswan-charon,
 * strongswan-swanctl, libcharon-extra-plugins and libstrongswan-standard-plugins (openssl, for the
 * ECP groups and AES-GCM).
 */

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const GATEWAY_ADDRESS = '192.0.2.1';
export const CLIENT_ADDRESS = '192.0.2.10';
const CHARON = '/usr/lib/ipsec/charon';

/** Plugins loaded explicitly: bypass-lan, forecast, farp, connmark and resolve stay off. */
const PLUGINS = [
  'random',
  'nonce',
  'openssl',
  'pem',
  'pkcs1',
  'pkcs8',
  'x509',
  'pubkey',
  'revocation',
  'constraints',
  'hmac',
  'gcm',
  'aes',
  'sha1',
  'sha2',
  'gmp',
  'kdf',
  'curve25519',
  'attr',
  'kernel-libipsec',
  'kernel-netlink',
  'socket-default',
  'vici',
].filter(
  (name) =>
    name !== 'curve25519' || existsSync('/usr/lib/ipsec/plugins/libstrongswan-curve25519.so'),
);

export interface GatewayConfig {
  /** The whole swanctl.conf. */
  swanctlConf: string;
  /** Files under the swanctl directory, such as "x509/gw.pem" or "private/gw.key". */
  files?: Record<string, string | Uint8Array>;
  /** Extra lines inside the charon { } section of strongswan.conf. */
  charonSettings?: string;
}

export interface SaListing {
  /** The raw output of `swanctl --list-sas --raw`. */
  raw: string;
  ikeSas: {
    name: string;
    /** Charon's unique id of the IKE SA, as `swanctl --terminate --ike-id` takes it. */
    uniqueId: string;
    state: string;
    spiI: string;
    spiR: string;
    remotePort: string;
    encryption: string;
    childSas: {
      name: string;
      state: string;
      spiIn: string;
      spiOut: string;
      encryption: string;
      integrity: string;
      encap: boolean;
    }[];
  }[];
}

export interface StrongswanGateway {
  namespace: string;
  clientNamespace: string;
  directory: string;
  listSas(): Promise<SaListing>;
  /** Runs swanctl against this gateway's vici socket and returns its output. */
  swanctl(args: string[]): Promise<string>;
  /** Charon's log so far. */
  log(): Promise<string>;
  /** Runs a command in the client namespace and returns its output. */
  runInClient(
    command: string,
    args: string[],
    timeoutMs?: number,
  ): Promise<{ stdout: string; stderr: string; code: number }>;
  /** Starts a command in the client namespace with piped stdio; the caller ends it. */
  spawnInClient(command: string, args: string[]): ChildProcess;
  /** Sends `signal` to charon and waits until it has exited; the namespaces stay. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts charon again after `kill`, with the same configuration, and loads it. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Fails fast when a plugin that the tests' proposals need is not installed. Without the openssl
 * plugin, charon rejects every ECP or Curve25519 KE payload with INVALID_KE_PAYLOAD naming the
 * same group, which looks like a client bug.
 */
function requirePluginFiles(): void {
  const openssl = '/usr/lib/ipsec/plugins/libstrongswan-openssl.so';
  if (!existsSync(openssl)) {
    throw new Error(`${openssl} is missing: install the Debian package libstrongswan-standard-plugins`);
  }
}

export async function startStrongswanGateway(config: GatewayConfig): Promise<StrongswanGateway> {
  requirePluginFiles();
  const id = randomBytes(4).toString('hex');
  const namespace = `lupina-test-${id}`;
  const clientNamespace = `lupina-test-${id}-c`;
  const directory = await mkdtemp(join(tmpdir(), 'lupina-swan-'));
  const vici = join(directory, 'charon.vici');
  let charon: ChildProcess | undefined;

  const stop = async () => {
    const running = charon;
    if (running !== undefined && running.exitCode === null && running.signalCode === null) {
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
      if (running.exitCode === null && running.signalCode === null) {
        running.kill('SIGKILL');
        await exited;
      }
    }
    await run('ip', ['netns', 'del', namespace]).catch(() => undefined);
    await run('ip', ['netns', 'del', clientNamespace]).catch(() => undefined);
    if (process.env.LUPINA_KEEP_LAB === undefined) {
      await rm(directory, { recursive: true, force: true });
    }
  };

  const startCharon = async () => {
    // A charon killed with SIGKILL leaves its vici socket file behind.
    await rm(vici, { force: true });
    const running = spawnCharon(namespace, directory);
    charon = running;
    let stderr = '';
    running.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await waitFor(
      () => existsSync(vici),
      10_000,
      () => `charon did not open ${vici}: ${stderr}`,
    );
    await swanctl(directory, vici, ['--load-all']);
  };

  const kill = async (signal: NodeJS.Signals) => {
    const running = charon;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) {
      return;
    }
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };

  try {
    await createNamespaces(namespace, clientNamespace, id);
    await writeConfig(directory, vici, config);
    await startCharon();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    namespace,
    clientNamespace,
    directory,
    stop,
    kill,
    restart: startCharon,
    log: () => readFile(join(directory, 'charon.log'), 'utf8').catch(() => ''),
    listSas: async () => parseListSas(await swanctl(directory, vici, ['--list-sas', '--raw'])),
    swanctl: (args) => swanctl(directory, vici, args),
    runInClient: (command, args, timeoutMs = 60_000) =>
      runCaptured('ip', ['netns', 'exec', clientNamespace, command, ...args], timeoutMs),
    spawnInClient: (command, args) =>
      spawn('ip', ['netns', 'exec', clientNamespace, command, ...args], { stdio: 'pipe' }),
  };
}

/** Starts charon in the gateway namespace with a private /run, so its pid file is its own. */
function spawnCharon(namespace: string, directory: string): ChildProcess {
  return spawn(
    'ip',
    [
      'netns',
      'exec',
      namespace,
      'unshare',
      '-m',
      'sh',
      '-c',
      `mount -t tmpfs tmpfs /run && exec ${CHARON}`,
    ],
    {
      env: { ...process.env, STRONGSWAN_CONF: join(directory, 'strongswan.conf') },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
}

async function createNamespaces(gateway: string, client: string, id: string): Promise<void> {
  const vethGateway = `lgw${id}`.slice(0, 15);
  const vethClient = `lcl${id}`.slice(0, 15);
  const steps: string[][] = [
    ['netns', 'add', gateway],
    ['netns', 'add', client],
    [
      'link',
      'add',
      vethGateway,
      'netns',
      gateway,
      'type',
      'veth',
      'peer',
      'name',
      vethClient,
      'netns',
      client,
    ],
    ['-n', gateway, 'addr', 'add', `${GATEWAY_ADDRESS}/24`, 'dev', vethGateway],
    ['-n', client, 'addr', 'add', `${CLIENT_ADDRESS}/24`, 'dev', vethClient],
    ['-n', gateway, 'link', 'set', vethGateway, 'up'],
    ['-n', client, 'link', 'set', vethClient, 'up'],
    ['-n', gateway, 'link', 'set', 'lo', 'up'],
    ['-n', client, 'link', 'set', 'lo', 'up'],
  ];
  for (const step of steps) {
    await run('ip', step);
  }
}

async function writeConfig(directory: string, vici: string, config: GatewayConfig): Promise<void> {
  const swanctlDirectory = join(directory, 'swanctl');
  for (const sub of ['x509', 'x509ca', 'private', 'rsa', 'ecdsa', 'conf.d']) {
    await mkdir(join(swanctlDirectory, sub), { recursive: true });
  }
  for (const [path, content] of Object.entries(config.files ?? {})) {
    await mkdir(dirname(join(swanctlDirectory, path)), { recursive: true });
    await writeFile(join(swanctlDirectory, path), content);
  }
  await writeFile(join(swanctlDirectory, 'swanctl.conf'), config.swanctlConf);
  await writeFile(
    join(directory, 'strongswan.conf'),
    `
charon {
  load_modular = no
  load = ${PLUGINS.join(' ')}
  port = 500
  port_nat_t = 4500
  install_routes = no
  install_virtual_ip = no
  retransmit_timeout = 2
  retransmit_tries = 2
  plugins {
    vici {
      socket = unix://${vici}
    }
    kernel-libipsec {
      allow_peer_ts = yes
    }
  }
  filelog {
    lupina {
      path = ${join(directory, 'charon.log')}
      default = 1
      ike = 4
      chd = 4
      cfg = 2
      net = 2
      enc = 1
      flush_line = yes
    }
  }
  syslog {
    daemon {
      default = -1
    }
  }
  ${config.charonSettings ?? ''}
}
swanctl {
  load = pem pkcs1 pkcs8 x509 openssl
}
`,
  );
}

async function swanctl(directory: string, vici: string, args: string[]): Promise<string> {
  const result = await runCaptured('swanctl', [...args, '--uri', `unix://${vici}`], 20_000, {
    ...process.env,
    STRONGSWAN_CONF: join(directory, 'strongswan.conf'),
    SWANCTL_DIR: join(directory, 'swanctl'),
  });
  if (result.code !== 0) {
    throw new Error(
      `swanctl ${args.join(' ')} failed (${result.code}): ${result.stdout}${result.stderr}`,
    );
  }
  return result.stdout;
}

function runCaptured(
  command: string,
  args: string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code: code ?? -1 });
    });
  });
}

async function waitFor(
  check: () => boolean,
  timeoutMs: number,
  message: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(message());
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Parses `swanctl --list-sas --raw`, whose vici messages print as nested "key=value" and
 * "name {…}" groups on one line per SA.
 */
export function parseListSas(raw: string): SaListing {
  const listing: SaListing = { raw, ikeSas: [] };
  for (const line of raw.split('\n')) {
    const match = /^list-sa event \{(.*)\}\s*$/.exec(line.trim());
    if (match === null) {
      continue;
    }
    const tree = parseViciTree(match[1]!);
    for (const [name, value] of Object.entries(tree)) {
      if (typeof value !== 'object' || Array.isArray(value)) {
        continue;
      }
      const ike = value as Record<string, unknown>;
      const children = (ike['child-sas'] ?? {}) as Record<string, Record<string, string>>;
      listing.ikeSas.push({
        name,
        uniqueId: String(ike.uniqueid ?? ''),
        state: String(ike.state ?? ''),
        spiI: String(ike['initiator-spi'] ?? ''),
        spiR: String(ike['responder-spi'] ?? ''),
        remotePort: String(ike['remote-port'] ?? ''),
        encryption: `${String(ike['encr-alg'] ?? '')}/${String(ike['encr-keysize'] ?? '')}`,
        childSas: Object.values(children).map((child) => ({
          name: String(child.name ?? ''),
          state: String(child.state ?? ''),
          spiIn: String(child['spi-in'] ?? ''),
          spiOut: String(child['spi-out'] ?? ''),
          encryption: `${String(child['encr-alg'] ?? '')}/${String(child['encr-keysize'] ?? '')}`,
          integrity: String(child['integ-alg'] ?? ''),
          encap: child.encap === 'yes',
        })),
      });
    }
  }
  return listing;
}

type ViciValue = string | string[] | { [key: string]: ViciValue };

/** Parses "a=1 b=[x y] c {d=2}" into nested objects. */
function parseViciTree(text: string): Record<string, ViciValue> {
  let position = 0;
  const parseSection = (): Record<string, ViciValue> => {
    const section: Record<string, ViciValue> = {};
    for (;;) {
      while (text[position] === ' ') {
        position++;
      }
      if (position >= text.length || text[position] === '}') {
        position++;
        return section;
      }
      const key = /^[^=\s{}[\]]+/.exec(text.slice(position))?.[0] ?? '';
      position += key.length;
      while (text[position] === ' ') {
        position++;
      }
      if (text[position] === '=') {
        position++;
        if (text[position] === '[') {
          const end = text.indexOf(']', position);
          section[key] = text
            .slice(position + 1, end)
            .trim()
            .split(/\s+/)
            .filter(Boolean);
          position = end + 1;
        } else {
          const value = /^[^\s}]*/.exec(text.slice(position))?.[0] ?? '';
          section[key] = value;
          position += value.length;
        }
      } else if (text[position] === '{') {
        position++;
        section[key] = parseSection();
      } else {
        position++;
      }
    }
  };
  return parseSection();
}

export interface StrongswanClient {
  /** Runs swanctl against this charon's vici socket and returns its output. */
  swanctl(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts charon with kernel-libipsec as a road-warrior client in an existing namespace, with the
 * virtual IP and routes installed on its TUN device, and loads `config` without initiating.
 */
export async function startStrongswanClient(
  namespace: string,
  config: GatewayConfig,
): Promise<StrongswanClient> {
  requirePluginFiles();
  const directory = await mkdtemp(join(tmpdir(), 'lupina-swan-client-'));
  const vici = join(directory, 'charon.vici');
  const settings = `install_routes = yes\n  install_virtual_ip = yes\n  ${config.charonSettings ?? ''}`;
  await writeConfig(directory, vici, { ...config, charonSettings: settings });
  const charon = spawnCharon(namespace, directory);
  let stderr = '';
  charon.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const stop = async () => {
    if (charon.exitCode === null && charon.signalCode === null) {
      const exited = new Promise((resolve) => charon.once('exit', resolve));
      charon.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
      if (charon.exitCode === null && charon.signalCode === null) {
        charon.kill('SIGKILL');
        await exited;
      }
    }
    await rm(directory, { recursive: true, force: true });
  };
  try {
    await waitFor(() => existsSync(vici), 10_000, () => `charon did not open ${vici}: ${stderr}`);
    await swanctl(directory, vici, ['--load-all']);
  } catch (error) {
    await stop();
    throw error;
  }
  return { swanctl: (args) => swanctl(directory, vici, args), stop };
}
