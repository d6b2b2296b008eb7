/**
 * The saved connection profile, version 1. One model covers IKEv2 connections and manually keyed
 * (static) SAs. Secrets are never part of it: fields ending in `Ref` name an entry in the
 * SecretStore, and the importer returns the secret bytes separately.
 */

import type { EncryptionName, IntegrityName } from '../engine/transforms.js';

export const PROFILE_VERSION = 1;

/** Default NAT keepalive interval in seconds, as strongSwan uses. */
export const DEFAULT_NAT_KEEPALIVE_SECONDS = 20;
export const DEFAULT_IKE_PORT = 500;

export type ProfileKind = 'ikev2' | 'manual';

/** IKEv2 identification types (RFC 7296 section 3.5). */
export const IDENTITY_TYPES = [
  'FQDN', 'RFC822_ADDR', 'ID_IPV4_ADDR', 'ID_IPV6_ADDR', 'DER_ASN1_DN', 'KEY_ID',
] as const;
export type IdentityType = (typeof IDENTITY_TYPES)[number];

/** An IKE identity; `value` is text, and hex digits for KEY_ID. */
export interface Identity {
  type: IdentityType;
  value: string;
}

export interface Identities {
  local?: Identity;
  remote?: Identity;
  /** EAP identity when it differs from the IKE identity (RFC 3748 section 5.1). */
  eap?: Identity;
}

/**
 * How the client authenticates. `certificate+eap-mschapv2` is a certificate round followed by an
 * EAP round (multiple authentication, RFC 4739).
 */
export const AUTH_METHODS = [
  'psk', 'certificate', 'eap-mschapv2', 'eap-tls', 'certificate+eap-mschapv2',
] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export const REMOTE_AUTH_METHODS = ['certificate', 'psk'] as const;
export type RemoteAuthMethod = (typeof REMOTE_AUTH_METHODS)[number];

export interface Revocation {
  ocsp: boolean;
  crl: boolean;
  /** Fail the connection when the revocation status cannot be determined. */
  strict: boolean;
}

export interface Authentication {
  method: AuthMethod;
  /** How the gateway authenticates to us. */
  remoteMethod: RemoteAuthMethod;
  /** Sign with RSASSA-PSS (RFC 7427) instead of PKCS#1 v1.5. */
  rsaPss: boolean;
  /** Send CERTREQ payloads for the trusted CAs (RFC 7296 section 3.7). */
  certificateRequests: boolean;
  revocation: Revocation;
  /** Common name that the issuer of the gateway certificate must have. */
  remoteCertificateIssuerCommonName?: string;
  pskRef?: string;
  eapPasswordRef?: string;
  /** PKCS#8 DER of the client private key. */
  privateKeyRef?: string;
}

export interface Gateway {
  /** Host name or IP address. */
  address: string;
  port: number;
  /** Reach the gateway over IPv6 (the outer packets) when the name resolves to both families. */
  preferIpv6: boolean;
}

/** Key exchange methods (IKEv2 Transform Type 4) that Lupina negotiates. */
export const KeyExchangeId = {
  MODP_2048: 14,
  MODP_3072: 15,
  ECP_256: 19,
  ECP_384: 20,
  CURVE_25519: 31,
} as const;
export type KeyExchangeName = keyof typeof KeyExchangeId;

/** PRFs (IKEv2 Transform Type 2) that Lupina negotiates. */
export const PrfId = {
  PRF_HMAC_SHA2_256: 5,
  PRF_HMAC_SHA2_384: 6,
  PRF_HMAC_SHA2_512: 7,
} as const;
export type PrfName = keyof typeof PrfId;

/** Extended Sequence Numbers (IKEv2 Transform Type 5). */
export const ESN_NAMES = ['ESN', 'NO_ESN'] as const;
export type EsnName = (typeof ESN_NAMES)[number];

export interface EncryptionTransform {
  name: EncryptionName;
  /** Key length in bits, without the salt; 0 for ENCR_NULL. */
  keyBits: number;
}

/** One proposal (RFC 7296 section 3.3): any listed transform of each type may be chosen. */
export interface Proposal {
  encryption: EncryptionTransform[];
  integrity: IntegrityName[];
  /** Empty for ESP and AH proposals. */
  prf: PrfName[];
  /** For ESP, the PFS groups; empty means no PFS. */
  keyExchange: KeyExchangeName[];
  /** Empty means NO_ESN. */
  esn: EsnName[];
}

/** Traffic selectors as text that `parseTrafficSelector` reads (CIDR, range or address). */
export interface TrafficSelectors {
  local: string[];
  remote: string[];
  /** Subnets sent outside the tunnel even though a remote selector covers them. */
  excluded: string[];
  /** Drop IPv4 traffic that no remote selector covers instead of sending it in the clear. */
  blockIpv4: boolean;
  blockIpv6: boolean;
}

export interface DnsSettings {
  servers: string[];
  searchDomains: string[];
  /** Domains whose queries go to `servers`; empty means every query. */
  matchDomains: string[];
}

/** Rekey and hard limits of one SA; a missing field means the engine default. */
export interface SaLifetime {
  rekeySeconds?: number;
  lifeSeconds?: number;
  rekeyBytes?: number;
  rekeyPackets?: number;
}

export interface Lifetimes {
  ike: SaLifetime;
  child: SaLifetime;
}

export type Encapsulation =
  | { type: 'raw' }
  | { type: 'udp'; localPort: number; peerPort: number };

/** A manually keyed SA (RFC 4301 section 4.5). */
export interface StaticSa {
  spi: number;
  direction: 'in' | 'out';
  protocol: 'esp' | 'ah';
  /** ESP only. */
  encryption?: EncryptionTransform;
  integrity?: IntegrityName;
  encryptionKeyRef?: string;
  integrityKeyRef?: string;
  mode: 'tunnel' | 'transport';
  /** Outer addresses. */
  localAddress: string;
  peerAddress: string;
  encapsulation: Encapsulation;
  localTs: string[];
  remoteTs: string[];
  /** Source address for packets that enter the tunnel. */
  localInnerAddress?: string;
  /** Anti-replay window in packets (bits of the bitmap); 0 turns anti-replay off. */
  replayWindow: number;
  esn: boolean;
}

export interface Profile {
  version: typeof PROFILE_VERSION;
  /** UUID. */
  id: string;
  name: string;
  kind: ProfileKind;
  /** Required when kind is 'ikev2'. */
  gateway?: Gateway;
  identities: Identities;
  /** Required when kind is 'ikev2'. */
  authentication?: Authentication;
  /** PEM certificates that may sign the gateway certificate. */
  trustedCaCertificates: string[];
  /** PEM client certificate. */
  clientCertificate?: string;
  ikeProposals: Proposal[];
  espProposals: Proposal[];
  trafficSelectors: TrafficSelectors;
  /** Virtual IPs to request; 0.0.0.0 and :: ask for any address of that family. */
  virtualIps: string[];
  dns: DnsSettings;
  mtu?: number;
  natKeepaliveSeconds: number;
  forceUdpEncapsulation: boolean;
  /** Dead peer detection interval in seconds; 0 turns it off. */
  dpdSeconds: number;
  lifetimes: Lifetimes;
  staticSas: StaticSa[];
}

/** Returns the reference of a profile's secret, such as `<id>:psk`. */
export function secretRef(profileId: string, name: string): string {
  return `${profileId}:${name}`;
}

/** Returns every secret reference that the profile contains. */
export function profileSecretRefs(profile: Profile): string[] {
  const authentication = profile.authentication;
  const refs = [authentication?.pskRef, authentication?.eapPasswordRef, authentication?.privateKeyRef];
  for (const sa of profile.staticSas) {
    refs.push(sa.encryptionKeyRef, sa.integrityKeyRef);
  }
  return refs.filter((ref): ref is string => ref !== undefined);
}

/**
 * Returns the profile and its secrets under another id: the id and every secret reference of
 * the profile, and the keys of `secrets`, move from the old id to `id`.
 */
export function withProfileId(
  profile: Profile, secrets: Record<string, Uint8Array>, id: string,
): { profile: Profile; secrets: Record<string, Uint8Array> } {
  const prefix = `${profile.id}:`;
  const move = (ref: string) => (ref.startsWith(prefix) ? secretRef(id, ref.slice(prefix.length)) : ref);
  /** Copies `object` with the reference fields in `keys` moved; absent fields stay absent. */
  const moveFields = <T extends object>(object: T, keys: readonly (keyof T)[]): T => {
    const copy = { ...object };
    for (const key of keys) {
      const value = copy[key];
      if (typeof value === 'string') {
        copy[key] = move(value) as T[keyof T];
      }
    }
    return copy;
  };

  const moved: Profile = {
    ...profile,
    id,
    staticSas: profile.staticSas.map((sa) => moveFields(sa, ['encryptionKeyRef', 'integrityKeyRef'])),
  };
  if (profile.authentication) {
    moved.authentication = moveFields(profile.authentication, ['pskRef', 'eapPasswordRef', 'privateKeyRef']);
  }
  const movedSecrets = Object.fromEntries(Object.entries(secrets).map(([ref, value]) => [move(ref), value]));
  return { profile: moved, secrets: movedSecrets };
}

/** Returns the profile id part of a secret reference. */
export function profileIdOfSecretRef(ref: string): string {
  return ref.slice(0, ref.indexOf(':'));
}

/** Returns an IKEv2 profile with Lupina's defaults, for importers to fill in. */
export function newIkev2Profile(id: string, name: string, gateway: Gateway): Profile {
  return {
    version: PROFILE_VERSION,
    id,
    name,
    kind: 'ikev2',
    gateway,
    identities: {},
    authentication: {
      method: 'certificate',
      remoteMethod: 'certificate',
      rsaPss: false,
      certificateRequests: true,
      revocation: { ocsp: true, crl: true, strict: false },
    },
    trustedCaCertificates: [],
    ikeProposals: [],
    espProposals: [],
    trafficSelectors: { local: [], remote: [], excluded: [], blockIpv4: false, blockIpv6: false },
    virtualIps: [],
    dns: { servers: [], searchDomains: [], matchDomains: [] },
    natKeepaliveSeconds: DEFAULT_NAT_KEEPALIVE_SECONDS,
    forceUdpEncapsulation: false,
    dpdSeconds: 0,
    lifetimes: { ike: {}, child: {} },
    staticSas: [],
  };
}

/** Returns a manual-key profile with no SAs yet. */
export function newManualProfile(id: string, name: string): Profile {
  const profile = newIkev2Profile(id, name, { address: '', port: 0, preferIpv6: false });
  delete profile.gateway;
  delete profile.authentication;
  profile.kind = 'manual';
  return profile;
}
