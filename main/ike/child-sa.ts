/** A negotiated CHILD_SA as the ESP engine takes it (see main/engine/sa-config.ts). */

import type { Lifetimes } from '../engine/lifetime.js';
import type { SaMode } from '../engine/sa-config.js';
import type { TrafficSelector } from '../engine/traffic-selector.js';
import type { EncryptionName, IntegrityName } from '../engine/transforms.js';
import { zeroize } from './bytes.js';

export interface ChildSaKeysForEngine {
  /** Cipher key with the salt appended for AEAD transforms (RFC 4106 section 8.1). */
  encryptionKey: Uint8Array;
  integrityKey?: Uint8Array;
}

export interface NegotiatedChildSa {
  /** SPI that the gateway puts on packets to us; we chose it. */
  inboundSpi: number;
  /** SPI that we put on packets to the gateway; it chose it. */
  outboundSpi: number;
  protocol: 'esp';
  mode: SaMode;
  encryption: EncryptionName;
  /** Cipher key length in bytes, without the salt. */
  encryptionKeyLength: number;
  integrity?: IntegrityName;
  inbound: ChildSaKeysForEngine;
  outbound: ChildSaKeysForEngine;
  esn: boolean;
  /** DH group used for this CHILD_SA's keys (PFS), 0 for none. */
  pfsGroup: number;
  /** From our point of view: `local` is TSi, `remote` is TSr, as the gateway narrowed them. */
  trafficSelectors: { local: TrafficSelector[]; remote: TrafficSelector[] };
  /** ESP travels in UDP on port 4500 (RFC 3948) because a NAT was detected or forced. */
  udpEncapsulation: boolean;
  lifetimes: Lifetimes;
}

export interface VirtualIpConfig {
  ipv4?: Uint8Array;
  ipv6?: { address: Uint8Array; prefixLength: number };
  dns: Uint8Array[];
  /** Internal DNS domains (RFC 8598). */
  dnsDomains: string[];
}

export function zeroizeChildSa(child: NegotiatedChildSa): void {
  zeroize(
    child.inbound.encryptionKey,
    child.inbound.integrityKey,
    child.outbound.encryptionKey,
    child.outbound.integrityKey,
  );
}
