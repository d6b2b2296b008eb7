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

import { ControllerError } from '../controller/controller.js';
import { callControlSocket, ControlClientError } from '../controller/control-server.js';
import type { ControllerStatus } from '../controller/controller.js';
import { REDACTED } from '../profile/import-result.js';
import { ProfileExistsError } from '../profile/profile-store.js';
import { redactProfile } from '../profile/redact.js';
import { noArguments, oneArgument, parseArguments, UsageError, type ParsedArguments } from './arguments.js';
import {
  CliError, createController, createWarningLog, errorMessage, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, printIssues,
} from './cli-context.js';
import { runConnect } from './connect.js';
import { formatStatus } from './format-status.js';
import { fileImportOptions, InputFileError, MAX_INPUT_FILE_BYTES, readInputFile } from './input-files.js';
import { cliPaths } from './paths.js';
import { escapeControlCharacters, formatJsonForTerminal } from './terminal-text.js';

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './cli-context.js';

const USAGE = `usage:
  lupina connect PROFILE [--verbose] [--connection NAME] [--password-file FILE]
      connect a saved profile or a profile file and stay in the foreground until SIGINT
      (Ctrl-C), SIGTERM or SIGHUP. PROFILE with a "/" or a profile file extension
      (.conf, .sswan, .mobileconfig, .nmconnection, .json, .lupina) is a file. Any other
      PROFILE is a saved profile's name or id, or else a file in the current directory.
      --verbose also prints debug log lines.
  lupina status [--json]               show the live SAs and their counters
  lupina import FILE [--json] [--replace] [--dry-run] [--connection NAME] [--password-file FILE]
      check a profile file and save it; --replace overwrites a saved profile with the
      same name or id, --dry-run checks without saving
  lupina list                          list the saved profiles
  lupina delete PROFILE                delete a saved profile and its secrets

Input files (profiles, passwords, referenced certificates) must be regular files of at most
${MAX_INPUT_FILE_BYTES} bytes (1 MiB).
Environment: LUPINA_CONFIG_DIR (profiles and secrets) and LUPINA_RUNTIME_DIR (control
socket and network journals); an empty value counts as unset.
Exit status: 0 on success, and for connect after a stop requested once connected.
1 on failure, including a connect aborted by a disconnect request on the control socket.
2 on a usage error. 128 + the signal number (129 SIGHUP, 130 SIGINT, 143 SIGTERM) when a
signal aborts a connect before the connection is up.`;

async function runImport(parsed: ParsedArguments): Promise<number> {
  const path = oneArgument(parsed, 'FILE');
  const controller = createController(createWarningLog());
  const bytes = await readInputFile(path, 'profile file');
  let result;
  try {
    result = await controller.importFile(bytes, {
      ...await fileImportOptions(path, parsed),
      replace: parsed.flags.has('--replace'),
      dryRun: parsed.flags.has('--dry-run'),
    });
  } catch (error) {
    if (error instanceof ControllerError && error.code === 'exists') {
      throw new CliError(profileExistsMessage(error), { cause: error });
    }
    throw error;
  }

  if (parsed.flags.has('--json')) {
    const output = result.ok
      ? { ok: true, format: result.format, saved: result.saved, profile: redactProfile(result.profile), secrets: redactedSecretNames(result.secrets), warnings: result.warnings }
      : { ok: false, format: result.format, errors: result.errors };
    process.stdout.write(`${formatJsonForTerminal(output)}\n`);
    return result.ok ? EXIT_OK : EXIT_FAILURE;
  }
  const shownPath = escapeControlCharacters(path);
  if (!result.ok) {
    printIssues('error', result.errors);
    process.stderr.write(`${shownPath}: not imported (${result.errors.length} error${result.errors.length === 1 ? '' : 's'})\n`);
    return EXIT_FAILURE;
  }
  printIssues('warning', result.warnings);
  process.stdout.write(`${formatJsonForTerminal(redactProfile(result.profile))}\n`);
  const action = result.saved ? 'imported' : 'checked (not saved)';
  process.stderr.write(`${shownPath}: ${action} as "${escapeControlCharacters(result.profile.name)}" (${result.format} format)\n`);
  return EXIT_OK;
}

/** Returns each secret's reference with the value hidden; even the length of a key or password is not shown. */
function redactedSecretNames(secrets: Record<string, Uint8Array>): Record<string, string> {
  return Object.fromEntries(Object.keys(secrets).map((ref) => [ref, REDACTED]));
}

/** Rewords the controller's "already exists" error with the CLI's --replace option. */
function profileExistsMessage(error: ControllerError): string {
  const cause = error.cause;
  const conflict = cause instanceof ProfileExistsError
    ? `a profile with the ${cause.field} "${cause.value}" already exists`
    : error.message.replace(/;\s*(save with \{ replace: true \}|import (it )?again with replace).*$/s, '');
  return `${conflict}; run "lupina import" again with --replace to overwrite it`;
}

async function runStatus(parsed: ParsedArguments): Promise<number> {
  noArguments(parsed);
  let status: ControllerStatus;
  try {
    status = await callControlSocket(cliPaths().socket, 'status') as ControllerStatus;
  } catch (error) {
    if (error instanceof ControlClientError && error.code === 'path-too-long') {
      throw new CliError(`${error.message}; set LUPINA_RUNTIME_DIR to a shorter directory`, { cause: error });
    }
    throw error;
  }
  if (parsed.flags.has('--json')) {
    process.stdout.write(`${formatJsonForTerminal(statusJson(status))}\n`);
  } else {
    process.stdout.write(`${formatStatus(status)}\n`);
  }
  return EXIT_OK;
}

/** Returns the fields of `status --json`; the device and MTU are null until the TUN device exists. */
function statusJson(status: ControllerStatus): unknown {
  const tunnel = status.tunnel as (ControllerStatus['tunnel'] & { ike?: unknown }) | null;
  return {
    state: status.state,
    device: tunnel?.device ? tunnel.device : null,
    mtu: tunnel?.mtu ? tunnel.mtu : null,
    sas: tunnel?.sas ?? [],
    totals: tunnel?.totals ?? null,
    counters: tunnel ? { sad: tunnel.sad, dataPlane: tunnel.dataPlane, transport: tunnel.transport } : null,
    ike: tunnel?.ike ?? null,
  };
}

async function runList(parsed: ParsedArguments): Promise<number> {
  noArguments(parsed);
  const profiles = await createController(createWarningLog()).listProfiles();
  for (const profile of profiles) {
    const target = profile.gateway?.address ?? profile.staticSas[0]?.peerAddress ?? '';
    process.stdout.write(`${escapeControlCharacters(`${profile.id}  ${profile.kind.padEnd(6)}  ${profile.name}  ${target}`)}\n`);
  }
  if (profiles.length === 0) {
    process.stderr.write('no saved profiles; add one with "lupina import FILE"\n');
  }
  return EXIT_OK;
}

async function runDelete(parsed: ParsedArguments): Promise<number> {
  const target = oneArgument(parsed, 'PROFILE');
  const deleted = await createController(createWarningLog()).deleteProfile(target);
  process.stderr.write(`deleted "${escapeControlCharacters(deleted.name)}" (id ${deleted.id})\n`);
  if (deleted.inUseElsewhere) {
    process.stderr.write('the running "lupina connect" that uses it keeps its keys until it disconnects\n');
  }
  return EXIT_OK;
}

function runCommand(parsed: ParsedArguments): Promise<number> {
  switch (parsed.command) {
    case 'connect':
      return runConnect(parsed);
    case 'status':
      return runStatus(parsed);
    case 'import':
      return runImport(parsed);
    case 'list':
      return runList(parsed);
    case 'delete':
      return runDelete(parsed);
    default:
      throw new UsageError(`unknown command "${parsed.command}"`);
  }
}

/** Errors whose message is written for the user; any other error gets "COMMAND failed:" in front. */
function isUserFacing(error: unknown): boolean {
  return error instanceof ControllerError || error instanceof CliError || error instanceof InputFileError ||
    error instanceof ControlClientError;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  let parsed: ParsedArguments | undefined;
  try {
    parsed = parseArguments(argv);
    if (parsed.command === 'help' || parsed.command === '') {
      process.stdout.write(`${USAGE}\n`);
      return parsed.command === '' ? EXIT_USAGE : EXIT_OK;
    }
    return await runCommand(parsed);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`lupina: ${escapeControlCharacters(error.message)}\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    const prefix = isUserFacing(error) ? '' : `${parsed?.command ?? 'lupina'} failed: `;
    process.stderr.write(`lupina: ${escapeControlCharacters(`${prefix}${errorMessage(error)}`)}\n`);
    return EXIT_FAILURE;
  }
}
