/**
 * A road-warrior lab in three network namespaces, with documentation addresses only:
 *
 *   client 198.51.100.10 --veth-- 198.51.100.1 gateway 203.0.113.1 --veth-- 203.0.113.5 office
 *
 * The client and the gateway also have IPv6 addresses on the outer link (2001:db8:100::10 and
 * ::1) and the office network has 2001:db8:300::/64. The gateway forwards between its links.
 * `startLupina` runs `lupina connect` inside a namespace with its own config and runtime
 * directories, and `lupinaStatus` reads its control socket.
 */

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LUPINA = join(PROJECT_ROOT, 'bin', 'lupina.js');

export const LAB = {
  client: { outer: '198.51.100.10', outer6: '2001:db8:100::10', inner: '192.0.2.200' },
  gateway: { outer: '198.51.100.1', outer6: '2001:db8:100::1', office: '203.0.113.1', office6: '2001:db8:300::1' },
  office: { address: '203.0.113.5', address6: '2001:db8:300::5', network: '203.0.113.0/24' },
} as const;

export interface Lab {
  client: string;
  gateway: string;
  office: string;
  directory: string;
  destroy(): Promise<void>;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function ip(namespace: string | null, ...args: string[]): void {
  const prefix = namespace === null ? [] : ['-n', namespace];
  execFileSync('ip', [...prefix, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function createNamespace(role: string): string {
  const name = `lupina-test-${role}-${randomBytes(3).toString('hex')}`;
  ip(null, 'netns', 'add', name);
  ip(name, 'link', 'set', 'lo', 'up');
  return name;
}

/** Connects two namespaces with a veth pair whose ends are named `firstName` and `secondName`. */
function link(first: string, firstName: string, second: string, secondName: string): void {
  const temporary = `lt${randomBytes(4).toString('hex')}`;
  ip(null, 'link', 'add', temporary, 'type', 'veth', 'peer', 'name', `${temporary}p`);
  ip(null, 'link', 'set', temporary, 'netns', first);
  ip(null, 'link', 'set', `${temporary}p`, 'netns', second);
  ip(first, 'link', 'set', temporary, 'name', firstName);
  ip(second, 'link', 'set', `${temporary}p`, 'name', secondName);
  ip(first, 'link', 'set', firstName, 'up');
  ip(second, 'link', 'set', secondName, 'up');
}

/** Builds the three namespaces; the caller must `destroy` the lab. */
export async function createLab(): Promise<Lab> {
  const client = createNamespace('client');
  const gateway = createNamespace('gateway');
  const office = createNamespace('office');
  const directory = await mkdtemp(join(tmpdir(), 'lupina-lab-'));
  try {
    link(client, 'wan0', gateway, 'wan0');
    link(gateway, 'lan0', office, 'lan0');
    for (const [namespace, sysctl] of [[gateway, 'net.ipv4.ip_forward=1'], [gateway, 'net.ipv6.conf.all.forwarding=1'],
      [client, 'net.ipv6.conf.all.accept_dad=0'], [gateway, 'net.ipv6.conf.all.accept_dad=0'], [office, 'net.ipv6.conf.all.accept_dad=0']] as const) {
      execFileSync('ip', ['netns', 'exec', namespace, 'sysctl', '-qw', sysctl]);
    }
    ip(client, 'address', 'add', `${LAB.client.outer}/24`, 'dev', 'wan0');
    ip(client, 'address', 'add', `${LAB.client.outer6}/64`, 'dev', 'wan0', 'nodad');
    ip(gateway, 'address', 'add', `${LAB.gateway.outer}/24`, 'dev', 'wan0');
    ip(gateway, 'address', 'add', `${LAB.gateway.outer6}/64`, 'dev', 'wan0', 'nodad');
    ip(gateway, 'address', 'add', `${LAB.gateway.office}/24`, 'dev', 'lan0');
    ip(gateway, 'address', 'add', `${LAB.gateway.office6}/64`, 'dev', 'lan0', 'nodad');
    ip(office, 'address', 'add', `${LAB.office.address}/24`, 'dev', 'lan0');
    ip(office, 'address', 'add', `${LAB.office.address6}/64`, 'dev', 'lan0', 'nodad');
    ip(office, 'route', 'add', 'default', 'via', LAB.gateway.office);
    ip(office, '-6', 'route', 'add', 'default', 'via', LAB.gateway.office6);
  } catch (error) {
    for (const namespace of [client, gateway, office]) {
      ip(null, 'netns', 'delete', namespace);
    }
    throw error;
  }

  return {
    client,
    gateway,
    office,
    directory,
    async destroy() {
      for (const namespace of [client, gateway, office]) {
        try {
          ip(null, 'netns', 'delete', namespace);
        } catch {
          // already gone
        }
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Runs a command inside a namespace and returns its standard output. */
export async function runIn(namespace: string, command: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await run('ip', ['netns', 'exec', namespace, command, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

export interface LupinaProcess {
  readonly child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** Resolves when a line containing `connected` appears; rejects if the process exits first. */
  connected: Promise<void>;
  /** Resolves with the exit code when the process ends by itself. */
  exit: Promise<number | null>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
  environment: NodeJS.ProcessEnv;
}

/**
 * Returns the environment that gives one lupina instance its own directories and its own
 * resolv.conf, so that DNS servers from the gateway never reach the host's /etc/resolv.conf or
 * systemd-resolved. Creates that resolv.conf, which must exist to be backed up, unless an
 * earlier run of the same instance left one.
 */
export function lupinaEnvironment(directory: string, name: string): NodeJS.ProcessEnv {
  const instance = join(directory, name);
  const resolvConf = join(instance, 'resolv.conf');
  mkdirSync(instance, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(resolvConf, '# resolv.conf of a Lupina test instance, not of the host\n', { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw error;
    }
  }
  return {
    ...process.env,
    LUPINA_CONFIG_DIR: join(instance, 'config'),
    LUPINA_RUNTIME_DIR: join(instance, 'run'),
    LUPINA_RESOLV_CONF: resolvConf,
  };
}

/** Writes a profile file into the lab directory and returns its path. */
export async function writeProfile(lab: Lab, name: string, text: string): Promise<string> {
  const path = join(lab.directory, name);
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

/**
 * Starts `lupina connect PROFILE` inside a namespace. `overrides` replaces variables of
 * `lupinaEnvironment`, such as LUPINA_RESOLV_CONF for a test that reads the file. A change to
 * `environment` of the result after the start does not reach the running process.
 */
export function startLupina(
  namespace: string,
  directory: string,
  name: string,
  profile: string,
  extraArguments: string[] = [],
  overrides: NodeJS.ProcessEnv = {},
): LupinaProcess {
  const environment = { ...lupinaEnvironment(directory, name), ...overrides };
  if (!environment['LUPINA_RESOLV_CONF']) {
    throw new Error(`startLupina: LUPINA_RESOLV_CONF is empty for instance "${name}". Name a file in the test directory, ` +
      'so that lupina cannot rewrite the host\'s /etc/resolv.conf');
  }
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, LUPINA, 'connect', profile, ...extraArguments], {
    cwd: PROJECT_ROOT,
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const connected = new Promise<void>((resolve, reject) => {
    const check = (chunk: string) => {
      output += chunk;
      if (/: connected$/m.test(output)) {
        resolve();
      }
    };
    child.stdout!.setEncoding('utf8').on('data', check);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    void exited.then((code) => reject(new Error(`lupina exited with ${code} before connecting:\n${output}`)));
  });
  connected.catch(() => undefined);
  return {
    child,
    output: () => output,
    connected,
    environment,
    exit: exited,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
      }
      return exited;
    },
  };
}

/** Runs `lupina status --json` against an instance's control socket, inside its namespace. */
export async function lupinaStatus(namespace: string, environment: NodeJS.ProcessEnv): Promise<LupinaStatusJson> {
  const { stdout } = await run('ip', ['netns', 'exec', namespace, process.execPath, LUPINA, 'status', '--json'], {
    cwd: PROJECT_ROOT, env: environment, timeout: 30_000,
  });
  return JSON.parse(stdout) as LupinaStatusJson;
}

export interface LupinaStatusJson {
  state: { status: string; reason?: string };
  device: string | null;
  mtu: number | null;
  sas: {
    spi: string;
    direction: 'in' | 'out';
    mode: string;
    transform: string;
    packets: number;
    bytes: number;
    seq: number;
    drops: Record<string, number>;
  }[];
}
