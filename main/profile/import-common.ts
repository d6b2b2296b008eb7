/** Helpers that several importers share: ids, secrets, identities, lists and the final check. */

import { randomUUID } from 'node:crypto';

import { IdentityError, parseIdentity } from './identity.js';
import type { ImportFormat, ImportOptions, ImportResult, IssueLog } from './import-result.js';
import { secretRef, type Identity, type Profile, type Proposal } from './model.js';
import { defaultEspProposals, defaultIkeProposals } from './proposal.js';
import { checkSelector, LIMITS, validateProfile } from './validate.js';

/** Secrets gathered while importing, keyed by secret reference. */
export class SecretBag {
  readonly entries: Record<string, Uint8Array> = {};

  constructor(readonly profileId: string) {}

  /** Stores a secret under `<profile id>:<name>` and returns the reference. */
  add(name: string, value: Uint8Array | string): string {
    const ref = secretRef(this.profileId, name);
    this.entries[ref] = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    return ref;
  }
}

export function chooseProfileId(options: ImportOptions): string {
  return options.profileId ?? randomUUID();
}

/** Parses an identity field; logs an error and returns undefined when it is invalid. */
export function readIdentityField(text: string | undefined, log: IssueLog, path: string): Identity | undefined {
  if (text === undefined || text.trim() === '' || text.trim() === '%any') {
    return undefined;
  }
  try {
    return parseIdentity(text);
  } catch (error) {
    if (error instanceof IdentityError) {
      log.error(path, `${error.message}; fix the identity or remove it`, text);
      return undefined;
    }
    throw error;
  }
}

/** Splits a list given as a JSON array or as text separated by spaces, commas or semicolons. */
export function splitList(value: unknown): string[] {
  if (Array.isArray(value)) {
    return value.filter((item): item is string => typeof item === 'string').map((item) => item.trim())
      .filter((item) => item !== '');
  }
  if (typeof value !== 'string') {
    return [];
  }
  return value.split(/[\s,;]+/).filter((item) => item !== '');
}

/** Keeps the valid traffic selectors and logs an error for each invalid one. */
export function readSelectors(items: readonly string[], log: IssueLog, path: string): string[] {
  if (items.length > LIMITS.selectors) {
    log.error(path, `${items.length} traffic selectors; at most ${LIMITS.selectors} are allowed`);
    return [];
  }
  const selectors: string[] = [];
  for (const item of items) {
    if (item === 'dynamic' || item === '%dynamic') {
      log.warn(path, '"dynamic" selectors are replaced by the virtual IP or the local address when ' +
        'connecting, so nothing is stored', item);
      continue;
    }
    const problem = checkSelector(item);
    if (problem) {
      log.error(path, `${problem}; use CIDR (192.0.2.0/24) or a range`, item);
      continue;
    }
    selectors.push(item);
  }
  return selectors;
}

/** Uses the default proposals when the file names none, and fails when all named ones were dropped. */
export function settleProposals(
  parsed: Proposal[] | undefined, protocol: 'ike' | 'esp', log: IssueLog, path: string,
): Proposal[] {
  if (parsed === undefined) {
    return protocol === 'ike' ? defaultIkeProposals() : defaultEspProposals();
  }
  if (parsed.length === 0) {
    log.error(path, `no usable ${protocol.toUpperCase()} proposal is left after dropping the ` +
      'unsupported algorithms; ask IT for a proposal with AES-GCM, AES-CBC with SHA-2, or ' +
      'ChaCha20-Poly1305');
  }
  return parsed;
}

/** Parses seconds with strongSwan's optional s, m, h or d suffix. Returns undefined when invalid. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,9})\s*([smhd]?)$/.exec(text.trim());
  if (!match) {
    return undefined;
  }
  const factor = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * factor;
}

/** Parses a count with strongSwan's optional k, m or g suffix (powers of 1024). */
export function parseCount(text: string): number | undefined {
  const match = /^(\d{1,15})\s*([kmg]?)$/i.exec(text.trim());
  if (!match) {
    return undefined;
  }
  const factor = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const value = Number(match[1]) * factor;
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * Ends an import: when no error was logged, checks the profile with the same validator that
 * reads saved profiles (through a JSON round trip), so no importer can return a profile that
 * would not load again.
 */
export function finishImport(
  profile: Profile, secrets: SecretBag, log: IssueLog, format: ImportFormat,
): ImportResult {
  if (log.errors.length > 0) {
    return { ok: false, errors: log.errors, format };
  }
  const checked = validateProfile(JSON.parse(JSON.stringify(profile)), log);
  if (!checked) {
    return { ok: false, errors: log.errors, format };
  }
  warnUnenforcedSettings(checked, log);
  return { ok: true, profile: checked, secrets: secrets.entries, warnings: log.warnings, format };
}

/**
 * Warns about settings that a profile stores but the connection code does not carry out yet, so
 * that the import does not look complete when connecting will fail or be less strict than asked.
 */
function warnUnenforcedSettings(profile: Profile, log: IssueLog): void {
  const authentication = profile.authentication;
  if (!authentication) {
    return;
  }
  // NOTE: keep in step with localAuth in main/controller/ike-profile.ts, which rejects EAP.
  if (authentication.method.includes('eap')) {
    log.warn('authentication.method', `the profile uses ${authentication.method}, but this version of ` +
      'Lupina does not support EAP yet, so connecting with this profile will fail until EAP is supported', authentication.method);
  }
  // NOTE: keep in step with main/ike/auth/certificate-chain.ts, which checks no CRL or OCSP.
  if (authentication.revocation.strict) {
    log.warn('authentication.revocation.strict', 'strict revocation checking is stored, but Lupina does ' +
      'not check CRLs or OCSP yet, so a revoked or unverifiable gateway certificate is accepted', true);
  }
}

/** Returns the full-tunnel selectors for the families that a profile asks virtual IPs for. */
export function fullTunnelSelectors(): string[] {
  return ['0.0.0.0/0', '::/0'];
}
