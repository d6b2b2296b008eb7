/**
 * Runtime checks of every invoke call's argument. The renderer is treated as untrusted: a call
 * with an unknown name, a wrong type, an unknown key or a value over a limit is rejected with an
 * error envelope before any handler runs.
 */

import {
  INVOKE_CHANNELS, IPC_LIMITS, type ImportProfileRequest, type InvokeChannel, type InvokeContract,
  type IpcError, type LogLevel, type ThemePreference,
} from './ipc-schema.js';

export type Validation<T> = { ok: true; value: T } | { ok: false; error: IpcError };

type Validator<C extends InvokeChannel> = (argument: unknown) => InvokeContract[C]['request'];

class ArgumentError extends Error {
  constructor(readonly code: 'invalid-argument' | 'too-large', message: string) {
    super(message);
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];
const THEMES: readonly ThemePreference[] = ['system', 'light', 'dark'];
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function invalid(message: string): never {
  throw new ArgumentError('invalid-argument', message);
}

function expectNone(argument: unknown): undefined {
  if (argument !== undefined && argument !== null) {
    invalid('this call takes no argument');
  }
  return undefined;
}

/** Checks that `argument` is a plain object with only `allowed` keys, and returns it. */
function expectObject(argument: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof argument !== 'object' || argument === null || Array.isArray(argument)
    || argument instanceof Uint8Array) {
    invalid('the argument must be an object');
  }
  const prototype = Object.getPrototypeOf(argument) as unknown;
  if (prototype !== Object.prototype && prototype !== null) {
    invalid('the argument must be a plain object');
  }
  for (const key of Object.keys(argument)) {
    if (!allowed.includes(key)) {
      invalid(`unknown key "${key.slice(0, 40)}"; expected ${allowed.join(', ')}`);
    }
  }
  return argument as Record<string, unknown>;
}

function expectString(value: unknown, name: string, maxChars: number, options: { optional?: boolean } = {}) {
  if (value === undefined && options.optional) {
    return undefined;
  }
  if (typeof value !== 'string') {
    invalid(`${name} must be a string`);
  }
  if (value.length > maxChars) {
    throw new ArgumentError('too-large', `${name} has ${value.length} characters; at most ${maxChars} are allowed`);
  }
  if (/[\u0000-\u001f\u007f]/.test(value) && name !== 'password') {
    invalid(`${name} contains control characters`);
  }
  return value;
}

function expectNonEmpty(value: string | undefined, name: string): string {
  if (!value) {
    invalid(`${name} must not be empty`);
  }
  return value;
}

function expectBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'boolean') {
    invalid(`${name} must be true or false`);
  }
  return value;
}

function expectFileBytes(value: unknown): Uint8Array | string {
  if (value instanceof Uint8Array) {
    if (value.byteLength > IPC_LIMITS.profileFileBytes) {
      throw new ArgumentError('too-large', `the file has ${value.byteLength} bytes; a profile is at most ` +
        `${IPC_LIMITS.profileFileBytes} bytes (1 MiB)`);
    }
    return value;
  }
  if (typeof value === 'string') {
    if (value.length > IPC_LIMITS.profileFileBase64Chars) {
      throw new ArgumentError('too-large', `the file has more than ${IPC_LIMITS.profileFileBytes} bytes; ` +
        'a profile is at most 1 MiB');
    }
    if (value.length % 4 !== 0 || !BASE64.test(value)) {
      invalid('bytes must be a Uint8Array or base64 text');
    }
    return value;
  }
  return invalid('bytes must be a Uint8Array or base64 text');
}

function validateImport(argument: unknown): ImportProfileRequest {
  const object = expectObject(argument, ['fileName', 'bytes', 'replace', 'password', 'connectionName']);
  const request: ImportProfileRequest = {
    fileName: expectNonEmpty(expectString(object['fileName'], 'fileName', IPC_LIMITS.fileNameChars), 'fileName'),
    bytes: expectFileBytes(object['bytes']),
  };
  const replace = expectBoolean(object['replace'], 'replace');
  const password = expectString(object['password'], 'password', IPC_LIMITS.passwordChars, { optional: true });
  const connectionName = expectString(object['connectionName'], 'connectionName', IPC_LIMITS.connectionNameChars,
    { optional: true });
  if (replace !== undefined) {
    request.replace = replace;
  }
  if (password !== undefined) {
    request.password = password;
  }
  if (connectionName !== undefined) {
    request.connectionName = connectionName;
  }
  return request;
}

function validateProfileKey(argument: unknown): { profileId: string } {
  const object = expectObject(argument, ['profileId']);
  const profileId = expectString(object['profileId'], 'profileId', IPC_LIMITS.profileKeyChars);
  return { profileId: expectNonEmpty(profileId, 'profileId') };
}

function validateLogs(argument: unknown): InvokeContract['logs']['request'] {
  if (argument === undefined || argument === null) {
    return undefined;
  }
  const object = expectObject(argument, ['limit', 'minLevel']);
  const result: { limit?: number; minLevel?: LogLevel } = {};
  const limit = object['limit'];
  if (limit !== undefined) {
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > IPC_LIMITS.logEntries) {
      invalid(`limit must be a whole number from 1 to ${IPC_LIMITS.logEntries}`);
    }
    result.limit = limit;
  }
  const minLevel = object['minLevel'];
  if (minLevel !== undefined) {
    if (typeof minLevel !== 'string' || !LOG_LEVELS.includes(minLevel as LogLevel)) {
      invalid(`minLevel must be one of ${LOG_LEVELS.join(', ')}`);
    }
    result.minLevel = minLevel as LogLevel;
  }
  return result;
}

function validateTheme(argument: unknown): { theme: ThemePreference } {
  const object = expectObject(argument, ['theme']);
  const theme = object['theme'];
  if (typeof theme !== 'string' || !THEMES.includes(theme as ThemePreference)) {
    invalid(`theme must be one of ${THEMES.join(', ')}`);
  }
  return { theme: theme as ThemePreference };
}

function validateAllow(argument: unknown): { allow: boolean } {
  const object = expectObject(argument, ['allow']);
  const allow = expectBoolean(object['allow'], 'allow');
  if (allow === undefined) {
    invalid('allow is required');
  }
  return { allow };
}

const VALIDATORS: { [C in InvokeChannel]: Validator<C> } = {
  listProfiles: expectNone,
  importProfile: validateImport,
  deleteProfile: validateProfileKey,
  connect: validateProfileKey,
  disconnect: expectNone,
  status: expectNone,
  exportTable: expectNone,
  logs: validateLogs,
  appInfo: expectNone,
  setTheme: validateTheme,
  allowPlainTextSecrets: validateAllow,
};

export function isInvokeChannel(channel: unknown): channel is InvokeChannel {
  return typeof channel === 'string' && (INVOKE_CHANNELS as readonly string[]).includes(channel);
}

/**
 * Checks a call: its channel must be known and it must carry at most one argument that passes
 * the channel's validator. Returns the checked argument, or the error for the envelope.
 */
export function validateCall(channel: unknown, args: readonly unknown[]): Validation<{
  channel: InvokeChannel;
  request: unknown;
}> {
  if (!isInvokeChannel(channel)) {
    const name = typeof channel === 'string' ? `"${channel.slice(0, 60)}"` : typeof channel;
    return { ok: false, error: { code: 'unknown-call', message: `unknown call ${name}` } };
  }
  if (args.length > 1) {
    return { ok: false, error: { code: 'invalid-argument', message: `${channel} takes at most one argument, got ${args.length}` } };
  }
  try {
    const request = (VALIDATORS[channel] as (argument: unknown) => unknown)(args[0]);
    return { ok: true, value: { channel, request } };
  } catch (error) {
    if (error instanceof ArgumentError) {
      return { ok: false, error: { code: error.code, message: `${channel}: ${error.message}` } };
    }
    throw error;
  }
}
