/**
 * `lupina connect PROFILE`: brings one connection up and stays in the foreground until a signal
 * (SIGINT, SIGTERM or SIGHUP), a disconnect request on the control socket, or the end of the
 * connection.
 *
 * Exit status: 0 after a stop requested once connected. 1 when the connect fails or a disconnect
 * request on the control socket aborts it. 128 + the signal number (SIGHUP 129, SIGINT 130,
 * SIGTERM 143) when a signal aborts the connect before the connection is up.
 */

import { constants } from 'node:os';
import { ControllerError, type Controller } from '../controller/controller.js';
import { ControlServer, ControlServerError } from '../controller/control-server.js';
import type { ScopedLog } from '../controller/log.js';
import { MemorySecretStore } from '../controller/memory-secret-store.js';
import { systemNetworkRunner } from '../net/netlink/netlink-ip-runner.js';
import { recoverStaleJournals } from '../net/network-config.js';
import type { Profile } from '../profile/model.js';
import type { SecretStore } from '../profile/secret-store.js';
import { oneArgument, type ParsedArguments } from './arguments.js';
import {
  CliError, createConsoleLog, createController, errorMessage, EXIT_FAILURE, EXIT_OK, printIssues,
} from './cli-context.js';
import { fileImportOptions, isRegularFile, PROFILE_FILE_EXTENSIONS, readInputFile } from './input-files.js';
import { cliPaths, type CliPaths } from './paths.js';
import { escapeControlCharacters } from './terminal-text.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

interface StopRequest {
  reason: string;
  /** The signal that requested the stop; absent for a request on the control socket. */
  signal?: StopSignal;
}

type ConnectOutcome =
  | { kind: 'connected' }
  | { kind: 'failed'; error: unknown }
  | { kind: 'stopped'; request: StopRequest };

interface ConnectTarget {
  profile: Profile;
  /** The secrets of a profile file, which is connected without being saved. */
  secrets?: SecretStore;
}

/** Returns the exit status of a connect that `signal` aborted: 128 + the signal number, as shells report it. */
export function signalExitCode(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

/**
 * Stores the first stop request, from a signal or the control socket. Signals that arrive after
 * it are reported on stderr and otherwise ignored, so that a second Ctrl-C cannot cut the
 * tear-down short.
 */
class StopRequests {
  readonly requested: Promise<StopRequest>;
  private first: StopRequest | null = null;
  private resolveRequested: (request: StopRequest) => void = () => undefined;
  private readonly listeners = new Map<StopSignal, () => void>();

  constructor() {
    this.requested = new Promise((resolve) => {
      this.resolveRequested = resolve;
    });
    for (const signal of STOP_SIGNALS) {
      const listener = () => this.receive(signal);
      process.on(signal, listener);
      this.listeners.set(signal, listener);
    }
  }

  get current(): StopRequest | null {
    return this.first;
  }

  request(request: StopRequest): void {
    if (this.first) {
      return;
    }
    this.first = request;
    this.resolveRequested(request);
  }

  dispose(): void {
    for (const [signal, listener] of this.listeners) {
      process.off(signal, listener);
    }
  }

  private receive(signal: StopSignal): void {
    if (this.first) {
      process.stderr.write(`lupina: ${signal} received while stopping; the tear-down continues. ` +
        'SIGKILL forces an exit, and the next "lupina connect" then undoes the network changes left behind\n');
      return;
    }
    this.request({ reason: `stopped by ${signal}`, signal });
  }
}

export async function runConnect(parsed: ParsedArguments): Promise<number> {
  const target = oneArgument(parsed, 'PROFILE');
  // The signal handlers come first: a signal at any later step must still tear down.
  const stops = new StopRequests();
  let finishTeardown: () => void = () => undefined;
  const tornDown = new Promise<void>((resolve) => {
    finishTeardown = resolve;
  });
  try {
    const log = createConsoleLog(parsed.flags.has('--verbose'));
    const cliLog = log.scope('cli');
    const paths = cliPaths();
    cliLog.debug(`profiles in ${paths.profiles}, secrets in ${paths.secrets}, network journals in ${paths.journals}`);
    const controller = createController(log);
    const server = await listenControlSocket(paths.socket, controller, stops, tornDown);
    cliLog.debug(`control socket listening on ${paths.socket}`);
    try {
      return await connectUntilStopped(target, parsed, { controller, log: cliLog, networkLog: log.scope('network'), paths, stops });
    } finally {
      // A disconnect request waits for this, and its response must go out before close().
      finishTeardown();
      await server.close();
    }
  } finally {
    stops.dispose();
  }
}

interface ConnectContext {
  controller: Controller;
  log: ScopedLog;
  networkLog: ScopedLog;
  paths: CliPaths;
  stops: StopRequests;
}

async function connectUntilStopped(target: string, parsed: ParsedArguments, context: ConnectContext): Promise<number> {
  const { controller, log, stops } = context;
  await recoverStaleJournals(systemNetworkRunner, context.paths.journals, context.networkLog);
  const { profile, secrets } = await resolveConnectTarget(target, parsed, controller, log);
  const name = escapeControlCharacters(profile.name);

  const outcome = await connectOrStop(controller, profile, secrets, stops);
  if (outcome.kind === 'failed') {
    await controller.disconnect();
    process.stderr.write(`lupina: cannot connect "${name}": ${escapeControlCharacters(errorMessage(outcome.error))}\n`);
    return EXIT_FAILURE;
  }
  if (outcome.kind === 'stopped') {
    const request = outcome.request;
    log.info(`connect aborted (${request.reason})`);
    // A stop lets a tunnel set-up in progress finish and then undoes it, so the exit leaves no
    // network changes. IKE exchanges still in flight are dropped with the process, without a
    // Delete to the gateway.
    await controller.disconnect(`connect aborted (${request.reason})`);
    process.stderr.write(`lupina: connect to "${name}" aborted (${request.reason})\n`);
    return request.signal ? signalExitCode(request.signal) : EXIT_FAILURE;
  }

  // Stay in the foreground until a stop request, or until the connection ends by itself.
  controller.onState((state) => {
    if (state.status === 'disconnected') {
      stops.request({ reason: state.reason ?? 'the connection ended' });
    }
  });
  const request = await stops.requested;
  await controller.disconnect(request.reason);
  return EXIT_OK;
}

/** Starts the connect and returns when it is up, has failed, or a stop was requested, whichever comes first. */
async function connectOrStop(controller: Controller, profile: Profile, secrets: SecretStore | undefined, stops: StopRequests): Promise<ConnectOutcome> {
  if (stops.current) {
    return { kind: 'stopped', request: stops.current };
  }
  const connecting = controller.connect(profile, secrets).then(
    (): ConnectOutcome => ({ kind: 'connected' }),
    (error: unknown): ConnectOutcome => ({ kind: 'failed', error }),
  );
  const stopped = stops.requested.then((request): ConnectOutcome => ({ kind: 'stopped', request }));
  return Promise.race([connecting, stopped]);
}

/**
 * Resolves PROFILE. An argument with a slash or a profile file extension is a file. Any other
 * argument is a saved profile's name or id, or else a file of that name in the working directory.
 */
async function resolveConnectTarget(target: string, parsed: ParsedArguments, controller: Controller, log: ScopedLog): Promise<ConnectTarget> {
  if (namesProfileFile(target)) {
    return readProfileFile(target, parsed, log);
  }
  let profile: Profile;
  try {
    profile = await controller.findProfile(target);
  } catch (error) {
    if (error instanceof ControllerError && error.code === 'not-found' && await isRegularFile(target)) {
      log.info(`no saved profile is named "${target}", so the file ./${target} is used`);
      return readProfileFile(target, parsed, log);
    }
    throw error;
  }
  log.info(`using the saved profile "${profile.name}" (id ${profile.id})`);
  return { profile };
}

export function namesProfileFile(argument: string): boolean {
  const lowerCase = argument.toLowerCase();
  return argument.includes('/') || PROFILE_FILE_EXTENSIONS.some((extension) => lowerCase.endsWith(extension));
}

async function readProfileFile(path: string, parsed: ParsedArguments, log: ScopedLog): Promise<ConnectTarget> {
  const bytes = await readInputFile(path, 'profile file');
  log.debug(`read ${bytes.length} bytes from the profile file ${path}`);
  const { importProfile } = await import('../profile/import.js');
  const result = await importProfile(bytes, await fileImportOptions(path, parsed));
  if (!result.ok) {
    printIssues('error', result.errors);
    const count = result.errors.length;
    throw new CliError(`profile file ${path} cannot be connected: ${count} error${count === 1 ? '' : 's'} above`);
  }
  printIssues('warning', result.warnings);
  log.info(`using the profile file ${path} (${result.format} format, not saved)`);
  return { profile: result.profile, secrets: new MemorySecretStore(result.secrets) };
}

async function listenControlSocket(path: string, controller: Controller, stops: StopRequests, tornDown: Promise<void>): Promise<ControlServer> {
  try {
    return await ControlServer.listen(path, {
      status: () => controller.status(),
      // The connect's own flow tears down, so this handler requests the stop and waits for it.
      disconnect: async () => {
        stops.request({ reason: 'disconnected through the control socket' });
        await tornDown;
      },
    });
  } catch (error) {
    if (error instanceof ControlServerError) {
      throw new CliError(controlServerMessage(error, path), { cause: error });
    }
    throw error;
  }
}

function controlServerMessage(error: ControlServerError, path: string): string {
  switch (error.code) {
    case 'in-use':
      return `another lupina connect is running (socket ${path}); stop it first, for example with Ctrl-C in its terminal`;
    case 'path-too-long':
      return `${error.message}; set LUPINA_RUNTIME_DIR to a shorter directory`;
    default:
      return error.message;
  }
}
