/**
 * IKE identities from configuration text, typed the way strongSwan's identification parser
 * does it (strongSwan documentation, "Identity Parsing"): an explicit `type:` prefix wins, then an
 * IP address, a string with `=` is a distinguished name, `@#hex` is a key id, `@name` is an FQDN
 * taken literally, a string with `@` is an e-mail address, and anything else is an FQDN.
 */

import { isIPv4, isIPv6 } from 'node:net';

import { ipVersion } from '../engine/address.js';
import type { Identity, IdentityType } from './model.js';

export class IdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityError';
  }
}

const PREFIXES: Record<string, IdentityType> = {
  fqdn: 'FQDN',
  email: 'RFC822_ADDR',
  rfc822: 'RFC822_ADDR',
  userfqdn: 'RFC822_ADDR',
  ipv4: 'ID_IPV4_ADDR',
  ipv6: 'ID_IPV6_ADDR',
  asn1dn: 'DER_ASN1_DN',
  keyid: 'KEY_ID',
};

const MAX_IDENTITY_LENGTH = 1024;

/** Parses identity text; throws IdentityError for an empty, oversized or invalid value. */
export function parseIdentity(text: string): Identity {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === '%any') {
    throw new IdentityError('identity is empty; give an FQDN, e-mail address, IP address or DN');
  }
  if (trimmed.length > MAX_IDENTITY_LENGTH) {
    throw new IdentityError(`identity is longer than ${MAX_IDENTITY_LENGTH} characters`);
  }

  const prefixed = /^([a-z0-9]+):(.*)$/i.exec(trimmed);
  const prefixType = prefixed ? PREFIXES[prefixed[1]!.toLowerCase()] : undefined;
  if (prefixed && prefixType) {
    return checkIdentity({ type: prefixType, value: prefixed[2]! });
  }

  return checkIdentity(inferIdentity(trimmed));
}

function inferIdentity(text: string): Identity {
  const version = ipVersion(text);
  if (version === 4) {
    return { type: 'ID_IPV4_ADDR', value: text };
  }
  if (version === 6) {
    return { type: 'ID_IPV6_ADDR', value: text };
  }
  if (text.includes('=')) {
    return { type: 'DER_ASN1_DN', value: text };
  }
  if (text.startsWith('@#')) {
    return { type: 'KEY_ID', value: text.slice(2) };
  }
  if (text.startsWith('@')) {
    return { type: 'FQDN', value: text.slice(1) };
  }
  if (text.includes('@')) {
    return { type: 'RFC822_ADDR', value: text };
  }
  return { type: 'FQDN', value: text };
}

/** Validates an identity's value against its type. */
export function checkIdentity(identity: Identity): Identity {
  const { type, value } = identity;
  if (value === '') {
    throw new IdentityError(`${type} identity is empty`);
  }
  if (type === 'ID_IPV4_ADDR' && !isIPv4(value)) {
    throw new IdentityError(`"${value}" is not an IPv4 address`);
  }
  if (type === 'ID_IPV6_ADDR' && !isIPv6(value)) {
    throw new IdentityError(`"${value}" is not an IPv6 address`);
  }
  if (type === 'KEY_ID' && !/^([0-9a-f]{2})+$/i.test(value)) {
    throw new IdentityError(`key id "${value}" must be an even number of hex digits`);
  }
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new IdentityError('identity contains control characters');
  }
  return { type, value };
}

/** Formats an identity as strongSwan text with an explicit type prefix. */
export function formatIdentity(identity: Identity): string {
  const prefix = Object.entries(PREFIXES).find(([, type]) => type === identity.type)?.[0];
  return `${prefix ?? 'fqdn'}:${identity.value}`;
}
