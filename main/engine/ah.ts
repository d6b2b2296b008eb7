/**
 * AH packet layout (RFC 4302 section 2):
 *
 *   Next Header (1) | Payload Len (1) | Reserved (2) | SPI (4) | Sequence Number (4) | ICV + padding
 *
 * The ICV covers the IP header(s) in front of AH with mutable fields zeroed, the AH header with
 * the ICV field zeroed, and everything after AH. With ESN, the high 32 bits of the sequence
 * number follow at the end (section 3.3.3.2.1).
 */

import { copyBytes, highBits, readUint32, writeUint32 } from './bytes.js';
import { dropped, type DropReason, type PacketResult } from './counters.js';
import { constantTimeEqual } from './crypto/index.js';
import type { Hmac } from './crypto/provider.js';
import {
  buildFrontHeaders, extractTunnelInner, innerNextHeader, rebuildTransportPacket,
} from './encapsulation.js';
import { zeroMutableFields } from './ah-mutable-fields.js';
import { IPPROTO_AH, IPV4_HEADER_LENGTH, IPV6_HEADER_LENGTH, type IpHeaderInfo } from './ip-packet.js';
import type { AuthenticatedPacket, IpsecProtocol } from './ipsec-protocol.js';
import type { SaConfig } from './sa-config.js';
import { INTEGRITY_ALGORITHMS } from './transforms.js';

export const AH_FIXED_LENGTH = 12;

export class AhProtocol implements IpsecProtocol {
  private readonly icvLength: number;
  private identification: number;

  constructor(
    private readonly config: SaConfig,
    private readonly hmac: Hmac,
    randomStart: number,
  ) {
    this.icvLength = INTEGRITY_ALGORITHMS[config.integrity!.name].icvLength;
    this.identification = randomStart & 0xffff;
  }

  /** RFC 4302 section 3.3.3.2.1: AH is a multiple of 4 bytes in IPv4 and of 8 bytes in IPv6. */
  private headerLength(family: 4 | 6): number {
    const alignment = family === 4 ? 4 : 8;
    return Math.ceil((AH_FIXED_LENGTH + this.icvLength) / alignment) * alignment;
  }

  private outerFamily(innerFamily: 4 | 6): 4 | 6 {
    if (this.config.mode === 'transport') {
      return innerFamily;
    }
    return this.config.tunnel!.local.length === 4 ? 4 : 6;
  }

  overhead(_innerLength: number, family: 4 | 6): number {
    const outer = this.outerFamily(family);
    if (this.config.mode === 'transport') {
      return this.headerLength(outer);
    }
    const front = outer === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    return front + this.headerLength(outer);
  }

  readSequence(packet: Uint8Array, header: IpHeaderInfo): number | DropReason {
    const ahOffset = header.headerLength;
    if (header.totalLength - ahOffset < AH_FIXED_LENGTH + this.icvLength || readUint32(packet, ahOffset + 4) !== this.config.spi) {
      return 'malformed';
    }
    return readUint32(packet, ahOffset + 8);
  }

  protect(inner: Uint8Array, innerHeader: IpHeaderInfo, seq: number): PacketResult {
    const family = this.outerFamily(innerHeader.family);
    const ahLength = this.headerLength(family);
    const dataStart = this.config.mode === 'tunnel' ? 0 : innerHeader.headerLength;
    const data = inner.subarray(dataStart, innerHeader.totalLength);

    this.identification = (this.identification + 1) & 0xffff;
    const frame = buildFrontHeaders(this.config, inner, innerHeader, IPPROTO_AH, ahLength + data.length, this.identification);
    if (!frame) {
      return dropped('tooBig', `${inner.length}-byte packet exceeds the IP length limit after AH`);
    }

    const { packet, protocolOffset } = frame;
    packet[protocolOffset] = innerNextHeader(this.config, innerHeader);
    // Payload Len is the AH length in 32-bit words minus 2 (RFC 4302 section 2.2).
    packet[protocolOffset + 1] = ahLength / 4 - 2;
    // Reserved (RFC 4302 section 2.3) and the ICV padding are zero; the buffer is uninitialised.
    packet.fill(0, protocolOffset + 2, protocolOffset + 4);
    packet.fill(0, protocolOffset + AH_FIXED_LENGTH, protocolOffset + ahLength);
    writeUint32(packet, protocolOffset + 4, this.config.spi);
    writeUint32(packet, protocolOffset + 8, seq >>> 0);
    packet.set(data, protocolOffset + ahLength);

    const icv = this.computeIcv(packet, protocolOffset, ahLength, seq);
    if (!icv) {
      return dropped('malformed', 'the IP options or extension headers of the inner packet are malformed');
    }
    packet.set(icv, protocolOffset + AH_FIXED_LENGTH);
    return { ok: true, packet };
  }

  authenticate(packet: Uint8Array, header: IpHeaderInfo, seq: number): AuthenticatedPacket | DropReason {
    const ahOffset = header.headerLength;
    const ahLength = (packet[ahOffset + 1]! + 2) * 4;
    const alignment = header.family === 4 ? 4 : 8;
    const fits = ahOffset + ahLength <= header.totalLength;
    if (!fits || ahLength < AH_FIXED_LENGTH + this.icvLength || ahLength % alignment !== 0) {
      return 'malformed';
    }

    const datagram = packet.subarray(0, header.totalLength);
    const expected = this.computeIcv(datagram, ahOffset, ahLength, seq);
    if (!expected) {
      return 'malformed';
    }
    const received = packet.subarray(ahOffset + AH_FIXED_LENGTH, ahOffset + AH_FIXED_LENGTH + this.icvLength);
    if (!constantTimeEqual(expected, received)) {
      return 'icv';
    }
    return {
      packet: datagram,
      header,
      payload: datagram.subarray(ahOffset + ahLength),
      nextHeader: packet[ahOffset]!,
      headerLength: ahLength,
    };
  }

  finish(authenticated: AuthenticatedPacket): PacketResult {
    const { packet, header, payload } = authenticated;
    const nextHeader = authenticated.nextHeader!;
    if (this.config.mode === 'transport') {
      return { ok: true, packet: rebuildTransportPacket(packet, header, nextHeader, payload) };
    }
    const inner = extractTunnelInner(payload, nextHeader, packet);
    if (!inner) {
      return dropped('malformed', `next header ${nextHeader} does not match a whole inner IP packet`);
    }
    return { ok: true, packet: inner };
  }

  destroy(): void {
    this.hmac.destroy();
  }

  /** Returns the truncated ICV of `datagram` with AH at `ahOffset`, or null for malformed headers. */
  private computeIcv(datagram: Uint8Array, ahOffset: number, ahLength: number, seq: number): Uint8Array | null {
    const front = zeroMutableFields(datagram.subarray(0, ahOffset));
    if (!front) {
      return null;
    }
    const ahHeader = copyBytes(datagram, ahOffset, ahOffset + ahLength);
    ahHeader.fill(0, AH_FIXED_LENGTH);

    const parts = [front, ahHeader, datagram.subarray(ahOffset + ahLength)];
    if (this.config.esn) {
      const high = new Uint8Array(4);
      writeUint32(high, 0, highBits(seq));
      parts.push(high);
    }
    return this.hmac.compute(parts).subarray(0, this.icvLength);
  }
}

