/** The types that `importProfile` returns, and a collector for warnings and errors. */

import type { Profile } from './model.js';

export type ImportFormat = 'lupina' | 'sswan' | 'mobileconfig' | 'nmconnection' | 'swanctl' | 'setkey';

/** A problem in the imported file; `path` is a key path such as `remote.addr`, or `line N`. */
export interface ImportIssue {
  path: string;
  /** The offending value as text, `<redacted>` for secrets; absent when nothing was there. */
  value?: string;
  /** What is wrong and what to do about it. */
  message: string;
}

export type ImportWarning = ImportIssue;
export type ImportError = ImportIssue;

export type ImportResult =
  | {
    ok: true;
    profile: Profile;
    secrets: Record<string, Uint8Array>;
    warnings: ImportWarning[];
    format: ImportFormat;
  }
  | { ok: false; errors: ImportError[]; format?: ImportFormat };

export type PasswordKind = 'pkcs12' | 'private-key';

export interface PasswordRequest {
  kind: PasswordKind;
  /** Names the file and which password is expected, for the prompt. */
  label: string;
  /** 1 for the first request; higher after a wrong password. */
  attempt: number;
}

export interface ImportOptions {
  fileName?: string;
  passwords?: (request: PasswordRequest) => Promise<string | undefined>;
  /** Reads a file that the profile refers to, such as a certificate; relative to the profile. */
  readFile?: (path: string) => Promise<Uint8Array>;
  /** The connection to import from a swanctl.conf that defines several. */
  connectionName?: string;
  /** The UUID for formats that carry none; a random one when absent. */
  profileId?: string;
}

export const REDACTED = '<redacted>';

/** Thrown inside importers to stop at the first fatal problem; `importProfile` catches it. */
export class ImportFailure extends Error {
  constructor(readonly issue: ImportIssue) {
    super(`${issue.path}: ${issue.message}`);
    this.name = 'ImportFailure';
  }
}

/** Collects warnings and errors while one importer runs. */
export class IssueLog {
  readonly warnings: ImportWarning[] = [];
  readonly errors: ImportError[] = [];

  warn(path: string, message: string, value?: unknown): void {
    this.warnings.push(makeIssue(path, message, value));
  }

  error(path: string, message: string, value?: unknown): void {
    this.errors.push(makeIssue(path, message, value));
  }

  /** Records an error and stops the importer. */
  fail(path: string, message: string, value?: unknown): never {
    throw new ImportFailure(makeIssue(path, message, value));
  }
}

const MAX_VALUE_TEXT = 200;

export function makeIssue(path: string, message: string, value?: unknown): ImportIssue {
  if (value === undefined) {
    return { path, message };
  }
  return { path, value: describeValue(value), message };
}

/** Formats a value for an issue, shortened so that a huge value does not flood the output. */
function describeValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') {
    text = value;
  } else if (value instanceof Uint8Array) {
    text = `<${value.length} bytes>`;
  } else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  if (text.length > MAX_VALUE_TEXT) {
    return `${text.slice(0, MAX_VALUE_TEXT)}... (${text.length} characters)`;
  }
  return text;
}
