/**
 * Imports Apple configuration profiles (`.mobileconfig`) with a `com.apple.vpn.managed` payload
 * of VPNType IKEv2, following Apple's Device Management reference for VPN, VPN.IKEv2 and the
 * certificate payloads. A signed profile (CMS SignedData, DER) is unwrapped first.
 */

import type forge from 'node-forge';

import { loadForge } from './forge.js';

import type { IntegrityName } from '../engine/transforms.js';
import { CertificateError, readCertificates } from './certificates.js';
import {
  chooseProfileId, finishImport, fullTunnelSelectors, readIdentityField, SecretBag,
} from './import-common.js';
import { REDACTED, type ImportOptions, type ImportResult, type IssueLog } from './import-result.js';
import {
  newIkev2Profile, type EncryptionTransform, type KeyExchangeName, type PrfName, type Profile, type Proposal,
} from './model.js';
import { unpackPkcs12 } from './pkcs12.js';
import { isPlistDict, parsePlist, PlistError, type PlistDict, type PlistValue } from './plist.js';
import { isValidHost } from './validate.js';

/** Dead peer detection rates in seconds, from Apple's NEVPNIKEv2DeadPeerDetectionRate. */
const DPD_RATES: Record<string, number> = { None: 0, Low: 30 * 60, Medium: 10 * 60, High: 60 };

const ENCRYPTION: Record<string, EncryptionTransform | string> = {
  'AES-128': { name: 'ENCR_AES_CBC', keyBits: 128 },
  'AES-256': { name: 'ENCR_AES_CBC', keyBits: 256 },
  'AES-128-GCM': { name: 'ENCR_AES_GCM_16', keyBits: 128 },
  'AES-256-GCM': { name: 'ENCR_AES_GCM_16', keyBits: 256 },
  ChaCha20Poly1305: { name: 'ENCR_CHACHA20_POLY1305', keyBits: 256 },
  DES: 'DES is a weak cipher (56-bit key) and Lupina does not offer it',
  '3DES': '3DES is a weak cipher (64-bit block) and Lupina does not offer it',
};

const INTEGRITY: Record<string, [IntegrityName, PrfName] | string> = {
  'SHA2-256': ['AUTH_HMAC_SHA2_256_128', 'PRF_HMAC_SHA2_256'],
  'SHA2-384': ['AUTH_HMAC_SHA2_384_192', 'PRF_HMAC_SHA2_384'],
  'SHA2-512': ['AUTH_HMAC_SHA2_512_256', 'PRF_HMAC_SHA2_512'],
  'SHA1-96': 'SHA1-96 is not offered for IKE because Lupina has no PRF-HMAC-SHA1',
  'SHA1-160': 'SHA1-160 (HMAC-SHA1 with a 160-bit ICV) is not supported',
};

const SECRET_KEYS = ['AuthPassword', 'SharedSecret', 'Password'];

const GROUPS: Record<number, KeyExchangeName> = {
  14: 'MODP_2048', 15: 'MODP_3072', 19: 'ECP_256', 20: 'ECP_384', 31: 'CURVE_25519',
};
const WEAK_GROUPS = [1, 2, 5, 22];

const IKEV2_KEYS = [
  'RemoteAddress', 'RemoteIdentifier', 'LocalIdentifier', 'AuthenticationMethod',
  'ExtendedAuthEnabled', 'AuthName', 'AuthPassword', 'SharedSecret', 'PayloadCertificateUUID',
  'ServerCertificateIssuerCommonName', 'DeadPeerDetectionRate', 'EnablePFS', 'MTU',
  'IKESecurityAssociationParameters', 'ChildSecurityAssociationParameters', 'CertificateType',
  'NATKeepAliveInterval', 'EnableCertificateRevocationCheck', 'DisableMOBIKE', 'DisableRedirect',
  'UseConfigurationAttributeInternalIPSubnet',
];

/** True when the bytes are plist XML or DER (a signed profile starts with a SEQUENCE). */
export function looksLikeMobileconfig(bytes: Uint8Array, text: string): boolean {
  return bytes[0] === 0x30 || /^\uFEFF?\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE plist|<plist)/.test(text);
}

export async function importMobileconfig(
  bytes: Uint8Array, options: ImportOptions, log: IssueLog,
): Promise<ImportResult> {
  const xml = bytes[0] === 0x30 ? unwrapSignedProfile(await loadForge(), bytes, log) : Buffer.from(bytes).toString('utf8');
  let root: PlistValue;
  try {
    root = parsePlist(xml);
  } catch (error) {
    if (error instanceof PlistError) {
      log.fail(`line ${error.line}`, `${error.message}; the file is not a valid configuration profile`);
    }
    throw error;
  }
  if (!isPlistDict(root)) {
    log.fail('(root)', 'expected a <dict> at the top of the profile');
  }
  const payloads = Array.isArray(root.PayloadContent) ? root.PayloadContent.filter(isPlistDict) : [];
  const vpn = chooseVpnPayload(payloads, options, log);

  const ikev2 = isPlistDict(vpn.IKEv2) ? vpn.IKEv2 : log.fail('IKEv2', 'the VPN payload has no IKEv2 dictionary');
  warnUnknownKeys(ikev2, log);

  const address = stringValue(ikev2, 'RemoteAddress', log);
  if (address === undefined || !isValidHost(address)) {
    log.fail('IKEv2.RemoteAddress', 'missing or invalid server address', address);
  }
  const id = chooseProfileId(options);
  const name = stringValue(vpn, 'UserDefinedName', log) ?? stringValue(root, 'PayloadDisplayName', log) ?? address;
  const profile = newIkev2Profile(id, name.slice(0, 256), { address, port: 500, preferIpv6: false });
  const secrets = new SecretBag(id);

  readIdentities(ikev2, profile, log);
  await readAuthentication(ikev2, payloads, profile, secrets, options, log);
  readTrustedRoots(payloads, profile, log);
  readTimersAndMtu(ikev2, profile, log);
  readProposals(ikev2, profile, log);
  readDns(vpn, profile, log);
  profile.trafficSelectors.remote = fullTunnelSelectors();
  profile.virtualIps = ['0.0.0.0', '::'];
  warnOtherVpnKeys(vpn, log);

  return finishImport(profile, secrets, log, 'mobileconfig');
}

/** Extracts the content of a CMS SignedData profile. The signature is not verified. */
function unwrapSignedProfile(nodeForge: typeof forge, bytes: Uint8Array, log: IssueLog): string {
  let content: string | undefined;
  try {
    const asn1 = nodeForge.asn1.fromDer(Buffer.from(bytes).toString('binary'));
    const message = nodeForge.pkcs7.messageFromAsn1(asn1) as forge.pkcs7.PkcsSignedData & {
      rawCapture?: { content?: forge.asn1.Asn1 };
    };
    content = octetStringContent(nodeForge, message.rawCapture?.content?.value);
  } catch (error) {
    log.fail('(root)', `the file is neither plist XML nor a valid signed profile (${(error as Error).message})`);
  }
  if (!content) {
    log.fail('(root)', 'the signed profile has no content; ask for an unsigned or complete file');
  }
  // NOTE: node-forge cannot verify CMS signatures, so the signer is not checked.
  log.warn('(signature)', 'the profile is signed, but Lupina did not verify the signature; import ' +
    'it only if you got it from your IT department through a channel you trust');
  return Buffer.from(content, 'binary').toString('utf8');
}

/**
 * Returns the bytes of the eContent OCTET STRING inside the [0] EXPLICIT wrapper, joining the
 * chunks of a constructed (BER) OCTET STRING.
 */
function octetStringContent(nodeForge: typeof forge, wrapped: forge.asn1.Asn1['value'] | undefined): string | undefined {
  const octets = Array.isArray(wrapped) ? wrapped[0] : undefined;
  if (!octets || octets.type !== nodeForge.asn1.Type.OCTETSTRING) {
    return undefined;
  }
  if (typeof octets.value === 'string') {
    return octets.value;
  }
  return octets.value.map((chunk) => (typeof chunk.value === 'string' ? chunk.value : '')).join('');
}

function chooseVpnPayload(payloads: PlistDict[], options: ImportOptions, log: IssueLog): PlistDict {
  const vpnPayloads = payloads.filter((payload) =>
    typeof payload.PayloadType === 'string' && payload.PayloadType.startsWith('com.apple.vpn.managed'));
  if (vpnPayloads.length === 0) {
    log.fail('PayloadContent', 'the profile contains no VPN payload (com.apple.vpn.managed)');
  }
  const ikev2 = vpnPayloads.filter((payload) => payload.VPNType === 'IKEv2');
  if (ikev2.length === 0) {
    const types = vpnPayloads.map((payload) => String(payload.VPNType)).join(', ');
    log.fail('VPNType', `only IKEv2 is supported; this profile is ${types} (IKEv1, L2TP, PPTP and ` +
      'IPsec/XAuth profiles cannot be imported). Ask IT for an IKEv2 profile', types);
  }
  if (ikev2.length === 1) {
    return ikev2[0]!;
  }
  const names = ikev2.map((payload) => String(payload.UserDefinedName ?? payload.PayloadDisplayName));
  const chosen = ikev2.find((payload) => payload.UserDefinedName === options.connectionName);
  if (!chosen) {
    log.fail('PayloadContent', `the profile contains ${ikev2.length} IKEv2 VPNs (${names.join(', ')}); ` +
      'choose one by name');
  }
  return chosen;
}

function warnUnknownKeys(ikev2: PlistDict, log: IssueLog): void {
  for (const key of Object.keys(ikev2)) {
    if (!IKEV2_KEYS.includes(key)) {
      log.warn(`IKEv2.${key}`, `"${key}" is not supported by Lupina and was ignored`, describeShape(ikev2[key]));
    }
  }
  for (const key of ['DisableMOBIKE', 'DisableRedirect', 'UseConfigurationAttributeInternalIPSubnet']) {
    if (ikev2[key] !== undefined) {
      log.warn(`IKEv2.${key}`, `"${key}" is not supported by Lupina and was ignored`, describeShape(ikev2[key]));
    }
  }
}

function warnOtherVpnKeys(vpn: PlistDict, log: IssueLog): void {
  const known = ['PayloadType', 'PayloadVersion', 'PayloadIdentifier', 'PayloadUUID', 'PayloadDisplayName',
    'PayloadDescription', 'PayloadOrganization', 'UserDefinedName', 'VPNType', 'IKEv2', 'DNS', 'VPNSubType'];
  for (const key of Object.keys(vpn)) {
    if (!known.includes(key)) {
      log.warn(key, `"${key}" is not supported by Lupina and was ignored`, describeShape(vpn[key]));
    }
  }
}

function describe(value: PlistValue | undefined): string {
  if (value instanceof Uint8Array) {
    return `<${value.length} bytes>`;
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * Describes a value by its type only, except for numbers and booleans. Used for keys that Lupina
 * does not read, because such a key may hold a password or key material (a SharedSecret in an
 * IPSec dictionary, an AuthPassword at the wrong level).
 */
function describeShape(value: PlistValue | undefined): string {
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  if (typeof value === 'string') {
    return '<string>';
  }
  if (value instanceof Uint8Array) {
    return `<data, ${value.length} bytes>`;
  }
  if (value instanceof Date) {
    return '<date>';
  }
  if (Array.isArray(value)) {
    return `<array of ${value.length}>`;
  }
  return value === undefined ? '<missing>' : `<dict with ${Object.keys(value).length} keys>`;
}

function stringValue(dict: PlistDict, key: string, log: IssueLog): string | undefined {
  const value = dict[key];
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string') {
    log.error(key, 'expected a <string>', SECRET_KEYS.includes(key) ? REDACTED : describe(value));
    return undefined;
  }
  return SECRET_KEYS.includes(key) ? value : value.trim();
}

function integerValue(dict: PlistDict, key: string, path: string, log: IssueLog): number | undefined {
  const value = dict[key];
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    log.error(path, 'expected an <integer>', describe(value));
    return undefined;
  }
  return value;
}

/** Apple writes flags as <integer>0/1</integer> or as <true/>/<false/>. */
function flagValue(dict: PlistDict, key: string, path: string, log: IssueLog): boolean | undefined {
  const value = dict[key];
  if (value === undefined) {
    return undefined;
  }
  if (typeof value === 'boolean') {
    return value;
  }
  if (value === 0 || value === 1) {
    return value === 1;
  }
  log.error(path, 'expected 0, 1, <true/> or <false/>', describe(value));
  return undefined;
}

function readIdentities(ikev2: PlistDict, profile: Profile, log: IssueLog): void {
  const local = readIdentityField(stringValue(ikev2, 'LocalIdentifier', log), log, 'IKEv2.LocalIdentifier');
  const remote = readIdentityField(stringValue(ikev2, 'RemoteIdentifier', log), log, 'IKEv2.RemoteIdentifier');
  if (local) {
    profile.identities.local = local;
  }
  if (remote) {
    profile.identities.remote = remote;
  } else {
    log.warn('IKEv2.RemoteIdentifier', 'missing; the gateway identity is not checked against a ' +
      'configured name, only against its certificate');
  }
}

async function readAuthentication(
  ikev2: PlistDict, payloads: PlistDict[], profile: Profile, secrets: SecretBag,
  options: ImportOptions, log: IssueLog,
): Promise<void> {
  const authentication = profile.authentication!;
  const method = stringValue(ikev2, 'AuthenticationMethod', log) ?? 'None';
  const eap = flagValue(ikev2, 'ExtendedAuthEnabled', 'IKEv2.ExtendedAuthEnabled', log) ?? false;
  if (!['None', 'SharedSecret', 'Certificate'].includes(method)) {
    log.fail('IKEv2.AuthenticationMethod', 'expected None, SharedSecret or Certificate', method);
  }

  const certificateUuid = stringValue(ikev2, 'PayloadCertificateUUID', log);
  if (method === 'SharedSecret') {
    const secret = stringValue(ikev2, 'SharedSecret', log);
    authentication.remoteMethod = 'psk';
    authentication.method = eap ? 'eap-mschapv2' : 'psk';
    if (secret) {
      authentication.pskRef = secrets.add('psk', secret);
    } else {
      log.warn('IKEv2.SharedSecret', 'the profile contains no shared secret; enter it before connecting');
    }
  } else if (method === 'Certificate') {
    authentication.method = eap ? 'certificate+eap-mschapv2' : 'certificate';
  } else if (eap) {
    authentication.method = 'eap-mschapv2';
  } else {
    log.fail('IKEv2.AuthenticationMethod', 'AuthenticationMethod None without ExtendedAuthEnabled ' +
      'leaves the client no way to authenticate', method);
  }
  if (eap && method === 'Certificate' && !certificateUuid) {
    authentication.method = 'eap-mschapv2';
  }

  if (eap) {
    const user = stringValue(ikev2, 'AuthName', log);
    const eapId = readIdentityField(user, log, 'IKEv2.AuthName');
    if (eapId) {
      profile.identities.eap = eapId;
    }
    const password = stringValue(ikev2, 'AuthPassword', log);
    if (password) {
      authentication.eapPasswordRef = secrets.add('eap-password', password);
    }
  }

  const issuer = stringValue(ikev2, 'ServerCertificateIssuerCommonName', log);
  if (issuer) {
    authentication.remoteCertificateIssuerCommonName = issuer;
  }
  const revocation = flagValue(ikev2, 'EnableCertificateRevocationCheck', 'IKEv2.EnableCertificateRevocationCheck', log);
  if (revocation !== undefined) {
    authentication.revocation.ocsp = revocation;
    authentication.revocation.crl = revocation;
  }

  if (authentication.method.startsWith('certificate')) {
    if (!certificateUuid) {
      log.fail('IKEv2.PayloadCertificateUUID', 'certificate authentication needs PayloadCertificateUUID ' +
        'naming the PKCS#12 payload with the client certificate');
    }
    await readClientCertificate(certificateUuid, payloads, profile, secrets, options, log);
  }
}

async function readClientCertificate(
  uuid: string, payloads: PlistDict[], profile: Profile, secrets: SecretBag,
  options: ImportOptions, log: IssueLog,
): Promise<void> {
  const path = 'IKEv2.PayloadCertificateUUID';
  const payload = payloads.find((candidate) => candidate.PayloadUUID === uuid);
  if (!payload) {
    log.fail(path, 'no payload in the profile has this PayloadUUID', uuid);
  }
  if (payload.PayloadType !== 'com.apple.security.pkcs12') {
    log.fail(path, `the payload is ${String(payload.PayloadType)}, but a client certificate must be a ` +
      'com.apple.security.pkcs12 payload with its private key', uuid);
  }
  const content = payload.PayloadContent;
  if (!(content instanceof Uint8Array)) {
    log.fail(path, 'the PKCS#12 payload has no <data> PayloadContent', uuid);
  }
  const embedded = typeof payload.Password === 'string' ? payload.Password : undefined;
  const display = typeof payload.PayloadDisplayName === 'string' ? payload.PayloadDisplayName : uuid;
  const file = options.fileName ?? 'the configuration profile';
  const label = `the client certificate "${display}" (PKCS#12) in ${file}: enter the certificate ` +
    'password that came with the profile';
  const unpackOptions: ImportOptions = embedded === undefined ? options : {
    ...options,
    passwords: async (request) => request.attempt === 1 ? embedded : options.passwords?.(request),
  };
  const contents = await unpackPkcs12(content, label, unpackOptions, log, path);
  profile.clientCertificate = contents.certificate;
  profile.authentication!.privateKeyRef = secrets.add('private-key', contents.privateKey);
  profile.trustedCaCertificates.push(...contents.caCertificates);
}

function readTrustedRoots(payloads: PlistDict[], profile: Profile, log: IssueLog): void {
  const types = ['com.apple.security.root', 'com.apple.security.pem', 'com.apple.security.pkcs1'];
  payloads.forEach((payload, index) => {
    if (typeof payload.PayloadType !== 'string' || !types.includes(payload.PayloadType)) {
      return;
    }
    const content = payload.PayloadContent;
    const path = `PayloadContent[${index}].PayloadContent`;
    if (!(content instanceof Uint8Array)) {
      log.error(path, 'expected the certificate as <data>', describe(content));
      return;
    }
    try {
      profile.trustedCaCertificates.push(...readCertificates(content));
    } catch (error) {
      if (!(error instanceof CertificateError)) {
        throw error;
      }
      log.error(path, `${error.message}; ask for the certificate again`);
    }
  });
}

function readTimersAndMtu(ikev2: PlistDict, profile: Profile, log: IssueLog): void {
  const rate = stringValue(ikev2, 'DeadPeerDetectionRate', log) ?? 'Medium';
  const seconds = DPD_RATES[rate];
  if (seconds === undefined) {
    log.error('IKEv2.DeadPeerDetectionRate', 'expected None, Low, Medium or High', rate);
  } else {
    profile.dpdSeconds = seconds;
  }
  const mtu = integerValue(ikev2, 'MTU', 'IKEv2.MTU', log);
  if (mtu !== undefined) {
    if (mtu < 576 || mtu > 9000) {
      log.error('IKEv2.MTU', 'expected an MTU from 576 to 9000', mtu);
    } else {
      profile.mtu = mtu;
    }
  }
  const keepalive = integerValue(ikev2, 'NATKeepAliveInterval', 'IKEv2.NATKeepAliveInterval', log);
  if (keepalive !== undefined) {
    if (keepalive < 10 || keepalive > 3600) {
      log.error('IKEv2.NATKeepAliveInterval', 'expected seconds from 10 to 3600', keepalive);
    } else {
      profile.natKeepaliveSeconds = keepalive;
    }
  }
}

function readProposals(ikev2: PlistDict, profile: Profile, log: IssueLog): void {
  const ikeParameters = ikev2.IKESecurityAssociationParameters;
  const childParameters = ikev2.ChildSecurityAssociationParameters;
  const pfs = flagValue(ikev2, 'EnablePFS', 'IKEv2.EnablePFS', log) ?? false;

  const ike = readSaParameters(ikeParameters, 'IKEv2.IKESecurityAssociationParameters', 'ike', true, log);
  const child = readSaParameters(childParameters, 'IKEv2.ChildSecurityAssociationParameters', 'esp', pfs, log);
  if (ike) {
    profile.ikeProposals = [ike.proposal];
    profile.lifetimes.ike.rekeySeconds = ike.lifetimeSeconds;
  }
  if (child) {
    profile.espProposals = [child.proposal];
    profile.lifetimes.child.rekeySeconds = child.lifetimeSeconds;
  }
}

/**
 * Builds the single proposal of an SA parameters dictionary, with Apple's defaults for missing
 * keys (AES-256, SHA2-256, group 14, 1440 minutes).
 */
function readSaParameters(
  value: PlistValue | undefined, path: string, protocol: 'ike' | 'esp', withGroup: boolean, log: IssueLog,
): { proposal: Proposal; lifetimeSeconds: number } | undefined {
  const dict: PlistDict = value === undefined ? {} : isPlistDict(value) ? value : {};
  if (value !== undefined && !isPlistDict(value)) {
    log.error(path, 'expected a <dict>', describe(value));
    return undefined;
  }

  const encryptionName = stringValue(dict, 'EncryptionAlgorithm', log) ?? 'AES-256';
  const integrityName = stringValue(dict, 'IntegrityAlgorithm', log) ?? 'SHA2-256';
  const group = integerValue(dict, 'DiffieHellmanGroup', `${path}.DiffieHellmanGroup`, log) ?? 14;
  const minutes = integerValue(dict, 'LifeTimeInMinutes', `${path}.LifeTimeInMinutes`, log) ?? 1440;

  const encryption = ENCRYPTION[encryptionName];
  if (encryption === undefined || typeof encryption === 'string') {
    log.error(`${path}.EncryptionAlgorithm`, `${encryption ?? `unknown algorithm "${encryptionName}"`}; ` +
      'ask IT for AES-256-GCM or AES-256 with SHA2-256', encryptionName);
    return undefined;
  }
  const aead = encryption.name !== 'ENCR_AES_CBC';
  const integrity = INTEGRITY[integrityName];
  const proposal: Proposal = { encryption: [encryption], integrity: [], prf: [], keyExchange: [], esn: [] };

  if (typeof integrity === 'string' && integrityName === 'SHA1-96' && protocol === 'esp' && !aead) {
    proposal.integrity = ['AUTH_HMAC_SHA1_96'];
  } else if (integrity === undefined || typeof integrity === 'string') {
    // With AEAD in IKE the integrity setting picks the PRF, so it still matters there.
    if (!(aead && protocol === 'esp')) {
      log.error(`${path}.IntegrityAlgorithm`, `${integrity ?? `unknown algorithm "${integrityName}"`}; ` +
        'use SHA2-256, SHA2-384 or SHA2-512', integrityName);
      return undefined;
    }
  } else {
    if (!aead) {
      proposal.integrity = [integrity[0]];
    }
    if (protocol === 'ike') {
      proposal.prf = [integrity[1]];
    }
  }

  if (withGroup) {
    const name = GROUPS[group];
    if (!name) {
      const reason = WEAK_GROUPS.includes(group) ? 'is a weak group' : 'is not supported by Lupina';
      log.error(`${path}.DiffieHellmanGroup`, `group ${group} ${reason}; use 14, 15, 19, 20 or 31`, group);
      return undefined;
    }
    proposal.keyExchange = [name];
  }
  if (minutes < 10 || minutes > 1440 * 30) {
    log.error(`${path}.LifeTimeInMinutes`, 'expected minutes from 10 to 43200', minutes);
    return undefined;
  }
  return { proposal, lifetimeSeconds: minutes * 60 };
}

function readDns(vpn: PlistDict, profile: Profile, log: IssueLog): void {
  const dns = vpn.DNS;
  if (dns === undefined) {
    return;
  }
  if (!isPlistDict(dns)) {
    log.error('DNS', 'expected a <dict>', describe(dns));
    return;
  }
  const lists: Array<[string, string[]]> = [
    ['ServerAddresses', profile.dns.servers],
    ['SearchDomains', profile.dns.searchDomains],
    ['SupplementalMatchDomains', profile.dns.matchDomains],
  ];
  for (const [key, target] of lists) {
    const value = dns[key];
    if (value === undefined) {
      continue;
    }
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
      log.error(`DNS.${key}`, 'expected an <array> of <string>', describe(value));
      continue;
    }
    for (const item of value as string[]) {
      if (!isValidHost(item) || (key === 'ServerAddresses' && !/^[0-9a-f.:]+$/i.test(item))) {
        log.error(`DNS.${key}`, key === 'ServerAddresses' ? 'expected an IP address' : 'expected a domain name', item);
        continue;
      }
      target.push(item);
    }
  }
  for (const key of Object.keys(dns)) {
    if (!lists.some(([known]) => known === key)) {
      log.warn(`DNS.${key}`, `"${key}" is not supported by Lupina and was ignored`, describeShape(dns[key]));
    }
  }
}
