/**
 * Shared test fixtures: a table of every transform the engine runs, and SA pairs (one outbound,
 * one inbound with the same keys) built from it.
 */

import { randomBytes } from 'node:crypto';
import { parseAddress } from '../../main/engine/address.js';
import type { CryptoProvider } from '../../main/engine/crypto/provider.js';
import type { SaConfig, SaMode, SaProtocol } from '../../main/engine/sa-config.js';
import { SecurityAssociation } from '../../main/engine/security-association.js';
import { parseTrafficSelector } from '../../main/engine/traffic-selector.js';
import {
  ENCRYPTION_ALGORITHMS, INTEGRITY_ALGORITHMS, type EncryptionName, type IntegrityName,
} from '../../main/engine/transforms.js';
import { icmpEcho, ipv4Packet, ipv6Packet, IPPROTO_ICMP, IPPROTO_ICMPV6 } from '../oracle/packets.js';

export interface TransformCase {
  name: string;
  protocol: SaProtocol;
  encryption?: EncryptionName;
  /** Cipher key length in bytes, without the salt. */
  keyLength?: number;
  integrity?: IntegrityName;
}

const INTEGRITY_NAMES = Object.keys(INTEGRITY_ALGORITHMS) as IntegrityName[];

/** Every ESP and AH transform combination that the engine supports. */
export const TRANSFORM_CASES: TransformCase[] = [
  ...[16, 24, 32].map((keyLength) => ({
    name: `ESP AES-GCM-${keyLength * 8}`, protocol: 'esp' as const, encryption: 'ENCR_AES_GCM_16' as const, keyLength,
  })),
  ...[16, 24, 32].map((keyLength) => ({
    name: `ESP AES-GMAC-${keyLength * 8}`, protocol: 'esp' as const, encryption: 'ENCR_NULL_AUTH_AES_GMAC' as const, keyLength,
  })),
  { name: 'ESP ChaCha20-Poly1305', protocol: 'esp', encryption: 'ENCR_CHACHA20_POLY1305', keyLength: 32 },
  ...[16, 24, 32].flatMap((keyLength) => INTEGRITY_NAMES.map((integrity) => ({
    name: `ESP AES-CBC-${keyLength * 8} ${integrity}`, protocol: 'esp' as const,
    encryption: 'ENCR_AES_CBC' as const, keyLength, integrity,
  }))),
  ...INTEGRITY_NAMES.map((integrity) => ({
    name: `ESP NULL ${integrity}`, protocol: 'esp' as const, encryption: 'ENCR_NULL' as const, keyLength: 0, integrity,
  })),
  ...INTEGRITY_NAMES.map((integrity) => ({ name: `AH ${integrity}`, protocol: 'ah' as const, integrity })),
];

export interface PairOptions {
  transform: TransformCase;
  mode?: SaMode;
  esn?: boolean;
  family?: 4 | 6;
  replayWindow?: number;
  spi?: number;
  provider?: CryptoProvider;
  inboundProvider?: CryptoProvider;
  clock?: () => number;
  lifetimes?: SaConfig['lifetimes'];
  keys?: { encryption?: Uint8Array; integrity?: Uint8Array };
}

export const HOST_V4 = { client: '192.0.2.10', gateway: '198.51.100.1', office: '203.0.113.5', inner: '192.0.2.200' };
export const HOST_V6 = { client: '2001:db8:1::10', gateway: '2001:db8:2::1', office: '2001:db8:3::5', inner: '2001:db8:1::200' };

/** Builds the keys for a transform: random unless given. */
export function transformKeys(transform: TransformCase, keys: PairOptions['keys'] = {}) {
  const encryption = transform.encryption && ENCRYPTION_ALGORITHMS[transform.encryption];
  return {
    encryption: encryption
      ? keys.encryption ?? randomBytes((transform.keyLength ?? 0) + encryption.saltLength)
      : undefined,
    integrity: transform.integrity
      ? keys.integrity ?? randomBytes(INTEGRITY_ALGORITHMS[transform.integrity].keyLength)
      : undefined,
  };
}

/** Builds an outbound SA on the client and the matching inbound SA on the peer. */
export function makeSaPair(options: PairOptions): { outbound: SecurityAssociation; inbound: SecurityAssociation; configs: SaConfig[] } {
  const family = options.family ?? 4;
  const hosts = family === 4 ? HOST_V4 : HOST_V6;
  const mode = options.mode ?? 'tunnel';
  const keys = transformKeys(options.transform, options.keys);
  const anySelector = parseTrafficSelector(family === 4 ? '0.0.0.0/0' : '::/0');

  const base = (direction: 'in' | 'out', local: string, remote: string): SaConfig => ({
    spi: options.spi ?? 0x1234abcd,
    direction,
    protocol: options.transform.protocol,
    mode,
    encryption: keys.encryption && { name: options.transform.encryption!, key: keys.encryption },
    integrity: keys.integrity && { name: options.transform.integrity!, key: keys.integrity },
    esn: options.esn ?? false,
    replayWindow: options.replayWindow ?? 64,
    lifetimes: options.lifetimes,
    tunnel: mode === 'tunnel' ? { local: parseAddress(local), remote: parseAddress(remote) } : undefined,
    trafficSelectors: { local: [anySelector], remote: [anySelector] },
    cryptoProvider: direction === 'out' ? options.provider : options.inboundProvider ?? options.provider,
    clock: options.clock,
  });

  const configs = [base('out', hosts.client, hosts.gateway), base('in', hosts.gateway, hosts.client)];
  return {
    outbound: new SecurityAssociation(configs[0]!),
    inbound: new SecurityAssociation(configs[1]!),
    configs,
  };
}

/** An ICMP echo request from the client's inner address to the office host, of `totalLength` bytes or more. */
export function echoPacket(family: 4 | 6, dataLength = 56, sequence = 1): Uint8Array {
  const data = new Uint8Array(dataLength).map((_, i) => (i * 7 + sequence) & 0xff);
  if (family === 4) {
    return ipv4Packet({
      src: HOST_V4.inner, dst: HOST_V4.office, protocol: IPPROTO_ICMP, flags: 2, id: sequence,
      payload: icmpEcho({ identifier: 0x4c50, sequence, data }),
    });
  }
  return ipv6Packet({
    src: HOST_V6.inner, dst: HOST_V6.office, nextHeader: IPPROTO_ICMPV6,
    payload: icmpEcho({ identifier: 0x4c50, sequence, data, ipv6: { src: HOST_V6.inner, dst: HOST_V6.office } }),
  });
}
