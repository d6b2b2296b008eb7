/**
 * The privileged helper of the desktop app. It runs as root (started through pkexec, or directly
 * when the app already runs as root) and does only what needs CAP_NET_ADMIN: it creates
 * persistent TUN devices owned by the user, applies and reverts their network settings with the
 * `ip` and `resolvectl` commands of network-config.ts, and deletes the devices. The packet engine
 * stays in the unprivileged app, which opens the device by name as its owner.
 *
 * Requests come one JSON object per line on stdin (helper-protocol.ts). When stdin closes, for
 * example because the app crashed, the helper reverts every change and deletes its devices.
 *
 *   privileged-helper [--owner UID] [--journal-dir DIR]
 *
 * Under pkexec the owner is PKEXEC_UID, the invoking user, and --owner is ignored.
 */

import { createInterface } from 'node:readline';

import { systemNetworkRunner } from '../net/netlink/netlink-ip-runner.js';
import { NetworkConfigurator, recoverStaleJournals, type NetworkLog } from '../net/network-config.js';
import { detectDnsBackend } from '../net/system-tunnel-io.js';
import { TunDevice } from '../net/tun-device.js';
import {
  HELPER_PROTOCOL_VERSION, HelperProtocolError, MAX_REQUEST_LINE_BYTES, parseHelperRequest, requestIdOf,
  type HelperRequest, type HelperResponse,
} from './helper-protocol.js';

/** Root-only directory for the network journals, so crash recovery finds them after a restart. */
const DEFAULT_JOURNAL_DIRECTORY = '/run/lupina-helper';
/** Name pattern of the helper's TUN devices; the kernel fills in the number. */
const TUN_NAME_PATTERN = 'lupina%d';
/** Devices one helper may hold at a time; the app needs one per connection. */
const MAX_DEVICES = 4;

interface HelperOptions {
  owner: number;
  journalDirectory: string;
}

const log: NetworkLog & { error(message: string): void } = {
  info: (message) => process.stderr.write(`info helper: ${message}\n`),
  warn: (message) => process.stderr.write(`warn helper: ${message}\n`),
  error: (message) => process.stderr.write(`error helper: ${message}\n`),
};

function parseOptions(argv: string[], environment: NodeJS.ProcessEnv): HelperOptions {
  let owner = process.getuid?.() ?? 0;
  let journalDirectory = DEFAULT_JOURNAL_DIRECTORY;
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    const value = argv[i + 1];
    if (argument === '--owner' && value !== undefined && /^\d{1,10}$/.test(value)) {
      owner = Number(value);
      i += 1;
    } else if (argument === '--journal-dir' && value !== undefined && value.startsWith('/')) {
      journalDirectory = value;
      i += 1;
    } else {
      throw new Error(`invalid argument "${argument}"; usage: privileged-helper [--owner UID] [--journal-dir DIR]`);
    }
  }
  // pkexec sets PKEXEC_UID to the user who ran it; that user, not an argument, owns the devices.
  const pkexecUid = environment['PKEXEC_UID'];
  if (pkexecUid !== undefined) {
    if (!/^\d{1,10}$/.test(pkexecUid)) {
      throw new Error(`invalid PKEXEC_UID "${pkexecUid}"`);
    }
    owner = Number(pkexecUid);
    journalDirectory = DEFAULT_JOURNAL_DIRECTORY;
  }
  return { owner, journalDirectory };
}

class PrivilegedHelper {
  private readonly devices = new Set<string>();
  private readonly networks = new Map<string, NetworkConfigurator>();
  // An empty environment, so no variable of the calling user can redirect the DNS changes.
  private readonly dnsBackend = detectDnsBackend({});

  constructor(private readonly options: HelperOptions) {}

  async handle(request: HelperRequest): Promise<unknown> {
    switch (request.op) {
      case 'hello':
        return { version: HELPER_PROTOCOL_VERSION, owner: this.options.owner };
      case 'createTun':
        return this.createTun();
      case 'applyNetwork': {
        const device = request.settings.device;
        await this.revertNetwork(device);
        const network = new NetworkConfigurator(systemNetworkRunner, this.options.journalDirectory, device, log, this.dnsBackend);
        this.networks.set(device, network);
        await network.apply(request.settings);
        return { device };
      }
      case 'revertNetwork':
        await this.revertNetwork(request.device);
        return { device: request.device };
      case 'deleteTun':
        await this.deleteTun(request.device);
        return { device: request.device };
    }
  }

  ownedDevices(): ReadonlySet<string> {
    return new Set(this.devices);
  }

  /** Undoes every network change and deletes every device, as on exit. */
  async cleanUp(): Promise<void> {
    for (const device of [...this.devices]) {
      try {
        await this.deleteTun(device);
      } catch (error) {
        log.error(`could not delete ${device}: ${(error as Error).message}`);
      }
    }
  }

  private createTun(): { device: string } {
    if (this.devices.size >= MAX_DEVICES) {
      throw new HelperProtocolError(`this helper already holds ${MAX_DEVICES} devices; delete one first`);
    }
    const device = TunDevice.open({ name: TUN_NAME_PATTERN, persist: true, owner: this.options.owner });
    const name = device.name;
    // The device persists without this descriptor; the app opens it again as its owner.
    device.close();
    this.devices.add(name);
    log.info(`created ${name} for user ${this.options.owner}`);
    return { device: name };
  }

  private async revertNetwork(device: string): Promise<void> {
    const network = this.networks.get(device);
    this.networks.delete(device);
    await network?.revert();
  }

  private async deleteTun(device: string): Promise<void> {
    await this.revertNetwork(device);
    try {
      TunDevice.deletePersistent(device);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENODEV') {
        throw error;
      }
    }
    this.devices.delete(device);
    log.info(`deleted ${device}`);
  }
}

function respond(response: HelperResponse): void {
  process.stdout.write(`${JSON.stringify(response)}\n`);
}

function errorCode(error: unknown): string {
  if (error instanceof HelperProtocolError) {
    return 'invalid-request';
  }
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : 'failed';
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('error helper: the privileged helper must run as root (through pkexec)\n');
    return 1;
  }
  const options = parseOptions(process.argv.slice(2), process.env);
  const helper = new PrivilegedHelper(options);
  await recoverStaleJournals(systemNetworkRunner, options.journalDirectory, log);

  let queue = Promise.resolve();
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) {
      return;
    }
    stopping = true;
    await queue;
    await helper.cleanUp();
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  process.on('SIGHUP', () => void stop(0));

  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (Buffer.byteLength(line) > MAX_REQUEST_LINE_BYTES) {
      log.error(`a request line has more than ${MAX_REQUEST_LINE_BYTES} bytes; stopping`);
      void stop(2);
      return;
    }
    // Requests run one at a time, in order, so two changes never interleave.
    queue = queue.then(async () => {
      try {
        const request = parseHelperRequest(line, helper.ownedDevices());
        respond({ id: request.id, ok: true, value: await helper.handle(request) });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log.warn(`request failed: ${message}`);
        respond({ id: requestIdOf(line), ok: false, error: { code: errorCode(error), message } });
      }
    });
  });
  lines.on('close', () => void stop(0));
  log.info(`ready (protocol ${HELPER_PROTOCOL_VERSION}, devices owned by user ${options.owner})`);
  return new Promise<number>(() => undefined);
}

main().then((code) => process.exit(code), (error: unknown) => {
  log.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
