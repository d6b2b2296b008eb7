/**
 * The app's end of the privileged helper: starts it (through pkexec, or directly as root), sends
 * requests as JSON lines and matches the responses by id. Closing the client closes the
 * helper's stdin, which makes the helper revert its changes and exit.
 */

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

import type { ScopedLog } from '../controller/log.js';
import type { TunnelNetworkSettings } from '../net/network-config.js';
import { HELPER_PROTOCOL_VERSION, type HelperResponse, type HelperValues } from './helper-protocol.js';

export interface HelperLaunch {
  command: string;
  args: string[];
}

/** Time for pkexec's password dialog and the helper's start, in milliseconds. */
const START_TIMEOUT_MS = 120_000;
/** Time for one request; applying many routes takes a few `ip` commands each. */
const REQUEST_TIMEOUT_MS = 60_000;
/** pkexec's exit codes when the user dismissed the dialog (126) or was not authorized (127). */
const PKEXEC_DISMISSED = 126;
const PKEXEC_NOT_AUTHORIZED = 127;

export class HelperError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'HelperError';
  }
}

/**
 * Returns how to start the helper: `helperCommand` directly when the app runs as root, and
 * through pkexec otherwise, which asks for an administrator's password under the polkit action
 * that assets/org.lupina.helper.policy defines for the installed helper path.
 */
export function helperLaunch(helperCommand: string[], isRoot: boolean, pkexec = 'pkexec'): HelperLaunch {
  const [command, ...args] = helperCommand;
  if (command === undefined) {
    throw new HelperError('invalid', 'the helper command is empty');
  }
  return isRoot ? { command, args } : { command: pkexec, args: [command, ...args] };
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class HelperClient {
  private child: ChildProcessWithoutNullStreams | null = null;
  private starting: Promise<void> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly launch: HelperLaunch, private readonly log: ScopedLog) {}

  /** Starts the helper once; later calls wait for the same start. */
  start(): Promise<void> {
    this.starting ??= this.spawnHelper().catch((error: unknown) => {
      this.starting = null;
      throw error;
    });
    return this.starting;
  }

  async createTun(): Promise<string> {
    return (await this.request('createTun', {}) as HelperValues['createTun']).device;
  }

  async applyNetwork(settings: TunnelNetworkSettings): Promise<void> {
    await this.request('applyNetwork', { settings });
  }

  async revertNetwork(device: string): Promise<void> {
    await this.request('revertNetwork', { device });
  }

  async deleteTun(device: string): Promise<void> {
    await this.request('deleteTun', { device });
  }

  /** Closes stdin, which makes the helper undo its changes and exit; resolves once it exited. */
  async close(): Promise<void> {
    const child = this.child;
    this.child = null;
    this.starting = null;
    if (!child || child.exitCode !== null) {
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGTERM'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  private async spawnHelper(): Promise<void> {
    this.log.info(`starting the privileged helper: ${this.launch.command} ${this.launch.args.join(' ')}`);
    const child = spawn(this.launch.command, this.launch.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;

    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => this.receive(line));
    createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
      const level = /^(error|warn|info) helper: /.exec(line)?.[1];
      const message = line.replace(/^(error|warn|info) helper: /, '');
      if (level === 'error') {
        this.log.error(`helper: ${message}`);
      } else if (level === 'warn') {
        this.log.warn(`helper: ${message}`);
      } else {
        this.log.debug(`helper: ${message}`);
      }
    });
    child.on('error', (error) => this.failAll(new HelperError('spawn', `the privileged helper could not start: ${error.message}`)));
    child.on('exit', (code) => {
      if (this.child === child) {
        this.child = null;
        this.starting = null;
      }
      this.failAll(new HelperError('exited', exitMessage(code)));
    });

    const hello = await this.request('hello', {}, START_TIMEOUT_MS) as HelperValues['hello'];
    if (hello.version !== HELPER_PROTOCOL_VERSION) {
      await this.close();
      throw new HelperError('version', `the privileged helper speaks protocol ${hello.version}, the app ${HELPER_PROTOCOL_VERSION}; ` +
        'reinstall Lupina so both come from the same version');
    }
    this.log.info(`privileged helper ready; its devices belong to user ${hello.owner}`);
  }

  private async request(op: string, fields: object, timeoutMs = REQUEST_TIMEOUT_MS): Promise<unknown> {
    if (op !== 'hello') {
      await this.start();
    }
    const child = this.child;
    if (!child) {
      throw new HelperError('exited', 'the privileged helper is not running');
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HelperError('timeout', `the privileged helper did not answer "${op}" within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      child.stdin.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    });
  }

  private receive(line: string): void {
    let response: HelperResponse;
    try {
      response = JSON.parse(line) as HelperResponse;
    } catch {
      this.log.warn(`helper: unexpected output "${line.slice(0, 200)}"`);
      return;
    }
    const pending = this.pending.get(response.id);
    if (!pending) {
      this.log.warn(`helper: a response to unknown request ${response.id}`);
      return;
    }
    this.pending.delete(response.id);
    clearTimeout(pending.timer);
    if (response.ok) {
      pending.resolve(response.value);
    } else {
      pending.reject(new HelperError(response.error.code, response.error.message));
    }
  }

  private failAll(error: Error): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(error);
    }
  }
}

function exitMessage(code: number | null): string {
  if (code === PKEXEC_DISMISSED) {
    return 'the administrator password dialog was dismissed, so Lupina cannot create its network device';
  }
  if (code === PKEXEC_NOT_AUTHORIZED) {
    return 'this user is not authorized to configure the network (polkit denied the request); ask an administrator';
  }
  return `the privileged helper exited${code === null ? '' : ` with code ${code}`}`;
}
