/**
 * The IP headers around ESP and AH. Tunnel mode adds a new outer header (RFC 4301 section
 * 5.1.2). Transport mode moves the original header in front of ESP or AH (RFC 4303 section
 * 3.1.1, RFC 4302 section 3.1.1). Receipt reverses either.
 */

import {
  IPV4_HEADER_LENGTH, IPV6_HEADER_LENGTH, IPPROTO_IPIP, IPPROTO_IPV6, hasDontFragment,
  parseIpHeader, readTrafficClass, updateIpv4Checksum, writeIpv4Header, writeIpv6Header,
  type IpHeaderInfo,
} from './ip-packet.js';
import type { SaConfig } from './sa-config.js';

/** IPv4 and IPv6 limit a packet to 65535 bytes of total length or payload length. */
export const MAX_IP_LENGTH = 0xffff;
export const OUTER_TTL = 64;

const ECN_MASK = 0x03;
const ECN_CE = 0x03;

/** A packet being built: the protocol header (ESP or AH) starts at `protocolOffset`. */
export interface PacketFrame {
  packet: Uint8Array;
  protocolOffset: number;
}

/** Length of the IP header(s) in front of ESP or AH for an inner packet. */
export function frontHeaderLength(config: SaConfig, innerHeader: IpHeaderInfo): number {
  if (config.mode === 'transport') {
    return innerHeader.headerLength;
  }
  return config.tunnel!.local.length === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
}

/** Returns the Next Header value that ESP or AH carries for an inner packet (RFC 4303 section 2.6). */
export function innerNextHeader(config: SaConfig, innerHeader: IpHeaderInfo): number {
  if (config.mode === 'transport') {
    return innerHeader.protocol;
  }
  return innerHeader.family === 4 ? IPPROTO_IPIP : IPPROTO_IPV6;
}

/**
 * Allocates the protected packet and writes the IP header(s) in front of ESP or AH.
 * `protocolLength` is the length of ESP or AH with everything after it.
 */
export function buildFrontHeaders(
  config: SaConfig,
  inner: Uint8Array,
  innerHeader: IpHeaderInfo,
  protocol: number,
  protocolLength: number,
  identification: number,
): PacketFrame | null {
  const headerLength = frontHeaderLength(config, innerHeader);
  const totalLength = headerLength + protocolLength;
  let family = innerHeader.family;
  if (config.mode === 'tunnel') {
    family = config.tunnel!.local.length === 4 ? 4 : 6;
  }
  const lengthField = family === 4 ? totalLength : totalLength - IPV6_HEADER_LENGTH;
  if (lengthField > MAX_IP_LENGTH) {
    return null;
  }

  // Every byte is written below or by ESP and AH, so the pooled, uninitialised allocation is safe.
  const packet = Buffer.allocUnsafe(totalLength);
  if (config.mode === 'transport') {
    writeTransportHeader(packet, inner, innerHeader, protocol, totalLength);
  } else {
    writeTunnelHeader(packet, config, inner, innerHeader, protocol, lengthField, identification);
  }
  return { packet, protocolOffset: headerLength };
}

/**
 * RFC 4301 section 5.1.2.1: the outer header copies DSCP and ECN (RFC 6040 normal mode) and,
 * for an IPv4 inner packet, the DF bit.
 */
function writeTunnelHeader(
  packet: Uint8Array,
  config: SaConfig,
  inner: Uint8Array,
  innerHeader: IpHeaderInfo,
  protocol: number,
  lengthField: number,
  identification: number,
): void {
  const fields = {
    source: config.tunnel!.local,
    destination: config.tunnel!.remote,
    protocol,
    payloadLength: lengthField,
    trafficClass: readTrafficClass(inner),
    dontFragment: innerHeader.family === 4 && hasDontFragment(inner),
    identification,
    ttl: OUTER_TTL,
    flowLabel: 0,
  };
  if (config.tunnel!.local.length === 4) {
    fields.payloadLength = lengthField - IPV4_HEADER_LENGTH;
    writeIpv4Header(packet, fields);
  } else {
    writeIpv6Header(packet, fields);
  }
}

function writeTransportHeader(
  packet: Uint8Array,
  inner: Uint8Array,
  innerHeader: IpHeaderInfo,
  protocol: number,
  totalLength: number,
): void {
  packet.set(inner.subarray(0, innerHeader.headerLength), 0);
  packet[innerHeader.protocolOffset] = protocol;
  setTotalLength(packet, innerHeader.family, totalLength);
}

function setTotalLength(packet: Uint8Array, family: 4 | 6, totalLength: number): void {
  if (family === 4) {
    packet[2] = totalLength >> 8;
    packet[3] = totalLength & 0xff;
    updateIpv4Checksum(packet);
  } else {
    const payloadLength = totalLength - IPV6_HEADER_LENGTH;
    packet[4] = payloadLength >> 8;
    packet[5] = payloadLength & 0xff;
  }
}

/**
 * Returns the inner packet of a tunnel-mode payload, without TFC padding (RFC 4303 section 2.7),
 * or null when the payload does not start with a whole IP packet of the announced version.
 */
export function extractTunnelInner(payload: Uint8Array, nextHeader: number, outer: Uint8Array): Uint8Array | null {
  let expectedVersion = 0;
  if (nextHeader === IPPROTO_IPIP) {
    expectedVersion = 4;
  } else if (nextHeader === IPPROTO_IPV6) {
    expectedVersion = 6;
  }
  if (expectedVersion === 0 || payload.length === 0 || payload[0]! >> 4 !== expectedVersion) {
    return null;
  }
  const header = parseIpHeader(payload);
  if (!header) {
    return null;
  }
  const inner = payload.subarray(0, header.totalLength);
  propagateCongestion(outer, inner);
  return inner;
}

/** RFC 6040 section 4.2: a CE mark on the outer header moves to an ECN-capable inner header. */
function propagateCongestion(outer: Uint8Array, inner: Uint8Array): void {
  if ((readTrafficClass(outer) & ECN_MASK) !== ECN_CE) {
    return;
  }
  const innerEcn = readTrafficClass(inner) & ECN_MASK;
  if (innerEcn === 0 || innerEcn === ECN_CE) {
    // NOTE: RFC 6040 says to drop a CE-marked packet whose inner header is Not-ECT, but this delivers it unmarked.
    return;
  }
  if (inner[0]! >> 4 === 4) {
    inner[1] = inner[1]! | ECN_CE;
    updateIpv4Checksum(inner);
  } else {
    inner[1] = inner[1]! | (ECN_CE << 4);
  }
}

/** Rebuilds a transport-mode packet: the received header with `nextHeader` in place of ESP or AH. */
export function rebuildTransportPacket(
  received: Uint8Array,
  header: IpHeaderInfo,
  nextHeader: number,
  payload: Uint8Array,
): Uint8Array {
  const totalLength = header.headerLength + payload.length;
  const packet = new Uint8Array(totalLength);
  packet.set(received.subarray(0, header.headerLength), 0);
  packet.set(payload, header.headerLength);
  packet[header.protocolOffset] = nextHeader;
  setTotalLength(packet, header.family, totalLength);
  return packet;
}
