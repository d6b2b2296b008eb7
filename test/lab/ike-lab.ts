/**
 * Shared set-up for the IKEv2 lab tests: a strongSwan gateway (see strongswan.ts) with an office
 * namespace behind it, swanctl.conf texts for the gateway and for the `lupina connect` profile,
 * a test PKI made with strongSwan's `pki`, iperf3 runs and a reader of the full controller
 * status. Addresses: gateway 192.0.2.1, client 192.0.2.10, office host 203.0.113.5, virtual IPs
 * from 198.51.100.16/28.
 */

import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { callControlSocket } from '../../main/controller/control-server.js';
import type { ControllerStatus } from '../../main/controller/controller.js';
import { startLupina, type LupinaProcess } from './lab.js';
import {
  GATEWAY_ADDRESS,
  startStrongswanGateway,
  type GatewayConfig,
  type StrongswanGateway,
} from './strongswan.js';

const run = promisify(execFile);

export const OFFICE_HOST = '203.0.113.5';
const OFFICE_GATEWAY = '203.0.113.1';
const POOL = '198.51.100.16/28';

export const labAvailable =
  process.getuid?.() === 0 &&
  existsSync('/usr/lib/ipsec/charon') &&
  existsSync('/usr/sbin/swanctl') &&
  existsSync('/usr/bin/pki') &&
  existsSync('/usr/bin/iperf3');
export const labSkip = labAvailable ? false : 'needs root, charon, swanctl, pki and iperf3';

export type Authentication =
  | { method: 'psk'; secret: string }
  | { method: 'pubkey'; certificate: string; caCertificate: string; privateKey: string };

export interface GatewayOptions {
  ikeProposals: string;
  espProposals: string;
  /** PSK, or the file names under the swanctl folders of the gateway's certificate. */
  auth: { method: 'psk'; secret: string } | { method: 'pubkey' };
  /** Extra lines in the connection section, such as `dpd_delay = 1s`. */
  connection?: string;
  /** Extra lines in the CHILD_SA section, such as `rekey_time = 5s`. */
  child?: string;
}

/** Returns the gateway's swanctl.conf: connection `rw`, CHILD_SA `office`, pool `pool4`. */
export function gatewayConf(options: GatewayOptions): string {
  const psk = options.auth.method === 'psk';
  const secrets = psk
    ? `secrets {
  ike-client {
    id-gw = gw.example.org
    id-client = client.example.org
    secret = "${(options.auth as { secret: string }).secret}"
  }
}`
    : '';
  return `
connections {
  rw {
    version = 2
    proposals = ${options.ikeProposals}
    local_addrs = ${GATEWAY_ADDRESS}
    pools = pool4
    fragmentation = yes
    ${options.connection ?? ''}
    local {
      auth = ${psk ? 'psk' : 'pubkey'}
      id = gw.example.org
      ${psk ? '' : 'certs = gw.pem'}
    }
    remote {
      auth = ${psk ? 'psk' : 'pubkey'}
      ${psk ? 'id = client.example.org' : 'cacerts = ca.pem'}
    }
    children {
      office {
        local_ts = 203.0.113.0/24
        esp_proposals = ${options.espProposals}
        ${options.child ?? ''}
      }
    }
  }
}
pools {
  pool4 {
    addrs = ${POOL}
    dns = 203.0.113.53
  }
}
${secrets}
`;
}

export interface ClientOptions {
  ikeProposals: string;
  espProposals: string;
  auth: Authentication;
  /** Extra lines in the connection section. */
  connection?: string;
  /** Extra lines in the CHILD_SA section. */
  child?: string;
}

/** Returns the road-warrior profile that `lupina connect` reads, in swanctl.conf syntax. */
export function clientConf(options: ClientOptions): string {
  const { auth } = options;
  const local =
    auth.method === 'psk'
      ? 'auth = psk\n      id = client.example.org'
      : `auth = pubkey\n      id = client@example.org\n      certs = ${auth.certificate}`;
  const remote =
    auth.method === 'psk'
      ? 'auth = psk\n      id = gw.example.org'
      : `auth = pubkey\n      id = gw.example.org\n      cacerts = ${auth.caCertificate}`;
  const secrets =
    auth.method === 'psk'
      ? `ike-office {\n    id = gw.example.org\n    secret = "${auth.secret}"\n  }`
      : `private-client {\n    file = ${auth.privateKey}\n  }`;
  return `
connections {
  office {
    remote_addrs = ${GATEWAY_ADDRESS}
    vips = 0.0.0.0
    proposals = ${options.ikeProposals}
    ${options.connection ?? ''}
    local {
      ${local}
    }
    remote {
      ${remote}
    }
    children {
      office {
        remote_ts = 203.0.113.0/24
        esp_proposals = ${options.espProposals}
        ${options.child ?? ''}
      }
    }
  }
}
secrets {
  ${secrets}
}
`;
}

/** Adds an office namespace behind the gateway: 203.0.113.5, routed back through 203.0.113.1. */
async function addOffice(gateway: StrongswanGateway): Promise<string> {
  const office = `${gateway.namespace}-o`;
  const veth = `lof${randomBytes(3).toString('hex')}`;
  const steps = [
    ['netns', 'add', office],
    [
      'link', 'add', veth, 'netns', gateway.namespace, 'type', 'veth',
      'peer', 'name', `${veth}p`, 'netns', office,
    ],
    ['-n', gateway.namespace, 'address', 'add', `${OFFICE_GATEWAY}/24`, 'dev', veth],
    ['-n', gateway.namespace, 'link', 'set', veth, 'up'],
    ['-n', office, 'address', 'add', `${OFFICE_HOST}/24`, 'dev', `${veth}p`],
    ['-n', office, 'link', 'set', `${veth}p`, 'up'],
    ['-n', office, 'link', 'set', 'lo', 'up'],
    ['-n', office, 'route', 'add', 'default', 'via', OFFICE_GATEWAY],
  ];
  for (const step of steps) {
    await run('ip', step);
  }
  await run('ip', ['netns', 'exec', gateway.namespace, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  return office;
}

export interface GatewayLab {
  gateway: StrongswanGateway;
  office: string;
  /** A temporary folder for profiles and the client's config and runtime folders. */
  directory: string;
}

/** Runs `body` with a gateway and an office namespace, and removes both afterwards. */
export async function withGateway(
  config: GatewayConfig,
  body: (lab: GatewayLab) => Promise<void>,
): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'lupina-ike-lab-'));
  let gateway: StrongswanGateway | undefined;
  let office: string | undefined;
  try {
    gateway = await startStrongswanGateway(config);
    office = await addOffice(gateway);
    await body({ gateway, office, directory });
  } finally {
    if (office !== undefined) {
      await run('ip', ['netns', 'delete', office]).catch(() => undefined);
    }
    await gateway?.stop();
    await rm(directory, { recursive: true, force: true });
  }
}

/** A running `lupina connect` with helpers to wait for its output and read its status. */
export class LupinaRun {
  constructor(
    readonly process: LupinaProcess,
    private readonly namespace: string,
  ) {}

  output(): string {
    return this.process.output();
  }

  /**
   * Waits until the output after character `from` matches `pattern`, and returns the match.
   * Rejects after `timeoutMs`, or when the process exits first, with the output so far.
   */
  async waitFor(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.output().slice(from));
      if (match !== null) {
        return match;
      }
      if (this.process.child.exitCode !== null || this.process.child.signalCode !== null) {
        throw new Error(`lupina exited before printing ${pattern}:\n${this.output()}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`lupina did not print ${pattern} within ${timeoutMs} ms:\n${this.output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Runs `lupina status --json` in the client namespace and returns the parsed output. */
  async statusJson(): Promise<StatusJson> {
    const result = await run(
      'ip',
      ['netns', 'exec', this.namespace, process.execPath, LUPINA_BIN, 'status', '--json'],
      { env: this.process.environment, timeout: 20_000 },
    );
    return JSON.parse(result.stdout) as StatusJson;
  }

  /**
   * Returns the controller status from the control socket, which has more than `status --json`
   * prints: the connection totals and the IKE counters.
   */
  async controllerStatus(): Promise<ControllerStatus> {
    const runtime = this.process.environment['LUPINA_RUNTIME_DIR']!;
    return (await callControlSocket(join(runtime, 'lupina.sock'), 'status')) as ControllerStatus;
  }

  /** Sends SIGTERM unless the process has ended, and returns its exit code. */
  stop(): Promise<number | null> {
    return this.process.stop();
  }
}

const LUPINA_BIN = fileURLToPath(new URL('../../bin/lupina.js', import.meta.url));

export interface StatusJson {
  state: { status: string; reason?: string };
  device: string | null;
  mtu: number | null;
  sas: {
    spi: string;
    direction: 'in' | 'out';
    packets: number;
    bytes: number;
    drops: Record<string, number>;
  }[];
  counters: {
    sad: { unknownSpi: number; malformed: number; noPolicy: number };
    dataPlane: Record<string, number>;
    transport: Record<string, number>;
  } | null;
}

/** Writes `conf` (and `files` beside it) and starts `lupina connect` in the client namespace. */
export async function startConnect(
  lab: GatewayLab,
  name: string,
  conf: string,
  files: Record<string, string> = {},
): Promise<LupinaRun> {
  const folder = join(lab.directory, name);
  await run('mkdir', ['-p', folder]);
  for (const [file, content] of Object.entries(files)) {
    await writeFile(join(folder, file), content, { mode: 0o600 });
  }
  const path = join(folder, 'swanctl.conf');
  await writeFile(path, conf, { mode: 0o600 });
  const resolvConf = join(folder, 'resolv.conf');
  await writeFile(resolvConf, 'nameserver 192.0.2.53\n');
  const lupina = startLupina(lab.gateway.clientNamespace, folder, 'state', path, [], {
    LUPINA_RESOLV_CONF: resolvConf,
  });
  return new LupinaRun(lupina, lab.gateway.clientNamespace);
}

/** Runs `body` with a started client, and always stops the client afterwards. */
export async function withClient(
  lab: GatewayLab,
  name: string,
  conf: string,
  files: Record<string, string>,
  body: (client: LupinaRun) => Promise<void>,
): Promise<number | null> {
  const client = await startConnect(lab, name, conf, files);
  try {
    await body(client);
  } finally {
    await client.stop();
  }
  return client.process.exit;
}

/** Runs a command in a namespace and returns its output and exit code, killed after `timeoutMs`. */
export function runInNamespace(
  namespace: string,
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', namespace, command, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

/** Pings the office host `count` times, 0.2 s apart, and returns ping's output. */
export async function pingOffice(namespace: string, count = 5): Promise<string> {
  const result = await runInNamespace(
    namespace,
    'ping',
    ['-c', String(count), '-i', '0.2', '-W', '2', OFFICE_HOST],
    count * 2000 + 5000,
  );
  return result.stdout;
}

export interface IperfResult {
  /** iperf3's own error message, if the run failed. */
  error?: string;
  bytesSent: number;
  bytesReceived: number;
  /** Receiver throughput in bits per second. */
  bitsPerSecond: number;
  retransmits: number;
}

/**
 * Runs an iperf3 TCP test of `seconds` from `clientNamespace` to an iperf3 server in the office
 * namespace, and returns iperf3's own figures.
 */
export async function runIperf(
  clientNamespace: string,
  office: string,
  seconds: number,
): Promise<IperfResult> {
  const server = spawn(
    'ip',
    ['netns', 'exec', office, 'iperf3', '--server', '--one-off', '--forceflush', '--bind', OFFICE_HOST],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`iperf3 server did not start: ${text}`)), 5000);
      server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('Server listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
      server.once('exit', () => reject(new Error(`iperf3 server exited: ${text}`)));
    });
    const result = await runInNamespace(
      clientNamespace,
      'iperf3',
      ['--client', OFFICE_HOST, '--time', String(seconds), '--json', '--connect-timeout', '3000'],
      (seconds + 20) * 1000,
    );
    const report = JSON.parse(result.stdout || '{}') as {
      error?: string;
      end?: {
        sum_sent?: { bytes: number; retransmits?: number };
        sum_received?: { bytes: number; bits_per_second: number };
      };
    };
    return {
      error: report.error ?? (result.code === 0 ? undefined : `exit code ${result.code}`),
      bytesSent: report.end?.sum_sent?.bytes ?? 0,
      bytesReceived: report.end?.sum_received?.bytes ?? 0,
      bitsPerSecond: report.end?.sum_received?.bits_per_second ?? 0,
      retransmits: report.end?.sum_sent?.retransmits ?? 0,
    };
  } finally {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL');
    }
  }
}

export interface TestPki {
  /** Temporary folder with every file; the caller removes it. */
  directory: string;
  files: Record<string, string>;
}

/**
 * Makes a CA with RSA and ECDSA gateway and client certificates, and a second CA that signed
 * none of them. Files: ca.pem, other-ca.pem, gw-rsa.pem/.key, gw-ecdsa.pem/.key,
 * client-rsa.pem/.key, client-ecdsa.pem/.key.
 */
export async function createTestPki(): Promise<TestPki> {
  const directory = await mkdtemp(join(tmpdir(), 'lupina-ike-pki-'));
  const pki = (args: string) => run('sh', ['-c', `pki ${args}`], { cwd: directory });
  const dn = (cn: string) => `"C=CH, O=Lupina Test, CN=${cn}"`;
  const issue = async (name: string, type: string, cn: string, extra: string) => {
    const size = type === 'rsa' ? 2048 : 256;
    await pki(`--gen --type ${type} --size ${size} --outform pem > ${name}.key`);
    await pki(
      `--pub --in ${name}.key | pki --issue --cacert ca.pem --cakey ca.key --lifetime 30 ` +
        `--dn ${dn(cn)} --san ${cn} ${extra} --outform pem > ${name}.pem`,
    );
  };

  await pki('--gen --type rsa --size 2048 --outform pem > ca.key');
  await pki(`--self --ca --lifetime 30 --in ca.key --dn ${dn('Lupina Test CA')} --outform pem > ca.pem`);
  await pki('--gen --type ecdsa --size 256 --outform pem > other-ca.key');
  await pki(
    `--self --ca --lifetime 30 --in other-ca.key --dn ${dn('Lupina Other CA')} ` +
      '--outform pem > other-ca.pem',
  );
  await issue('gw-rsa', 'rsa', 'gw.example.org', '--flag serverAuth');
  await issue('gw-ecdsa', 'ecdsa', 'gw.example.org', '--flag serverAuth');
  await issue('client-rsa', 'rsa', 'client@example.org', '');
  await issue('client-ecdsa', 'ecdsa', 'client@example.org', '');

  const files: Record<string, string> = {};
  for (const name of ['ca', 'other-ca', 'gw-rsa', 'gw-ecdsa', 'client-rsa', 'client-ecdsa']) {
    files[`${name}.pem`] = await readFile(join(directory, `${name}.pem`), 'utf8');
    if (name !== 'ca' && name !== 'other-ca') {
      files[`${name}.key`] = await readFile(join(directory, `${name}.key`), 'utf8');
    }
  }
  return { directory, files };
}
