/**
 * The command-line client. It drives the same controller as the desktop window.
 *
 *   lupina connect PROFILE        bring a connection up; PROFILE is a saved profile's name or id,
 *                                 or a profile file that is connected without being saved
 *   lupina status [--json]        print the live SAs and their counters
 *   lupina import FILE [--json] [--replace] [--dry-run]
 *   lupina list                   list the saved profiles
 *   lupina delete PROFILE         delete a saved profile and its secrets
 */

import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Controller, ControllerError } from '../controller/controller.js';
import { callControlSocket, ControlServer } from '../controller/control-server.js';
import type { ControllerStatus } from '../controller/controller.js';
import { Log } from '../controller/log.js';
import { MemorySecretStore } from '../controller/memory-secret-store.js';
import { recoverStaleJournals } from '../net/network-config.js';
import { systemCommandRunner } from '../net/command-runner.js';
import { createSystemTunnelIo } from '../net/system-tunnel-io.js';
import type { ImportIssue, ImportResult, PasswordRequest } from '../profile/import-result.js';
import { FileSecretStore } from '../profile/secret-store.js';
import { ProfileStore } from '../profile/profile-store.js';
import { redactProfile, redactSecrets } from '../profile/redact.js';
import { formatStatus } from './format-status.js';
import { cliPaths } from './paths.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const USAGE = `usage:
  lupina connect PROFILE [--verbose]   connect a saved profile (name or id) or a profile file
  lupina status [--json]               show the live SAs and their counters
  lupina import FILE [--json] [--replace] [--dry-run] [--connection NAME] [--password-file FILE]
  lupina list                          list the saved profiles
  lupina delete PROFILE                delete a saved profile and its secrets`;

class UsageError extends Error {}

interface ParsedArguments {
  command: string;
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['--connection', '--password-file']);
const KNOWN_FLAGS = new Set(['--json', '--replace', '--dry-run', '--verbose', '--help', ...VALUE_FLAGS]);

function parseArguments(argv: string[]): ParsedArguments {
  const [command = '', ...rest] = argv;
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const argument = rest[i]!;
    if (!argument.startsWith('--')) {
      positional.push(argument);
      continue;
    }
    if (!KNOWN_FLAGS.has(argument)) {
      throw new UsageError(`unknown option ${argument}`);
    }
    if (VALUE_FLAGS.has(argument)) {
      const value = rest[++i];
      if (value === undefined) {
        throw new UsageError(`${argument} needs a value`);
      }
      flags.set(argument, value);
    } else {
      flags.set(argument, true);
    }
  }
  return { command, positional, flags };
}

function oneArgument(parsed: ParsedArguments, what: string): string {
  if (parsed.positional.length !== 1) {
    throw new UsageError(`lupina ${parsed.command} takes exactly one ${what}`);
  }
  return parsed.positional[0]!;
}

function createController(log: Log): Controller {
  const paths = cliPaths();
  return new Controller({
    profiles: new ProfileStore(paths.profiles),
    secrets: new FileSecretStore(paths.secrets),
    io: createSystemTunnelIo({ journalDirectory: paths.journals, log: log.scope('network') }),
    log,
  });
}

function printIssues(kind: string, issues: ImportIssue[]): void {
  for (const issue of issues) {
    const value = issue.value === undefined ? '' : ` (value: ${issue.value})`;
    process.stderr.write(`${kind}: ${issue.path}: ${issue.message}${value}\n`);
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Returns a password source: a file given on the command line, or nothing (the import then reports it). */
async function passwordSource(parsed: ParsedArguments) {
  const file = parsed.flags.get('--password-file');
  if (typeof file !== 'string') {
    return undefined;
  }
  const password = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  return async (request: PasswordRequest) => (request.attempt === 1 ? password : undefined);
}

async function importFromFile(path: string, parsed: ParsedArguments): Promise<ImportResult> {
  const bytes = await readFile(path);
  const directory = dirname(resolve(path));
  const { importProfile } = await import('../profile/import.js');
  return importProfile(bytes, {
    fileName: path,
    connectionName: typeof parsed.flags.get('--connection') === 'string' ? parsed.flags.get('--connection') as string : undefined,
    passwords: await passwordSource(parsed),
    readFile: async (reference) => readFile(resolve(directory, reference)),
  });
}

async function runImport(parsed: ParsedArguments): Promise<number> {
  const path = oneArgument(parsed, 'FILE');
  const controller = createController(new Log('warn'));
  const directory = dirname(resolve(path));
  const result = await controller.importFile(await readFile(path), {
    fileName: path,
    connectionName: typeof parsed.flags.get('--connection') === 'string' ? parsed.flags.get('--connection') as string : undefined,
    passwords: await passwordSource(parsed),
    readFile: async (reference) => readFile(resolve(directory, reference)),
    replace: parsed.flags.has('--replace'),
    dryRun: parsed.flags.has('--dry-run'),
  });

  if (parsed.flags.has('--json')) {
    const output = result.ok
      ? { ok: true, format: result.format, saved: result.saved, profile: redactProfile(result.profile), secrets: redactSecrets(result.secrets), warnings: result.warnings }
      : { ok: false, format: result.format, errors: result.errors };
    process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    return result.ok ? EXIT_OK : EXIT_FAILURE;
  }
  if (!result.ok) {
    printIssues('error', result.errors);
    process.stderr.write(`${path}: not imported (${result.errors.length} error${result.errors.length === 1 ? '' : 's'})\n`);
    return EXIT_FAILURE;
  }
  printIssues('warning', result.warnings);
  process.stdout.write(`${JSON.stringify(redactProfile(result.profile), null, 2)}\n`);
  const action = result.saved ? 'imported' : 'checked (not saved)';
  process.stderr.write(`${path}: ${action} as "${result.profile.name}" (${result.format} format)\n`);
  return EXIT_OK;
}

async function runConnect(parsed: ParsedArguments): Promise<number> {
  const target = oneArgument(parsed, 'PROFILE');
  const log = new Log(parsed.flags.has('--verbose') ? 'debug' : 'info');
  log.subscribe((entry) => process.stdout.write(`${entry.time} ${entry.level} ${entry.source}: ${entry.message}\n`));
  const controller = createController(log);
  const paths = cliPaths();

  await recoverStaleJournals(systemCommandRunner, paths.journals, log.scope('network'));

  let profile;
  let secrets;
  if (await fileExists(target)) {
    const result = await importFromFile(target, parsed);
    if (!result.ok) {
      printIssues('error', result.errors);
      return EXIT_FAILURE;
    }
    printIssues('warning', result.warnings);
    profile = result.profile;
    secrets = new MemorySecretStore(result.secrets);
  } else {
    profile = await controller.findProfile(target);
  }

  // The signal handlers come first: a SIGTERM right after "connected" must still tear down.
  let stopReason: string | null = null;
  let requestStop: (reason: string) => void = () => undefined;
  const stopRequested = new Promise<string>((resolveStop) => {
    requestStop = (reason) => {
      stopReason ??= reason;
      resolveStop(stopReason);
    };
  });
  process.once('SIGINT', () => requestStop('stopped by SIGINT'));
  process.once('SIGTERM', () => requestStop('stopped by SIGTERM'));

  const server = await ControlServer.listen(paths.socket, {
    status: () => controller.status(),
    disconnect: () => controller.disconnect('disconnected through the control socket'),
  });
  try {
    await controller.connect(profile, secrets);
  } catch (error) {
    await controller.disconnect();
    await server.close();
    process.stderr.write(`lupina: cannot connect "${profile.name}": ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILURE;
  }

  // Stay in the foreground until a signal, or until the connection ends by itself.
  controller.onState((state) => {
    if (state.status === 'disconnected') {
      requestStop(state.reason ?? 'disconnected');
    }
  });
  const reason = await stopRequested;
  await controller.disconnect(reason);
  await server.close();
  return EXIT_OK;
}

async function runStatus(parsed: ParsedArguments): Promise<number> {
  const status = await callControlSocket(cliPaths().socket, 'status') as ControllerStatus;
  if (parsed.flags.has('--json')) {
    const tunnel = status.tunnel as (ControllerStatus['tunnel'] & { ike?: unknown }) | null;
    const output = {
      state: status.state,
      device: tunnel?.device ?? null,
      mtu: tunnel?.mtu ?? null,
      sas: tunnel?.sas ?? [],
      totals: tunnel?.totals ?? null,
      counters: tunnel ? { sad: tunnel.sad, dataPlane: tunnel.dataPlane, transport: tunnel.transport } : null,
      ike: tunnel?.ike ?? null,
    };
    process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  } else {
    process.stdout.write(`${formatStatus(status)}\n`);
  }
  return EXIT_OK;
}

async function runList(): Promise<number> {
  const profiles = await createController(new Log('warn')).listProfiles();
  for (const profile of profiles) {
    const target = profile.gateway?.address ?? profile.staticSas[0]?.peerAddress ?? '';
    process.stdout.write(`${profile.id}  ${profile.kind.padEnd(6)}  ${profile.name}  ${target}\n`);
  }
  if (profiles.length === 0) {
    process.stderr.write('no saved profiles; add one with "lupina import FILE"\n');
  }
  return EXIT_OK;
}

async function runDelete(parsed: ParsedArguments): Promise<number> {
  const target = oneArgument(parsed, 'PROFILE');
  await createController(new Log('warn')).deleteProfile(target);
  process.stderr.write(`deleted "${target}"\n`);
  return EXIT_OK;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  let parsed: ParsedArguments;
  try {
    parsed = parseArguments(argv);
  } catch (error) {
    process.stderr.write(`lupina: ${(error as Error).message}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  if (parsed.command === 'help' || parsed.command === '') {
    process.stdout.write(`${USAGE}\n`);
    return parsed.command === '' ? EXIT_USAGE : EXIT_OK;
  }

  try {
    switch (parsed.command) {
      case 'connect':
        return await runConnect(parsed);
      case 'status':
        return await runStatus(parsed);
      case 'import':
        return await runImport(parsed);
      case 'list':
        return await runList();
      case 'delete':
        return await runDelete(parsed);
      default:
        throw new UsageError(`unknown command "${parsed.command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`lupina: ${error.message}\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    const prefix = error instanceof ControllerError ? '' : `${parsed.command} failed: `;
    process.stderr.write(`lupina: ${prefix}${message}\n`);
    return EXIT_FAILURE;
  }
}


