/**
 * The entry point for importing a VPN profile file. The format is detected from the content,
 * with the file name only breaking ties; every problem becomes an ImportError or ImportWarning,
 * and nothing is thrown past this API.
 */

import { importLupina, looksLikeLupina } from './import-lupina.js';
import { importMobileconfig, looksLikeMobileconfig } from './import-mobileconfig.js';
import { importNmConnection, looksLikeNmConnection } from './import-nmconnection.js';
import {
  ImportFailure, IssueLog, type ImportError, type ImportFormat, type ImportOptions, type ImportResult,
} from './import-result.js';
import { importSetkey, looksLikeSetkey } from './import-setkey.js';
import { importSswan, looksLikeSswan } from './import-sswan.js';
import { importSwanctl, looksLikeSwanctl } from './import-swanctl.js';
import { LIMITS } from './validate.js';

export type {
  ImportError, ImportFormat, ImportOptions, ImportResult, ImportWarning, PasswordRequest,
} from './import-result.js';

/** Imports a profile file. Resolves with `ok: false` and the errors when it cannot be used. */
export async function importProfile(bytes: Uint8Array, options: ImportOptions = {}): Promise<ImportResult> {
  const log = new IssueLog();
  let format: ImportFormat | undefined;
  try {
    if (bytes.length > LIMITS.fileBytes) {
      log.fail('(file)', `the file is ${bytes.length} bytes; a profile is at most ${LIMITS.fileBytes} bytes`);
    }
    if (bytes.length === 0) {
      log.fail('(file)', 'the file is empty');
    }
    const text = Buffer.from(bytes).toString('utf8');
    format = detectFormat(bytes, text, options.fileName, log);
    return await runImporter(format, bytes, text, options, log);
  } catch (error) {
    if (error instanceof ImportFailure) {
      return failure([...log.errors, error.issue], format);
    }
    // An importer bug must not take the caller down; report it as an import error instead.
    const message = error instanceof Error ? error.message : String(error);
    return failure([...log.errors, {
      path: '(file)',
      message: `the file could not be imported because of an internal error (${message}); please ` +
        'report this with the file, after removing its secrets',
    }], format);
  }
}

function failure(errors: ImportError[], format: ImportFormat | undefined): ImportResult {
  return format === undefined ? { ok: false, errors } : { ok: false, errors, format };
}

async function runImporter(
  format: ImportFormat, bytes: Uint8Array, text: string, options: ImportOptions, log: IssueLog,
): Promise<ImportResult> {
  switch (format) {
    case 'lupina':
      return importLupina(parseJson(text, log), log);
    case 'sswan':
      return await importSswan(parseJson(text, log), options, log);
    case 'mobileconfig':
      return await importMobileconfig(bytes, options, log);
    case 'nmconnection':
      return await importNmConnection(text, options, log);
    case 'swanctl':
      return await importSwanctl(text, options, log);
    case 'setkey':
      return importSetkey(text, options, log);
  }
}

/** Parses JSON; a syntax error becomes an ImportFailure at the line it happened. */
function parseJson(text: string, log: IssueLog): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    const message = (error as Error).message;
    const position = Number(/position (\d+)/.exec(message)?.[1]);
    const line = Number.isFinite(position) ? text.slice(0, position).split('\n').length : undefined;
    log.fail(line === undefined ? '(file)' : `line ${line}`, `the file is not valid JSON (${message}); ` +
      'it may be truncated, so ask for it again');
  }
}

const EXTENSIONS: Record<string, ImportFormat> = {
  json: 'lupina',
  lupina: 'lupina',
  sswan: 'sswan',
  mobileconfig: 'mobileconfig',
  nmconnection: 'nmconnection',
  conf: 'swanctl',
};

/** Detects the format from the content; the extension only decides between JSON formats. */
export function detectFormat(bytes: Uint8Array, text: string, fileName: string | undefined, log: IssueLog): ImportFormat {
  const extension = fileName?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  const hinted = extension === undefined ? undefined : EXTENSIONS[extension];
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();

  if (trimmed.startsWith('{')) {
    try {
      const json: unknown = JSON.parse(trimmed);
      if (looksLikeLupina(json)) {
        return 'lupina';
      }
      if (looksLikeSswan(json)) {
        return 'sswan';
      }
    } catch {
      // Malformed JSON: the importer chosen below reports the syntax error with its line.
    }
    return hinted === 'sswan' ? 'sswan' : 'lupina';
  }
  if (looksLikeMobileconfig(bytes, text)) {
    return 'mobileconfig';
  }
  if (looksLikeNmConnection(text)) {
    return 'nmconnection';
  }
  if (looksLikeSwanctl(text)) {
    return 'swanctl';
  }
  if (looksLikeSetkey(text)) {
    return 'setkey';
  }
  if (/^\s*conn\s+\S+/m.test(text) || /^\s*config\s+setup/m.test(text)) {
    log.fail('(file)', 'this is an ipsec.conf (stroke) file, which Lupina does not import; ask for a ' +
      'swanctl.conf, .sswan or .mobileconfig profile instead');
  }
  log.fail('(file)', 'unknown file format; Lupina imports Lupina JSON, strongSwan .sswan, Apple ' +
    '.mobileconfig (IKEv2), NetworkManager .nmconnection (strongSwan), swanctl.conf and setkey.conf files');
}
