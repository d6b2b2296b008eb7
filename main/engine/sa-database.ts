/**
 * The SA database (RFC 4301 section 4.4.2): inbound SAs found by SPI and protocol, and outbound
 * SAs found by matching an inner packet against their traffic selectors, in the order added.
 */

import { readUint32 } from './bytes.js';
import { dropped, type PacketResult } from './counters.js';
import { IPPROTO_AH, IPPROTO_ESP, parseIpHeader } from './ip-packet.js';
import type { SecurityAssociation } from './security-association.js';
import { packetMatchesSelectors } from './traffic-selector.js';

export interface SaDatabaseCounters {
  /** Inbound ESP or AH packets whose SPI matches no SA (RFC 4303 section 3.4.2). */
  unknownSpi: number;
  /** Inbound packets too short to carry an SPI, or not ESP or AH at all. */
  malformed: number;
  /** Outbound packets that no SA's traffic selectors cover. */
  noPolicy: number;
}

export class SaDatabase {
  readonly counters: SaDatabaseCounters = { unknownSpi: 0, malformed: 0, noPolicy: 0 };
  private readonly inbound = new Map<number, SecurityAssociation>();
  private readonly outbound: SecurityAssociation[] = [];

  add(sa: SecurityAssociation): void {
    if (sa.direction === 'in') {
      const key = inboundKey(sa.protocol === 'esp' ? IPPROTO_ESP : IPPROTO_AH, sa.spi);
      if (this.inbound.has(key)) {
        throw new Error(`an inbound ${sa.protocol.toUpperCase()} SA with SPI ${sa.spiHex()} already exists`);
      }
      this.inbound.set(key, sa);
    } else {
      this.outbound.push(sa);
    }
  }

  /** Removes the SA without deleting it, for example while a rekeyed SA takes over. */
  remove(sa: SecurityAssociation): void {
    if (sa.direction === 'in') {
      const key = inboundKey(sa.protocol === 'esp' ? IPPROTO_ESP : IPPROTO_AH, sa.spi);
      if (this.inbound.get(key) === sa) {
        this.inbound.delete(key);
      }
      return;
    }
    const index = this.outbound.indexOf(sa);
    if (index >= 0) {
      this.outbound.splice(index, 1);
    }
  }

  all(): SecurityAssociation[] {
    return [...this.inbound.values(), ...this.outbound];
  }

  /** Finds the inbound SA for an ESP or AH packet and unprotects it. */
  unprotect(packet: Uint8Array): PacketResult {
    const header = parseIpHeader(packet, IPPROTO_AH);
    const spiOffset = header?.protocol === IPPROTO_ESP ? 0 : 4;
    const isIpsec = header?.protocol === IPPROTO_ESP || header?.protocol === IPPROTO_AH;
    if (!header || !isIpsec || header.headerLength + spiOffset + 4 > header.totalLength) {
      this.counters.malformed += 1;
      return dropped('malformed', 'not an ESP or AH packet');
    }

    const spi = readUint32(packet, header.headerLength + spiOffset);
    const sa = this.inbound.get(inboundKey(header.protocol, spi));
    if (!sa) {
      // RFC 4303 section 3.4.2: no SA for the SPI; the packet is discarded and the event audited.
      this.counters.unknownSpi += 1;
      return dropped('malformed', `unknown SPI ${spi.toString(16).padStart(8, '0')}`);
    }
    return sa.unprotect(packet, header);
  }

  /** Returns the outbound SA whose traffic selectors cover the inner packet, or null. */
  findOutbound(inner: Uint8Array): SecurityAssociation | null {
    const header = parseIpHeader(inner);
    if (!header) {
      return null;
    }
    for (const sa of this.outbound) {
      const selectors = sa.config.trafficSelectors;
      if (sa.state !== 'deleted' && sa.state !== 'hard-expired' &&
        packetMatchesSelectors(inner, header, selectors.local, selectors.remote)) {
        return sa;
      }
    }
    return null;
  }

  /** Protects an inner packet with the SA that its addresses select. */
  protect(inner: Uint8Array): PacketResult {
    const sa = this.findOutbound(inner);
    if (!sa) {
      this.counters.noPolicy += 1;
      return dropped('policy', 'no outbound SA covers the packet');
    }
    return sa.protect(inner);
  }
}

/** A number key, cheaper per packet than a string: the protocol above the 32-bit SPI. */
function inboundKey(protocol: number, spi: number): number {
  return protocol * 0x1_0000_0000 + spi;
}
