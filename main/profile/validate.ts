/**
 * Field-by-field validation of a profile that came from JSON (our own export, or the profile
 * store). Every problem is logged with its key path. The result is a fresh object with only the
 * known fields, so nothing from the input object survives by reference.
 */

import { isIPv4, isIPv6 } from 'node:net';

import { isEncryptionName, isIntegrityName, ENCRYPTION_ALGORITHMS } from '../engine/transforms.js';
import { parseTrafficSelector } from '../engine/traffic-selector.js';
import { checkIdentity, IdentityError } from './identity.js';
import type { IssueLog } from './import-result.js';
import {
  AUTH_METHODS, ESN_NAMES, IDENTITY_TYPES, KeyExchangeId, PROFILE_VERSION, PrfId, REMOTE_AUTH_METHODS,
  type Authentication, type DnsSettings, type EncryptionTransform, type Gateway, type Identities,
  type Identity, type Lifetimes, type Profile, type Proposal, type SaLifetime, type StaticSa,
  type TrafficSelectors,
} from './model.js';

/** Limits on sizes, so that a hostile file cannot make the client allocate without bound. */
export const LIMITS = {
  fileBytes: 1024 * 1024,
  nameLength: 256,
  stringLength: 4096,
  pemLength: 64 * 1024,
  certificates: 16,
  proposals: 32,
  transformsPerType: 32,
  selectors: 256,
  dnsEntries: 32,
  staticSas: 64,
  depth: 16,
} as const;

export const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SECRET_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MAX_SPI = 0xffffffff;
const MAX_REPLAY_WINDOW = 4096;

/**
 * Logs an error for every `__proto__`, `constructor` or `prototype` key and for nesting deeper
 * than LIMITS.depth. Returns true when the value is clean.
 */
export function checkKeys(value: unknown, log: IssueLog, path = '', depth = 0): boolean {
  if (depth > LIMITS.depth) {
    log.error(path || '(root)', `nesting is deeper than ${LIMITS.depth} levels; the file is not a profile`);
    return false;
  }
  if (value === null || typeof value !== 'object') {
    return true;
  }
  let clean = true;
  for (const key of Object.keys(value)) {
    const childPath = path === '' ? key : `${path}.${key}`;
    if (FORBIDDEN_KEYS.includes(key)) {
      log.error(childPath, `the key "${key}" is not allowed in a profile; remove it`);
      clean = false;
      continue;
    }
    clean = checkKeys((value as Record<string, unknown>)[key], log, childPath, depth + 1) && clean;
  }
  return clean;
}

/** Reads typed fields from a plain object and logs an error for each invalid one. */
class FieldReader {
  constructor(
    private readonly log: IssueLog,
    private readonly fields: Record<string, unknown>,
    private readonly path: string,
    allowed: readonly string[],
  ) {
    for (const key of Object.keys(fields)) {
      if (!allowed.includes(key)) {
        log.error(this.at(key), `unknown field "${key}"; remove it or check the spelling`);
      }
    }
  }

  at(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return Object.hasOwn(this.fields, key) && this.fields[key] !== undefined;
  }

  raw(key: string): unknown {
    return Object.hasOwn(this.fields, key) ? this.fields[key] : undefined;
  }

  string(key: string, options: { required?: boolean; max?: number } = {}): string | undefined {
    const value = this.raw(key);
    if (value === undefined) {
      if (options.required) {
        this.log.error(this.at(key), `missing required field "${key}"`);
      }
      return undefined;
    }
    const max = options.max ?? LIMITS.stringLength;
    if (typeof value !== 'string') {
      this.log.error(this.at(key), `expected a string, got ${typeName(value)}`, value);
      return undefined;
    }
    if (value.length > max) {
      this.log.error(this.at(key), `string is longer than ${max} characters`, value);
      return undefined;
    }
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.raw(key);
    if (value === undefined) {
      return fallback;
    }
    if (typeof value !== 'boolean') {
      this.log.error(this.at(key), `expected true or false, got ${typeName(value)}`, value);
      return fallback;
    }
    return value;
  }

  integer(key: string, min: number, max: number, options: { required?: boolean } = {}): number | undefined {
    const value = this.raw(key);
    if (value === undefined) {
      if (options.required) {
        this.log.error(this.at(key), `missing required field "${key}"`);
      }
      return undefined;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.log.error(this.at(key), `expected an integer from ${min} to ${max}`, value);
      return undefined;
    }
    return value;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], options: { required?: boolean } = {}): T | undefined {
    const value = this.string(key, options);
    if (value === undefined) {
      return undefined;
    }
    if (!(allowed as readonly string[]).includes(value)) {
      this.log.error(this.at(key), `expected one of ${allowed.join(', ')}`, value);
      return undefined;
    }
    return value as T;
  }

  list<T>(key: string, max: number, readItem: (item: unknown, path: string) => T | undefined): T[] {
    const value = this.raw(key);
    if (value === undefined) {
      return [];
    }
    if (!Array.isArray(value)) {
      this.log.error(this.at(key), `expected a list, got ${typeName(value)}`, value);
      return [];
    }
    if (value.length > max) {
      this.log.error(this.at(key), `list has ${value.length} entries; at most ${max} are allowed`);
      return [];
    }
    const items: T[] = [];
    value.forEach((item, index) => {
      const read = readItem(item, `${this.at(key)}[${index}]`);
      if (read !== undefined) {
        items.push(read);
      }
    });
    return items;
  }

  object(key: string, options: { required?: boolean } = {}): Record<string, unknown> | undefined {
    const value = this.raw(key);
    if (value === undefined) {
      if (options.required) {
        this.log.error(this.at(key), `missing required field "${key}"`);
      }
      return undefined;
    }
    if (!isPlainObject(value)) {
      this.log.error(this.at(key), `expected an object, got ${typeName(value)}`, value);
      return undefined;
    }
    return value;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  return Array.isArray(value) ? 'a list' : `a ${typeof value}`;
}

/**
 * Validates `value` as a version 1 profile. Returns the profile, or undefined after logging at
 * least one error. A profile that passes is also safe to export and import again unchanged.
 */
export function validateProfile(value: unknown, log: IssueLog): Profile | undefined {
  const errorsBefore = log.errors.length;
  if (!isPlainObject(value)) {
    log.error('(root)', `expected a JSON object, got ${typeName(value)}`);
    return undefined;
  }
  if (!checkKeys(value, log)) {
    return undefined;
  }
  if (value.version !== PROFILE_VERSION) {
    log.error('version', `unsupported profile version; this Lupina reads version ${PROFILE_VERSION}. ` +
      'Export the profile again from the Lupina that wrote it, or update Lupina', value.version);
    return undefined;
  }

  const reader = new FieldReader(log, value, '', [
    'version', 'id', 'name', 'kind', 'gateway', 'identities', 'authentication',
    'trustedCaCertificates', 'clientCertificate', 'ikeProposals', 'espProposals',
    'trafficSelectors', 'virtualIps', 'dns', 'mtu', 'natKeepaliveSeconds',
    'forceUdpEncapsulation', 'dpdSeconds', 'lifetimes', 'staticSas',
  ]);

  const id = reader.string('id', { required: true, max: 36 });
  if (id !== undefined && !UUID.test(id)) {
    log.error('id', 'expected a UUID such as 2f1c9a3e-0b7d-4e52-9d1a-6c0f3b8e4a21', id);
  }
  const name = readName(reader, log);
  const kind = reader.oneOf('kind', ['ikev2', 'manual'] as const, { required: true });

  const gatewayObject = reader.object('gateway', { required: kind === 'ikev2' });
  const gateway = gatewayObject ? readGateway(log, gatewayObject, 'gateway') : undefined;
  const identitiesObject = reader.object('identities', { required: true });
  const identities = identitiesObject ? readIdentities(log, identitiesObject) : {};
  const authenticationObject = reader.object('authentication', { required: kind === 'ikev2' });
  const authentication = authenticationObject
    ? readAuthentication(log, authenticationObject, id ?? '') : undefined;

  const trustedCaCertificates = reader.list('trustedCaCertificates', LIMITS.certificates,
    (item, path) => readPem(log, item, path));
  const clientCertificate = reader.has('clientCertificate')
    ? readPem(log, reader.raw('clientCertificate'), 'clientCertificate') : undefined;

  const ikeProposals = reader.list('ikeProposals', LIMITS.proposals, (item, path) =>
    readProposal(log, item, path, 'ike'));
  const espProposals = reader.list('espProposals', LIMITS.proposals, (item, path) =>
    readProposal(log, item, path, 'esp'));
  if (kind === 'ikev2' && ikeProposals.length === 0 && !reader.has('ikeProposals')) {
    log.error('ikeProposals', 'an IKEv2 profile needs at least one IKE proposal');
  }
  if (kind === 'ikev2' && espProposals.length === 0 && !reader.has('espProposals')) {
    log.error('espProposals', 'an IKEv2 profile needs at least one ESP proposal');
  }

  const selectorsObject = reader.object('trafficSelectors', { required: true });
  const trafficSelectors = selectorsObject ? readTrafficSelectors(log, selectorsObject) : undefined;
  const virtualIps = reader.list('virtualIps', 2, (item, path) => readAddress(log, item, path));
  const dnsObject = reader.object('dns', { required: true });
  const dns = dnsObject ? readDns(log, dnsObject) : undefined;
  const mtu = reader.integer('mtu', 576, 9000);
  const natKeepaliveSeconds = reader.integer('natKeepaliveSeconds', 0, 3600, { required: true });
  const forceUdpEncapsulation = reader.boolean('forceUdpEncapsulation', false);
  const dpdSeconds = reader.integer('dpdSeconds', 0, 86400, { required: true });
  const lifetimesObject = reader.object('lifetimes', { required: true });
  const lifetimes = lifetimesObject ? readLifetimes(log, lifetimesObject) : undefined;
  const staticSas = reader.list('staticSas', LIMITS.staticSas, (item, path) =>
    readStaticSa(log, item, path, id ?? ''));
  if (kind === 'manual' && staticSas.length === 0) {
    log.error('staticSas', 'a manual-key profile needs at least one static SA');
  }
  if (kind === 'ikev2' && staticSas.length > 0) {
    log.error('staticSas', 'an IKEv2 profile cannot contain static SAs; use kind "manual"');
  }

  if (log.errors.length > errorsBefore || !id || !name || !kind || !trafficSelectors || !dns ||
    !lifetimes || natKeepaliveSeconds === undefined || dpdSeconds === undefined) {
    return undefined;
  }

  const profile: Profile = {
    version: PROFILE_VERSION, id, name, kind, identities, trustedCaCertificates, ikeProposals,
    espProposals, trafficSelectors, virtualIps, dns, natKeepaliveSeconds, forceUdpEncapsulation,
    dpdSeconds, lifetimes, staticSas,
  };
  if (gateway) {
    profile.gateway = gateway;
  }
  if (authentication) {
    profile.authentication = authentication;
  }
  if (clientCertificate) {
    profile.clientCertificate = clientCertificate;
  }
  if (mtu !== undefined) {
    profile.mtu = mtu;
  }
  return profile;
}

function readName(reader: FieldReader, log: IssueLog): string | undefined {
  const name = reader.string('name', { required: true, max: LIMITS.nameLength });
  if (name !== undefined && (name.trim() === '' || /[\u0000-\u001f\u007f]/.test(name))) {
    log.error('name', 'the name must be non-empty and contain no control characters', name);
    return undefined;
  }
  return name;
}

/** Validates a host name or IP address for the gateway. */
export function isValidHost(text: string): boolean {
  if (isIPv4(text) || isIPv6(text)) {
    return true;
  }
  return text.length <= 253 &&
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i.test(text);
}

function readGateway(log: IssueLog, object: Record<string, unknown>, path: string): Gateway | undefined {
  const reader = new FieldReader(log, object, path, ['address', 'port', 'preferIpv6']);
  const address = reader.string('address', { required: true, max: 253 });
  if (address !== undefined && !isValidHost(address)) {
    log.error(`${path}.address`, 'expected a host name or an IP address', address);
    return undefined;
  }
  const port = reader.integer('port', 1, 65535, { required: true });
  const preferIpv6 = reader.boolean('preferIpv6', false);
  if (address === undefined || port === undefined) {
    return undefined;
  }
  return { address, port, preferIpv6 };
}

function readIdentity(log: IssueLog, value: unknown, path: string): Identity | undefined {
  if (!isPlainObject(value)) {
    log.error(path, `expected an object with type and value, got ${typeName(value)}`, value);
    return undefined;
  }
  const reader = new FieldReader(log, value, path, ['type', 'value']);
  const type = reader.oneOf('type', IDENTITY_TYPES, { required: true });
  const text = reader.string('value', { required: true, max: 1024 });
  if (type === undefined || text === undefined) {
    return undefined;
  }
  try {
    return checkIdentity({ type, value: text });
  } catch (error) {
    if (error instanceof IdentityError) {
      log.error(`${path}.value`, error.message, text);
      return undefined;
    }
    throw error;
  }
}

function readIdentities(log: IssueLog, object: Record<string, unknown>): Identities {
  const reader = new FieldReader(log, object, 'identities', ['local', 'remote', 'eap']);
  const identities: Identities = {};
  for (const key of ['local', 'remote', 'eap'] as const) {
    if (reader.has(key)) {
      const identity = readIdentity(log, reader.raw(key), `identities.${key}`);
      if (identity) {
        identities[key] = identity;
      }
    }
  }
  return identities;
}

function readSecretRef(reader: FieldReader, log: IssueLog, key: string, profileId: string): string | undefined {
  const ref = reader.string(key, { max: 128 });
  if (ref === undefined) {
    return undefined;
  }
  const [owner, name, extra] = ref.split(':');
  if (owner !== profileId || name === undefined || extra !== undefined || !SECRET_NAME.test(name)) {
    log.error(reader.at(key), 'expected a secret reference "<profile id>:<name>" that belongs to this ' +
      'profile', ref);
    return undefined;
  }
  return ref;
}

function readAuthentication(
  log: IssueLog, object: Record<string, unknown>, profileId: string,
): Authentication | undefined {
  const path = 'authentication';
  const reader = new FieldReader(log, object, path, [
    'method', 'remoteMethod', 'rsaPss', 'certificateRequests', 'revocation',
    'remoteCertificateIssuerCommonName', 'pskRef', 'eapPasswordRef', 'privateKeyRef',
  ]);
  const method = reader.oneOf('method', AUTH_METHODS, { required: true });
  const remoteMethod = reader.oneOf('remoteMethod', REMOTE_AUTH_METHODS, { required: true });
  const rsaPss = reader.boolean('rsaPss', false);
  const certificateRequests = reader.boolean('certificateRequests', true);
  const revocationObject = reader.object('revocation', { required: true });
  let revocation: Authentication['revocation'] | undefined;
  if (revocationObject) {
    const revocationReader = new FieldReader(log, revocationObject, `${path}.revocation`, ['ocsp', 'crl', 'strict']);
    revocation = {
      ocsp: revocationReader.boolean('ocsp', true),
      crl: revocationReader.boolean('crl', true),
      strict: revocationReader.boolean('strict', false),
    };
  }
  const issuer = reader.string('remoteCertificateIssuerCommonName', { max: 256 });
  const pskRef = readSecretRef(reader, log, 'pskRef', profileId);
  const eapPasswordRef = readSecretRef(reader, log, 'eapPasswordRef', profileId);
  const privateKeyRef = readSecretRef(reader, log, 'privateKeyRef', profileId);
  if (!method || !remoteMethod || !revocation) {
    return undefined;
  }

  const authentication: Authentication = { method, remoteMethod, rsaPss, certificateRequests, revocation };
  if (issuer !== undefined) {
    authentication.remoteCertificateIssuerCommonName = issuer;
  }
  if (pskRef) {
    authentication.pskRef = pskRef;
  }
  if (eapPasswordRef) {
    authentication.eapPasswordRef = eapPasswordRef;
  }
  if (privateKeyRef) {
    authentication.privateKeyRef = privateKeyRef;
  }
  return authentication;
}

const PEM_CERTIFICATE = /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?$/;

function readPem(log: IssueLog, value: unknown, path: string): string | undefined {
  if (typeof value !== 'string') {
    log.error(path, `expected a PEM certificate string, got ${typeName(value)}`, value);
    return undefined;
  }
  if (value.length > LIMITS.pemLength) {
    log.error(path, `certificate is longer than ${LIMITS.pemLength} characters`, value);
    return undefined;
  }
  if (!PEM_CERTIFICATE.test(value)) {
    log.error(path, 'expected one PEM certificate ("-----BEGIN CERTIFICATE-----" ... )', value);
    return undefined;
  }
  return value;
}

function readStringList(
  reader: FieldReader, log: IssueLog, key: string, max: number, check: (text: string) => string | null,
): string[] {
  return reader.list(key, max, (item, path) => {
    if (typeof item !== 'string' || item.length > 256) {
      log.error(path, 'expected a string of at most 256 characters', item);
      return undefined;
    }
    const problem = check(item);
    if (problem) {
      log.error(path, problem, item);
      return undefined;
    }
    return item;
  });
}

/** Returns an error message when `text` is not a valid traffic selector, else null. */
export function checkSelector(text: string): string | null {
  try {
    parseTrafficSelector(text);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

function readTrafficSelectors(log: IssueLog, object: Record<string, unknown>): TrafficSelectors {
  const reader = new FieldReader(log, object, 'trafficSelectors',
    ['local', 'remote', 'excluded', 'blockIpv4', 'blockIpv6']);
  return {
    local: readStringList(reader, log, 'local', LIMITS.selectors, checkSelector),
    remote: readStringList(reader, log, 'remote', LIMITS.selectors, checkSelector),
    excluded: readStringList(reader, log, 'excluded', LIMITS.selectors, checkSelector),
    blockIpv4: reader.boolean('blockIpv4', false),
    blockIpv6: reader.boolean('blockIpv6', false),
  };
}

function readAddress(log: IssueLog, item: unknown, path: string): string | undefined {
  if (typeof item !== 'string' || !(isIPv4(item) || isIPv6(item))) {
    log.error(path, 'expected an IPv4 or IPv6 address', item);
    return undefined;
  }
  return item;
}

function checkDomain(text: string): string | null {
  return isValidHost(text) ? null : 'expected a DNS domain name';
}

function readDns(log: IssueLog, object: Record<string, unknown>): DnsSettings {
  const reader = new FieldReader(log, object, 'dns', ['servers', 'searchDomains', 'matchDomains']);
  return {
    servers: reader.list('servers', LIMITS.dnsEntries, (item, path) => readAddress(log, item, path)),
    searchDomains: readStringList(reader, log, 'searchDomains', LIMITS.dnsEntries, checkDomain),
    matchDomains: readStringList(reader, log, 'matchDomains', LIMITS.dnsEntries, checkDomain),
  };
}

function readSaLifetime(log: IssueLog, value: unknown, path: string): SaLifetime {
  if (!isPlainObject(value)) {
    log.error(path, `expected an object, got ${typeName(value)}`, value);
    return {};
  }
  const reader = new FieldReader(log, value, path, ['rekeySeconds', 'lifeSeconds', 'rekeyBytes', 'rekeyPackets']);
  const lifetime: SaLifetime = {};
  const year = 365 * 86400;
  const rekeySeconds = reader.integer('rekeySeconds', 1, year);
  const lifeSeconds = reader.integer('lifeSeconds', 1, year);
  const rekeyBytes = reader.integer('rekeyBytes', 1, Number.MAX_SAFE_INTEGER);
  const rekeyPackets = reader.integer('rekeyPackets', 1, Number.MAX_SAFE_INTEGER);
  if (rekeySeconds !== undefined) {
    lifetime.rekeySeconds = rekeySeconds;
  }
  if (lifeSeconds !== undefined) {
    lifetime.lifeSeconds = lifeSeconds;
  }
  if (rekeyBytes !== undefined) {
    lifetime.rekeyBytes = rekeyBytes;
  }
  if (rekeyPackets !== undefined) {
    lifetime.rekeyPackets = rekeyPackets;
  }
  if (rekeySeconds !== undefined && lifeSeconds !== undefined && rekeySeconds > lifeSeconds) {
    log.error(`${path}.rekeySeconds`, 'the rekey time must not exceed the life time', rekeySeconds);
  }
  return lifetime;
}

function readLifetimes(log: IssueLog, object: Record<string, unknown>): Lifetimes {
  const reader = new FieldReader(log, object, 'lifetimes', ['ike', 'child']);
  return {
    ike: readSaLifetime(log, reader.raw('ike') ?? {}, 'lifetimes.ike'),
    child: readSaLifetime(log, reader.raw('child') ?? {}, 'lifetimes.child'),
  };
}

function readEncryption(log: IssueLog, value: unknown, path: string): EncryptionTransform | undefined {
  if (!isPlainObject(value)) {
    log.error(path, `expected an object with name and keyBits, got ${typeName(value)}`, value);
    return undefined;
  }
  const reader = new FieldReader(log, value, path, ['name', 'keyBits']);
  const name = reader.string('name', { required: true, max: 64 });
  const keyBits = reader.integer('keyBits', 0, 256, { required: true });
  if (name === undefined || keyBits === undefined) {
    return undefined;
  }
  if (!isEncryptionName(name)) {
    log.error(`${path}.name`, `unknown encryption transform; expected one of ${Object.keys(ENCRYPTION_ALGORITHMS).join(', ')}`, name);
    return undefined;
  }
  if (!ENCRYPTION_ALGORITHMS[name].keyLengths.includes(keyBits / 8)) {
    const allowed = ENCRYPTION_ALGORITHMS[name].keyLengths.map((bytes) => bytes * 8).join(', ');
    log.error(`${path}.keyBits`, `${name} takes a key of ${allowed} bits`, keyBits);
    return undefined;
  }
  return { name, keyBits };
}

function readNames<T extends string>(
  reader: FieldReader, log: IssueLog, key: string, isName: (text: string) => text is T, expected: string,
): T[] {
  return reader.list(key, LIMITS.transformsPerType, (item, path) => {
    if (typeof item !== 'string' || !isName(item)) {
      log.error(path, `unknown transform; expected one of ${expected}`, item);
      return undefined;
    }
    return item;
  });
}

const isPrfName = (text: string): text is keyof typeof PrfId => Object.hasOwn(PrfId, text);
const isKeyExchangeName = (text: string): text is keyof typeof KeyExchangeId => Object.hasOwn(KeyExchangeId, text);
const isEsnName = (text: string): text is (typeof ESN_NAMES)[number] => (ESN_NAMES as readonly string[]).includes(text);
const isIntegrity = (text: string) => isIntegrityName(text);

function readProposal(log: IssueLog, value: unknown, path: string, protocol: 'ike' | 'esp'): Proposal | undefined {
  if (!isPlainObject(value)) {
    log.error(path, `expected a proposal object, got ${typeName(value)}`, value);
    return undefined;
  }
  const errorsBefore = log.errors.length;
  const reader = new FieldReader(log, value, path, ['encryption', 'integrity', 'prf', 'keyExchange', 'esn']);
  const proposal: Proposal = {
    encryption: reader.list('encryption', LIMITS.transformsPerType, (item, itemPath) =>
      readEncryption(log, item, itemPath)),
    integrity: readNames(reader, log, 'integrity', isIntegrity, 'AUTH_HMAC_SHA1_96, AUTH_HMAC_SHA2_256_128, ...'),
    prf: readNames(reader, log, 'prf', isPrfName, Object.keys(PrfId).join(', ')),
    keyExchange: readNames(reader, log, 'keyExchange', isKeyExchangeName, Object.keys(KeyExchangeId).join(', ')),
    esn: readNames(reader, log, 'esn', isEsnName, ESN_NAMES.join(', ')),
  };
  if (log.errors.length > errorsBefore) {
    return undefined;
  }

  const aead = proposal.encryption.map((t) => ENCRYPTION_ALGORITHMS[t.name].icvLength > 0);
  if (proposal.encryption.length === 0) {
    log.error(`${path}.encryption`, 'a proposal needs at least one encryption transform');
  } else if (aead.includes(true) && aead.includes(false)) {
    // RFC 7296 section 3.3: combined-mode and separate ciphers go in separate proposals.
    log.error(`${path}.encryption`, 'a proposal cannot mix AEAD and non-AEAD ciphers; split it in two');
  } else if (aead[0] === true && proposal.integrity.length > 0) {
    log.error(`${path}.integrity`, 'an AEAD proposal takes no integrity transform; remove it');
  } else if (aead[0] === false && proposal.integrity.length === 0) {
    log.error(`${path}.integrity`, 'a non-AEAD proposal needs an integrity transform');
  }
  if (protocol === 'ike') {
    if (proposal.prf.length === 0) {
      log.error(`${path}.prf`, 'an IKE proposal needs a PRF');
    }
    if (proposal.keyExchange.length === 0) {
      log.error(`${path}.keyExchange`, 'an IKE proposal needs a key exchange method');
    }
    if (proposal.esn.length > 0) {
      log.error(`${path}.esn`, 'ESN applies to ESP proposals only; remove it');
    }
    if (proposal.encryption.some((t) => t.name === 'ENCR_NULL')) {
      log.error(`${path}.encryption`, 'IKE cannot use ENCR_NULL');
    }
  } else if (proposal.prf.length > 0) {
    log.error(`${path}.prf`, 'an ESP proposal takes no PRF; remove it');
  }
  return log.errors.length > errorsBefore ? undefined : proposal;
}

function readStaticSa(log: IssueLog, value: unknown, path: string, profileId: string): StaticSa | undefined {
  if (!isPlainObject(value)) {
    log.error(path, `expected a static SA object, got ${typeName(value)}`, value);
    return undefined;
  }
  const errorsBefore = log.errors.length;
  const reader = new FieldReader(log, value, path, [
    'spi', 'direction', 'protocol', 'encryption', 'integrity', 'encryptionKeyRef', 'integrityKeyRef',
    'mode', 'localAddress', 'peerAddress', 'encapsulation', 'localTs', 'remoteTs',
    'localInnerAddress', 'replayWindow', 'esn',
  ]);
  // RFC 4303 section 2.1: SPIs 1-255 are reserved by IANA and 0 is for local use only.
  const spi = reader.integer('spi', 256, MAX_SPI, { required: true });
  const direction = reader.oneOf('direction', ['in', 'out'] as const, { required: true });
  const protocol = reader.oneOf('protocol', ['esp', 'ah'] as const, { required: true });
  const encryption = reader.has('encryption')
    ? readEncryption(log, reader.raw('encryption'), `${path}.encryption`) : undefined;
  const integrityText = reader.string('integrity', { max: 64 });
  if (integrityText !== undefined && !isIntegrityName(integrityText)) {
    log.error(`${path}.integrity`, 'unknown integrity transform', integrityText);
  }
  const encryptionKeyRef = readSecretRef(reader, log, 'encryptionKeyRef', profileId);
  const integrityKeyRef = readSecretRef(reader, log, 'integrityKeyRef', profileId);
  const mode = reader.oneOf('mode', ['tunnel', 'transport'] as const, { required: true });
  const localAddress = readAddress(log, reader.raw('localAddress'), `${path}.localAddress`);
  const peerAddress = readAddress(log, reader.raw('peerAddress'), `${path}.peerAddress`);
  const encapsulation = readEncapsulation(log, reader.raw('encapsulation'), `${path}.encapsulation`);
  const localTs = readStringList(reader, log, 'localTs', LIMITS.selectors, checkSelector);
  const remoteTs = readStringList(reader, log, 'remoteTs', LIMITS.selectors, checkSelector);
  const localInnerAddress = reader.has('localInnerAddress')
    ? readAddress(log, reader.raw('localInnerAddress'), `${path}.localInnerAddress`) : undefined;
  const replayWindow = reader.integer('replayWindow', 0, MAX_REPLAY_WINDOW, { required: true });
  const esn = reader.boolean('esn', false);

  const integrity = integrityText !== undefined && isIntegrityName(integrityText) ? integrityText : undefined;
  checkStaticSaTransforms(log, (field) => `${path}.${field}`,
    { protocol, encryption, integrity, encryptionKeyRef, integrityKeyRef });

  if (log.errors.length > errorsBefore || spi === undefined || !direction || !protocol || !mode ||
    !localAddress || !peerAddress || !encapsulation || replayWindow === undefined) {
    return undefined;
  }
  const sa: StaticSa = {
    spi, direction, protocol, mode, localAddress, peerAddress, encapsulation, localTs, remoteTs,
    replayWindow, esn,
  };
  if (encryption) {
    sa.encryption = encryption;
  }
  if (integrity) {
    sa.integrity = integrity;
  }
  if (encryptionKeyRef) {
    sa.encryptionKeyRef = encryptionKeyRef;
  }
  if (integrityKeyRef) {
    sa.integrityKeyRef = integrityKeyRef;
  }
  if (localInnerAddress) {
    sa.localInnerAddress = localInnerAddress;
  }
  return sa;
}

interface StaticSaTransforms {
  protocol: 'esp' | 'ah' | undefined;
  encryption: EncryptionTransform | undefined;
  integrity: string | undefined;
  encryptionKeyRef: string | undefined;
  integrityKeyRef: string | undefined;
}

/** Checks the transform rules that apply to manually keyed SAs. */
export function checkStaticSaTransforms(
  log: IssueLog, pathOf: (field: string) => string, sa: StaticSaTransforms,
): void {
  if (sa.protocol === 'ah' && sa.encryption) {
    log.error(pathOf('encryption'), 'AH does not encrypt; remove the encryption transform');
  }
  if (sa.protocol === 'ah' && !sa.integrity) {
    log.error(pathOf('integrity'), 'an AH SA needs an integrity transform');
  }
  if (sa.protocol === 'esp' && !sa.encryption) {
    log.error(pathOf('encryption'), 'an ESP SA needs an encryption transform (ENCR_NULL for integrity only)');
  }
  if (sa.encryption && ENCRYPTION_ALGORITHMS[sa.encryption.name].counterIv) {
    // RFC 4106 section 8.1, RFC 4543 section 8 and RFC 7634 section 4 forbid manual keys: the
    // IV is a counter, and a restart would repeat IVs under the same key.
    log.error(pathOf('encryption'), `${sa.encryption.name} must not be used with manual keys because ` +
      'a restart would repeat IVs under the same key (RFC 4106 section 8.1, RFC 4543, RFC 7634); ' +
      'use ENCR_AES_CBC with an HMAC, or IKEv2');
  }
  const aead = sa.encryption ? ENCRYPTION_ALGORITHMS[sa.encryption.name].icvLength > 0 : false;
  if (sa.protocol === 'esp' && sa.encryption && !aead && !sa.integrity) {
    log.error(pathOf('integrity'), 'an ESP SA without an AEAD cipher needs an integrity transform');
  }
  if (sa.encryption && sa.encryption.name !== 'ENCR_NULL' && !sa.encryptionKeyRef) {
    log.error(pathOf('encryptionKeyRef'), 'missing the reference to the encryption key');
  }
  if (sa.integrity && !sa.integrityKeyRef) {
    log.error(pathOf('integrityKeyRef'), 'missing the reference to the integrity key');
  }
}

function readEncapsulation(log: IssueLog, value: unknown, path: string): StaticSa['encapsulation'] | undefined {
  if (!isPlainObject(value)) {
    log.error(path, `expected {"type": "raw"} or {"type": "udp", ...}, got ${typeName(value)}`, value);
    return undefined;
  }
  if (value.type === 'raw') {
    new FieldReader(log, value, path, ['type']);
    return { type: 'raw' };
  }
  if (value.type === 'udp') {
    const reader = new FieldReader(log, value, path, ['type', 'localPort', 'peerPort']);
    const localPort = reader.integer('localPort', 1, 65535, { required: true });
    const peerPort = reader.integer('peerPort', 1, 65535, { required: true });
    return localPort !== undefined && peerPort !== undefined ? { type: 'udp', localPort, peerPort } : undefined;
  }
  log.error(`${path}.type`, 'expected "raw" or "udp"', value.type);
  return undefined;
}
