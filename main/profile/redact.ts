/** Copies of profiles that are safe to print or log. */

import { REDACTED } from './import-result.js';
import type { Profile } from './model.js';

/**
 * Returns a deep copy of the profile for display: secret references are replaced by
 * `<redacted>` and certificates by a short marker, so nothing secret or bulky reaches a log.
 * A profile never contains secret values; the references are hidden because they reveal which
 * secrets exist.
 */
export function redactProfile(profile: Profile): unknown {
  const copy = JSON.parse(JSON.stringify(profile)) as Profile;
  const authentication = copy.authentication;
  if (authentication) {
    for (const key of ['pskRef', 'eapPasswordRef', 'privateKeyRef'] as const) {
      if (authentication[key] !== undefined) {
        authentication[key] = REDACTED;
      }
    }
  }
  for (const sa of copy.staticSas) {
    if (sa.encryptionKeyRef !== undefined) {
      sa.encryptionKeyRef = REDACTED;
    }
    if (sa.integrityKeyRef !== undefined) {
      sa.integrityKeyRef = REDACTED;
    }
  }
  copy.trustedCaCertificates = copy.trustedCaCertificates.map((pem) => `<certificate, ${pem.length} characters>`);
  if (copy.clientCertificate !== undefined) {
    copy.clientCertificate = `<certificate, ${copy.clientCertificate.length} characters>`;
  }
  return copy;
}

/**
 * Returns a copy of a secrets map with every value replaced by `<redacted>`, for display. The
 * length stays hidden too, because it distinguishes a short PSK from a long one.
 */
export function redactSecrets(secrets: Record<string, Uint8Array>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const ref of Object.keys(secrets)) {
    result[ref] = REDACTED;
  }
  return result;
}
