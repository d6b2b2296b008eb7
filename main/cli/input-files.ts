/**
 * Bounded reads of the files a user names on the command line: profile files, password files
 * and the certificate and key files that a profile refers to.
 */

import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ImportOptions, PasswordRequest } from '../profile/import-result.js';
import { stringFlag, type ParsedArguments } from './arguments.js';

/**
 * Largest input file read, in bytes. Profiles, PKCS#12 bundles and certificate chains are a few
 * kilobytes, so 1 MiB leaves room and still rejects a log or disk image named by mistake.
 */
export const MAX_INPUT_FILE_BYTES = 1024 * 1024;

/** Extensions of the profile formats that `lupina import` reads. */
export const PROFILE_FILE_EXTENSIONS = ['.conf', '.sswan', '.mobileconfig', '.nmconnection', '.json', '.lupina'];

/** A file that cannot be read as input. The message names the path and the reason. */
export class InputFileError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InputFileError';
  }
}

/**
 * Reads a regular file of at most MAX_INPUT_FILE_BYTES. `kind` names the file in messages, such
 * as "profile file". FIFOs, devices and directories raise InputFileError without being read.
 */
export async function readInputFile(path: string, kind: string): Promise<Uint8Array> {
  // O_NONBLOCK keeps open() from waiting for a writer on a FIFO, and fstat on the open
  // descriptor checks the file that is read, not one that replaced it after a stat.
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    throw openError(error as NodeJS.ErrnoException, path, kind);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) {
      throw new InputFileError(`${kind} is a directory, not a file: ${path}`);
    }
    if (!info.isFile()) {
      throw new InputFileError(`${kind} is not a regular file: ${path}; FIFOs, devices and sockets are not read`);
    }
    if (info.size > MAX_INPUT_FILE_BYTES) {
      throw tooLarge(path, kind, `${info.size} bytes`);
    }
    return await readAtMost(handle, path, kind);
  } finally {
    await handle.close();
  }
}

/** Returns whether `path` is a regular file, following symbolic links. */
export async function isRegularFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Returns the import options for a profile file: the password from --password-file, the
 * connection from --connection, and bounded reads of files that the profile refers to,
 * relative to the profile's directory.
 */
export async function fileImportOptions(path: string, parsed: ParsedArguments): Promise<ImportOptions> {
  const directory = dirname(resolve(path));
  return {
    fileName: path,
    connectionName: stringFlag(parsed, '--connection'),
    passwords: await passwordSource(parsed),
    readFile: async (reference) => readInputFile(resolve(directory, reference), 'file referenced by the profile'),
  };
}

/** Returns the password from --password-file for the first attempt, or undefined without that option. */
async function passwordSource(parsed: ParsedArguments) {
  const file = stringFlag(parsed, '--password-file');
  if (file === undefined) {
    return undefined;
  }
  const bytes = await readInputFile(file, 'password file');
  const password = new TextDecoder().decode(bytes).replace(/\r?\n$/, '');
  return async (request: PasswordRequest) => (request.attempt === 1 ? password : undefined);
}

/** Reads to the end, but stops with an error when the file grew past the limit after fstat. */
async function readAtMost(handle: FileHandle, path: string, kind: string): Promise<Uint8Array> {
  const buffer = Buffer.alloc(MAX_INPUT_FILE_BYTES + 1);
  let length = 0;
  while (length < buffer.length) {
    const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
    if (bytesRead === 0) {
      break;
    }
    length += bytesRead;
  }
  if (length > MAX_INPUT_FILE_BYTES) {
    throw tooLarge(path, kind, `it grew past ${MAX_INPUT_FILE_BYTES} bytes while being read`);
  }
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
}

function tooLarge(path: string, kind: string, detail: string): InputFileError {
  return new InputFileError(`${kind} is too large (${detail}): ${path}; the limit is ${MAX_INPUT_FILE_BYTES} bytes (1 MiB)`);
}

function openError(error: NodeJS.ErrnoException, path: string, kind: string): InputFileError {
  switch (error.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new InputFileError(`${kind} not found: ${path}`, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new InputFileError(`${kind} is not readable (permission denied): ${path}`, { cause: error });
    case 'ENXIO':
      return new InputFileError(`${kind} is not a regular file: ${path}; FIFOs, devices and sockets are not read`, { cause: error });
    default:
      return new InputFileError(`cannot open ${kind} ${path}: ${error.message}`, { cause: error });
  }
}
