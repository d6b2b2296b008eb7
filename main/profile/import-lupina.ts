/** Imports Lupina's own JSON export. It carries no secrets, so those are entered after import. */

import { finishImport, SecretBag } from './import-common.js';
import type { ImportResult, IssueLog } from './import-result.js';
import { checkKeys, isPlainObject, validateProfile } from './validate.js';

export function importLupina(json: unknown, log: IssueLog): ImportResult {
  if (!checkKeys(json, log)) {
    return { ok: false, errors: log.errors, format: 'lupina' };
  }
  const profile = validateProfile(json, log);
  if (!profile) {
    return { ok: false, errors: log.errors, format: 'lupina' };
  }
  return finishImport(profile, new SecretBag(profile.id), log, 'lupina');
}

/** True when parsed JSON looks like a Lupina export rather than a strongSwan profile. */
export function looksLikeLupina(json: unknown): boolean {
  return isPlainObject(json) && 'version' in json && 'kind' in json;
}
