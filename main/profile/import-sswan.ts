/**
 * Imports the `.sswan` JSON profiles of the strongSwan VPN Client for Android (documented at
 * docs.strongswan.org, "Android VPN Client Profiles"). Lists may be JSON arrays or text
 * separated by spaces. `remote.cert` is base64 DER or PEM, and `local.p12` is a base64 PKCS#12
 * file that is unpacked here.
 */

import { CertificateError, decodeBase64, readCertificates } from './certificates.js';
import {
  chooseProfileId, finishImport, fullTunnelSelectors, readIdentityField, readSelectors,
  SecretBag, settleProposals, splitList,
} from './import-common.js';
import type { ImportOptions, ImportResult, IssueLog } from './import-result.js';
import { DEFAULT_IKE_PORT, newIkev2Profile, type AuthMethod } from './model.js';
import { unpackPkcs12 } from './pkcs12.js';
import { parseProposals } from './proposal.js';
import { checkKeys, isPlainObject, isValidHost } from './validate.js';

const TYPES: Record<string, { method: AuthMethod; note?: string }> = {
  'ikev2-eap': { method: 'eap-mschapv2' },
  'ikev2-cert': { method: 'certificate' },
  'ikev2-cert-eap': { method: 'certificate+eap-mschapv2' },
  'ikev2-eap-tls': { method: 'eap-tls' },
  'ikev2-byod-eap': {
    method: 'eap-mschapv2',
    note: 'the BYOD health check (TNC over EAP) is not supported; the profile uses EAP-MSCHAPv2 ' +
      'alone, which the gateway may reject if it requires the health check',
  },
};

const TOP_LEVEL_KEYS = [
  'uuid', 'name', 'type', 'remote', 'local', 'ike-proposal', 'esp-proposal', 'dns-servers', 'mtu',
  'nat-keepalive', 'ipv6-transport', 'split-tunneling',
];
const REMOTE_KEYS = ['addr', 'port', 'id', 'cert', 'certreq', 'revocation'];
const LOCAL_KEYS = ['id', 'eap_id', 'p12', 'rsa-pss'];
const SPLIT_KEYS = ['subnets', 'excluded', 'block-ipv4', 'block-ipv6'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when parsed JSON has the shape of a `.sswan` profile. */
export function looksLikeSswan(json: unknown): boolean {
  return isPlainObject(json) && typeof json.type === 'string' && isPlainObject(json.remote);
}

export async function importSswan(json: unknown, options: ImportOptions, log: IssueLog): Promise<ImportResult> {
  if (!isPlainObject(json) || !checkKeys(json, log)) {
    if (!isPlainObject(json)) {
      log.error('(root)', 'expected a JSON object with "type" and "remote"');
    }
    return { ok: false, errors: log.errors, format: 'sswan' };
  }
  warnUnknownKeys(json, TOP_LEVEL_KEYS, '', log);

  const type = readType(json, log);
  const remote = isPlainObject(json.remote) ? json.remote : log.fail('remote', 'missing "remote" object');
  const local = isPlainObject(json.local) ? json.local : {};
  if (json.local !== undefined && !isPlainObject(json.local)) {
    log.error('local', 'expected an object', json.local);
  }
  warnUnknownKeys(remote, REMOTE_KEYS, 'remote', log);
  warnUnknownKeys(local, LOCAL_KEYS, 'local', log);

  const id = readUuid(json.uuid, options, log);
  const address = typeof remote.addr === 'string' ? remote.addr.trim() : '';
  if (!isValidHost(address)) {
    log.fail('remote.addr', 'missing or invalid gateway address; expected a host name or IP address', remote.addr);
  }
  const port = readInteger(remote.port, 'remote.port', 1, 65535, log) ?? DEFAULT_IKE_PORT;
  const name = typeof json.name === 'string' && json.name.trim() !== '' ? json.name.trim().slice(0, 256) : address;
  const profile = newIkev2Profile(id, name, {
    address, port, preferIpv6: readBoolean(json['ipv6-transport'], 'ipv6-transport', false, log),
  });
  const secrets = new SecretBag(id);
  const authentication = profile.authentication!;
  authentication.method = TYPES[type]!.method;
  if (TYPES[type]!.note) {
    log.warn('type', TYPES[type]!.note!, type);
  }

  const localId = readIdentityField(stringField(local.id, 'local.id', log), log, 'local.id');
  const remoteId = readIdentityField(stringField(remote.id, 'remote.id', log), log, 'remote.id');
  const eapId = readIdentityField(stringField(local.eap_id, 'local.eap_id', log), log, 'local.eap_id');
  if (localId) {
    profile.identities.local = localId;
  }
  if (remoteId) {
    profile.identities.remote = remoteId;
  }
  if (eapId) {
    profile.identities.eap = eapId;
  }
  if (authentication.method.includes('mschapv2') && !eapId) {
    log.warn('local.eap_id', 'the file names no EAP user name; enter it before connecting');
  }

  authentication.rsaPss = readBoolean(local['rsa-pss'], 'local.rsa-pss', false, log);
  authentication.certificateRequests = readBoolean(remote.certreq, 'remote.certreq', true, log);
  readRevocation(remote.revocation, authentication.revocation, log);

  readRemoteCertificate(remote.cert, profile.trustedCaCertificates, log);
  await readClientPkcs12(local.p12, options, profile, secrets, log);
  if (authentication.method !== 'eap-mschapv2' && local.p12 === undefined) {
    log.warn('local.p12', 'the file contains no client certificate; import a PKCS#12 file with the ' +
      'certificate and key before connecting');
  }

  const ike = json['ike-proposal'];
  const esp = json['esp-proposal'];
  profile.ikeProposals = settleProposals(ike === undefined ? undefined
    : parseProposals(stringField(ike, 'ike-proposal', log) ?? '', 'ike', log, 'ike-proposal'), 'ike', log, 'ike-proposal');
  profile.espProposals = settleProposals(esp === undefined ? undefined
    : parseProposals(stringField(esp, 'esp-proposal', log) ?? '', 'esp', log, 'esp-proposal'), 'esp', log, 'esp-proposal');

  readSplitTunneling(json['split-tunneling'], profile.trafficSelectors, log);
  profile.virtualIps = ['0.0.0.0', '::'];
  profile.dns.servers = readDnsServers(json['dns-servers'], log);
  const mtu = readInteger(json.mtu, 'mtu', 576, 9000, log);
  if (mtu !== undefined) {
    profile.mtu = mtu;
  }
  profile.natKeepaliveSeconds = readInteger(json['nat-keepalive'], 'nat-keepalive', 10, 120, log) ??
    profile.natKeepaliveSeconds;

  return finishImport(profile, secrets, log, 'sswan');
}

function warnUnknownKeys(object: Record<string, unknown>, known: string[], path: string, log: IssueLog): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) {
      const keyPath = path === '' ? key : `${path}.${key}`;
      log.warn(keyPath, `"${key}" is not supported by Lupina and was ignored (per-app VPN, proxy and ` +
        'other Android-only settings have no desktop equivalent)');
    }
  }
}

function readType(json: Record<string, unknown>, log: IssueLog): string {
  const type = json.type;
  if (typeof type !== 'string' || !Object.hasOwn(TYPES, type)) {
    log.fail('type', `unsupported VPN type; only IKEv2 is supported, with one of ${Object.keys(TYPES).join(', ')}`, type);
  }
  return type;
}

function readUuid(value: unknown, options: ImportOptions, log: IssueLog): string {
  if (typeof value === 'string' && UUID.test(value)) {
    return value.toLowerCase();
  }
  const id = chooseProfileId(options);
  log.warn('uuid', 'missing or invalid UUID; the profile got a new one, so importing the file again ' +
    'creates a second profile instead of replacing this one', value);
  return id;
}

function stringField(value: unknown, path: string, log: IssueLog): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string') {
    log.error(path, 'expected a string', value);
    return undefined;
  }
  return value;
}

function readBoolean(value: unknown, path: string, fallback: boolean, log: IssueLog): boolean {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'boolean') {
    log.error(path, 'expected true or false', value);
    return fallback;
  }
  return value;
}

function readInteger(value: unknown, path: string, min: number, max: number, log: IssueLog): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const number = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    log.error(path, `expected an integer from ${min} to ${max}`, value);
    return undefined;
  }
  return number;
}

function readRevocation(
  value: unknown, revocation: { ocsp: boolean; crl: boolean; strict: boolean }, log: IssueLog,
): void {
  if (value === undefined) {
    return;
  }
  if (!isPlainObject(value)) {
    log.error('remote.revocation', 'expected an object with ocsp, crl and strict', value);
    return;
  }
  warnUnknownKeys(value, ['ocsp', 'crl', 'strict'], 'remote.revocation', log);
  revocation.ocsp = readBoolean(value.ocsp, 'remote.revocation.ocsp', revocation.ocsp, log);
  revocation.crl = readBoolean(value.crl, 'remote.revocation.crl', revocation.crl, log);
  revocation.strict = readBoolean(value.strict, 'remote.revocation.strict', revocation.strict, log);
}

function readRemoteCertificate(value: unknown, trusted: string[], log: IssueLog): void {
  if (value === undefined) {
    return;
  }
  if (typeof value !== 'string') {
    log.error('remote.cert', 'expected base64 DER or PEM text', value);
    return;
  }
  try {
    trusted.push(...readCertificates(value));
  } catch (error) {
    if (!(error instanceof CertificateError)) {
      throw error;
    }
    log.error('remote.cert', `${error.message}; ask for the CA certificate again`, value);
  }
}

async function readClientPkcs12(
  value: unknown, options: ImportOptions, profile: ReturnType<typeof newIkev2Profile>,
  secrets: SecretBag, log: IssueLog,
): Promise<void> {
  if (value === undefined) {
    return;
  }
  if (typeof value !== 'string') {
    log.error('local.p12', 'expected base64 of a PKCS#12 file', '<redacted>');
    return;
  }
  let der: Uint8Array;
  try {
    der = decodeBase64(value);
  } catch {
    log.error('local.p12', 'the PKCS#12 data is not valid base64; ask for a new file', '<redacted>');
    return;
  }
  const file = options.fileName ?? 'the .sswan file';
  const label = `the client certificate (PKCS#12, local.p12) in ${file}: enter the certificate ` +
    'password that came with the file';
  const contents = await unpackPkcs12(der, label, options, log, 'local.p12');
  profile.clientCertificate = contents.certificate;
  profile.authentication!.privateKeyRef = secrets.add('private-key', contents.privateKey);
  if (contents.caCertificates.length > 0) {
    log.warn('local.p12', `the PKCS#12 file also contains ${contents.caCertificates.length} CA ` +
      'certificate(s); they are trusted for the gateway certificate as well');
    profile.trustedCaCertificates.push(...contents.caCertificates);
  }
}

function readSplitTunneling(
  value: unknown, selectors: ReturnType<typeof newIkev2Profile>['trafficSelectors'], log: IssueLog,
): void {
  selectors.remote = fullTunnelSelectors();
  if (value === undefined) {
    return;
  }
  if (!isPlainObject(value)) {
    log.error('split-tunneling', 'expected an object with subnets, excluded, block-ipv4 and block-ipv6', value);
    return;
  }
  warnUnknownKeys(value, SPLIT_KEYS, 'split-tunneling', log);
  const subnets = readSelectors(splitList(value.subnets), log, 'split-tunneling.subnets');
  if (subnets.length > 0) {
    selectors.remote = subnets;
  }
  selectors.excluded = readSelectors(splitList(value.excluded), log, 'split-tunneling.excluded');
  selectors.blockIpv4 = readBoolean(value['block-ipv4'], 'split-tunneling.block-ipv4', false, log);
  selectors.blockIpv6 = readBoolean(value['block-ipv6'], 'split-tunneling.block-ipv6', false, log);
}

function readDnsServers(value: unknown, log: IssueLog): string[] {
  const servers: string[] = [];
  for (const item of splitList(value)) {
    if (!isValidHost(item) || !/^[0-9a-f.:]+$/i.test(item)) {
      log.error('dns-servers', 'expected IP addresses separated by spaces', item);
      continue;
    }
    servers.push(item);
  }
  return servers;
}
