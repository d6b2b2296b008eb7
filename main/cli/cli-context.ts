/** Shared parts of the CLI commands: the controller over the CLI's directories, errors and output helpers. */

import { callControlSocket } from '../controller/control-server.js';
import { Controller } from '../controller/controller.js';
import { Log, type LogEntry } from '../controller/log.js';
import { createSystemTunnelIo } from '../net/system-tunnel-io.js';
import type { ImportIssue } from '../profile/import-result.js';
import { FileSecretStore } from '../profile/secret-store.js';
import { ProfileStore } from '../profile/profile-store.js';
import { cliPaths } from './paths.js';
import { escapeControlCharacters } from './terminal-text.js';

/** A failure whose message is ready for the user; the command exits with status 1. */
export class CliError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliError';
  }
}

export function createController(log: Log): Controller {
  const paths = cliPaths();
  return new Controller({
    profiles: new ProfileStore(paths.profiles),
    secrets: new FileSecretStore(paths.secrets),
    io: createSystemTunnelIo({ journalDirectory: paths.journals, log: log.scope('network') }),
    log,
    profilesInUseElsewhere: () => profileOfRunningConnect(paths.socket),
  });
}

/**
 * Returns the id of the profile that a running `lupina connect` with the same runtime directory
 * uses, from its control socket. No socket, or no reply, means none.
 */
async function profileOfRunningConnect(socket: string): Promise<string[]> {
  try {
    const status = await callControlSocket(socket, 'status') as { state?: { profileId?: unknown } };
    const id = status.state?.profileId;
    return typeof id === 'string' ? [id] : [];
  } catch {
    return [];
  }
}

/** Returns a log that prints warnings and errors to stderr, for commands without a log of their own. */
export function createWarningLog(): Log {
  const log = new Log('warn');
  log.subscribe((entry) => process.stderr.write(`lupina: ${entry.level === 'warn' ? 'warning' : entry.level}: ${escapeControlCharacters(entry.message)}\n`));
  return log;
}

/** Returns a log that prints each entry to stdout: life-cycle steps, and with `verbose` also debug detail. */
export function createConsoleLog(verbose: boolean): Log {
  const log = new Log(verbose ? 'debug' : 'info');
  log.subscribe((entry) => process.stdout.write(`${formatLogEntry(entry)}\n`));
  return log;
}

export function formatLogEntry(entry: LogEntry): string {
  return `${entry.time} ${entry.level} ${escapeControlCharacters(entry.source)}: ${escapeControlCharacters(entry.message)}`;
}

/** Prints import errors or warnings to stderr, one a line, with the part of the file they concern. */
export function printIssues(kind: 'error' | 'warning', issues: ImportIssue[]): void {
  for (const issue of issues) {
    const value = issue.value === undefined ? '' : ` (value: ${issue.value})`;
    process.stderr.write(`${escapeControlCharacters(`${kind}: ${issue.path}: ${issue.message}${value}`)}\n`);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
