/**
 * ESP packet layout (RFC 4303 section 2):
 *
 *   SPI (4) | Sequence Number (4) | IV | Payload | TFC padding | Padding | Pad Length | Next Header | ICV
 *
 * Outbound, the payload is padded to the cipher's block size and 4-byte alignment with the bytes
 * 1, 2, 3, ... (section 2.4). Inbound, the ICV is verified first. Then the padding is checked
 * and dummy packets (next header 59, section 2.6) are dropped. TFC padding after a tunnel-mode
 * inner packet is cut off at the inner packet's own length (section 2.7).
 */

import { readUint32, writeUint32 } from './bytes.js';
import { dropped, type DropReason, type PacketResult } from './counters.js';
import {
  buildFrontHeaders, extractTunnelInner, innerNextHeader, rebuildTransportPacket,
} from './encapsulation.js';
import { ESP_HEADER_LENGTH, ESP_TRAILER_LENGTH, type EspSuite } from './esp-suite.js';
import { IPPROTO_ESP, IPPROTO_NONE, IPV4_HEADER_LENGTH, IPV6_HEADER_LENGTH, type IpHeaderInfo } from './ip-packet.js';
import type { AuthenticatedPacket, IpsecProtocol } from './ipsec-protocol.js';
import type { SaConfig } from './sa-config.js';

export class EspProtocol implements IpsecProtocol {
  private identification: number;
  private scratchBuffer: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly config: SaConfig,
    private readonly suite: EspSuite,
    randomStart: number,
  ) {
    this.identification = randomStart & 0xffff;
  }

  overhead(innerLength: number, family: 4 | 6): number {
    let front = 0;
    if (this.config.mode === 'tunnel') {
      front = this.config.tunnel!.local.length === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    }
    return front + ESP_HEADER_LENGTH + this.suite.ivLength + this.paddedLength(innerLength) - innerLength + this.suite.icvLength;
  }

  readSequence(packet: Uint8Array, header: IpHeaderInfo): number | DropReason {
    const espOffset = header.headerLength;
    const minimum = ESP_HEADER_LENGTH + this.suite.ivLength + ESP_TRAILER_LENGTH + this.suite.icvLength;
    if (header.totalLength - espOffset < minimum || readUint32(packet, espOffset) !== this.config.spi) {
      return 'malformed';
    }
    return readUint32(packet, espOffset + 4);
  }

  protect(inner: Uint8Array, innerHeader: IpHeaderInfo, seq: number): PacketResult {
    const payloadLength = this.config.mode === 'tunnel' ? innerHeader.totalLength : innerHeader.totalLength - innerHeader.headerLength;
    const plaintext = this.buildPlaintext(inner, innerHeader, payloadLength);
    const espLength = ESP_HEADER_LENGTH + this.suite.ivLength + this.paddedLength(payloadLength) + this.suite.icvLength;

    this.identification = (this.identification + 1) & 0xffff;
    const frame = buildFrontHeaders(this.config, inner, innerHeader, IPPROTO_ESP, espLength, this.identification);
    if (!frame) {
      return dropped('tooBig', `${inner.length}-byte packet exceeds the IP length limit after ESP`);
    }

    const { packet, protocolOffset } = frame;
    writeUint32(packet, protocolOffset, this.config.spi);
    writeUint32(packet, protocolOffset + 4, seq >>> 0);
    this.suite.seal(packet, protocolOffset, { spi: this.config.spi, seq, esn: this.config.esn }, plaintext);
    return { ok: true, packet };
  }

  authenticate(packet: Uint8Array, header: IpHeaderInfo, seq: number): AuthenticatedPacket | DropReason {
    const esp = packet.subarray(header.headerLength, header.totalLength);
    const encryptedLength = esp.length - ESP_HEADER_LENGTH - this.suite.ivLength - this.suite.icvLength;
    if (encryptedLength < ESP_TRAILER_LENGTH || encryptedLength % this.suite.blockSize !== 0) {
      // RFC 4303 section 2.4: the ciphertext fills whole blocks and ends on a 4-byte boundary.
      return 'malformed';
    }

    const payload = this.suite.open(esp, { spi: this.config.spi, seq, esn: this.config.esn });
    if (payload === null) {
      return 'icv';
    }
    return { packet, header, payload };
  }

  finish(authenticated: AuthenticatedPacket): PacketResult {
    const { payload, packet, header } = authenticated;
    const padLength = payload[payload.length - 2]!;
    const nextHeader = payload[payload.length - 1]!;
    const dataLength = payload.length - ESP_TRAILER_LENGTH - padLength;
    if (dataLength < 0) {
      return dropped('padding', `pad length ${padLength} exceeds the ${payload.length}-byte payload`);
    }
    // RFC 4303 section 2.4: the receiver checks the default padding 1, 2, 3, ...
    for (let i = 0; i < padLength; i++) {
      if (payload[dataLength + i] !== i + 1) {
        return dropped('padding', `padding byte ${i + 1} is ${payload[dataLength + i]}`);
      }
    }
    if (nextHeader === IPPROTO_NONE) {
      return dropped('dummy');
    }

    const data = payload.subarray(0, dataLength);
    if (this.config.mode === 'transport') {
      return { ok: true, packet: rebuildTransportPacket(packet, header, nextHeader, data) };
    }
    const inner = extractTunnelInner(data, nextHeader, packet);
    if (!inner) {
      return dropped('malformed', `next header ${nextHeader} does not match a whole inner IP packet`);
    }
    return { ok: true, packet: inner };
  }

  destroy(): void {
    this.suite.destroy();
    // The scratch buffer held plaintext.
    this.scratchBuffer.fill(0);
  }

  /** Payload, padding and trailer rounded up to the block size, which is at least 4. */
  private paddedLength(payloadLength: number): number {
    const unpadded = payloadLength + ESP_TRAILER_LENGTH;
    const block = this.suite.blockSize;
    return Math.ceil(unpadded / block) * block;
  }

  /**
   * Returns the payload followed by its padding 1, 2, 3, ..., Pad Length and Next Header, in one
   * piece. One contiguous buffer costs a copy but saves a second cipher update per packet, which
   * costs more in node:crypto.
   */
  private buildPlaintext(inner: Uint8Array, innerHeader: IpHeaderInfo, payloadLength: number): Uint8Array[] {
    const start = this.config.mode === 'tunnel' ? 0 : innerHeader.headerLength;
    const paddedLength = this.paddedLength(payloadLength);
    const padLength = paddedLength - payloadLength - ESP_TRAILER_LENGTH;
    const plaintext = this.scratch(paddedLength);
    plaintext.set(inner.subarray(start, start + payloadLength), 0);
    for (let i = 0; i < padLength; i++) {
      plaintext[payloadLength + i] = i + 1;
    }
    plaintext[paddedLength - 2] = padLength;
    plaintext[paddedLength - 1] = innerNextHeader(this.config, innerHeader);
    return [plaintext];
  }

  /**
   * Returns `length` bytes of a buffer that this SA reuses for every packet. Protecting is
   * synchronous, so one packet uses it at a time, and the suite copies out what it keeps.
   */
  private scratch(length: number): Uint8Array {
    if (this.scratchBuffer.length < length) {
      this.scratchBuffer = Buffer.allocUnsafeSlow(Math.max(length, 2048));
    }
    return this.scratchBuffer.subarray(0, length);
  }
}
