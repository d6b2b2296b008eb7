/**
 * Reading and building the IPv4 (RFC 791) and IPv6 (RFC 8200) headers that ESP and AH wrap.
 * Parsers return null on a malformed packet instead of throwing, so the caller can count a drop.
 */

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
/** "No Next Header": an ESP dummy packet carries it (RFC 4303 section 2.6). */
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_SCTP = 132;
export const IPPROTO_UDPLITE = 136;

export const IPV4_HEADER_LENGTH = 20;
export const IPV6_HEADER_LENGTH = 40;

export type IpFamily = 4 | 6;

/** The facts about an IP packet that ESP, AH and the traffic selectors need. */
export interface IpHeaderInfo {
  family: IpFamily;
  /** Bytes up to the first header that is not IP: the IPv4 header with options, or IPv6 with its extension headers. */
  headerLength: number;
  /** Length that the header declares for the whole packet. */
  totalLength: number;
  /** Protocol of the payload after `headerLength`: IPv4 protocol, or the last IPv6 next header. */
  protocol: number;
  /** Offset of the byte that holds `protocol`, to rewrite it in transport mode. */
  protocolOffset: number;
  source: Uint8Array;
  destination: Uint8Array;
  /** True for a fragment other than the first, which carries no transport header. */
  nonInitialFragment: boolean;
  /** True for any fragment (MF set, or a fragment offset, or an IPv6 fragment header). */
  fragment: boolean;
}

/** Extension headers that may stand between the IPv6 header and ESP, AH or the payload. */
function isIpv6ExtensionHeader(nextHeader: number): boolean {
  return nextHeader === IPPROTO_HOPOPTS || nextHeader === IPPROTO_ROUTING ||
    nextHeader === IPPROTO_FRAGMENT || nextHeader === IPPROTO_DSTOPTS;
}

/** Parses the IP header at the start of `packet`; returns null when it is malformed. */
export function parseIpHeader(packet: Uint8Array, stopAt?: number): IpHeaderInfo | null {
  if (packet.length < 1) {
    return null;
  }
  const version = packet[0]! >> 4;
  if (version === 4) {
    return parseIpv4Header(packet);
  }
  if (version === 6) {
    return parseIpv6Header(packet, stopAt);
  }
  return null;
}

function parseIpv4Header(packet: Uint8Array): IpHeaderInfo | null {
  if (packet.length < IPV4_HEADER_LENGTH) {
    return null;
  }
  const headerLength = (packet[0]! & 0x0f) * 4;
  const totalLength = (packet[2]! << 8) | packet[3]!;
  if (headerLength < IPV4_HEADER_LENGTH || totalLength < headerLength || totalLength > packet.length) {
    return null;
  }

  const flagsAndOffset = (packet[6]! << 8) | packet[7]!;
  const fragmentOffset = flagsAndOffset & 0x1fff;
  const moreFragments = (flagsAndOffset & 0x2000) !== 0;
  return {
    family: 4,
    headerLength,
    totalLength,
    protocol: packet[9]!,
    protocolOffset: 9,
    source: packet.subarray(12, 16),
    destination: packet.subarray(16, 20),
    nonInitialFragment: fragmentOffset !== 0,
    fragment: fragmentOffset !== 0 || moreFragments,
  };
}

/**
 * Parses the IPv6 header and walks the extension header chain (RFC 8200 section 4) until a
 * header that is not an extension header, or until `stopAt` (for example ESP or AH).
 */
function parseIpv6Header(packet: Uint8Array, stopAt?: number): IpHeaderInfo | null {
  if (packet.length < IPV6_HEADER_LENGTH) {
    return null;
  }
  const payloadLength = (packet[4]! << 8) | packet[5]!;
  const totalLength = IPV6_HEADER_LENGTH + payloadLength;
  if (totalLength > packet.length) {
    return null;
  }

  let protocol = packet[6]!;
  let protocolOffset = 6;
  let offset = IPV6_HEADER_LENGTH;
  let fragment = false;
  let nonInitialFragment = false;
  while (isIpv6ExtensionHeader(protocol) && protocol !== stopAt) {
    if (offset + 8 > totalLength) {
      return null;
    }
    const length = protocol === IPPROTO_FRAGMENT ? 8 : (packet[offset + 1]! + 1) * 8;
    if (offset + length > totalLength) {
      return null;
    }
    if (protocol === IPPROTO_FRAGMENT) {
      const fragmentOffset = ((packet[offset + 2]! << 8) | packet[offset + 3]!) >> 3;
      fragment = true;
      nonInitialFragment = fragmentOffset !== 0;
    }
    protocolOffset = offset;
    protocol = packet[offset]!;
    offset += length;
  }

  return {
    family: 6,
    headerLength: offset,
    totalLength,
    protocol,
    protocolOffset,
    source: packet.subarray(8, 24),
    destination: packet.subarray(24, 40),
    nonInitialFragment,
    fragment,
  };
}

/** Computes the Internet checksum (RFC 1071) of `data[start, end)`. */
export function internetChecksum(data: Uint8Array, start = 0, end = data.length, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) {
    sum += (data[i]! << 8) | data[i + 1]!;
  }
  if (i < end) {
    sum += data[i]! << 8;
  }
  while (sum > 0xffff) {
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

/** Recomputes the IPv4 header checksum in place. */
export function updateIpv4Checksum(packet: Uint8Array): void {
  const headerLength = (packet[0]! & 0x0f) * 4;
  packet[10] = 0;
  packet[11] = 0;
  const checksum = internetChecksum(packet, 0, headerLength);
  packet[10] = checksum >> 8;
  packet[11] = checksum & 0xff;
}

export interface OuterHeaderFields {
  source: Uint8Array;
  destination: Uint8Array;
  protocol: number;
  payloadLength: number;
  /** Differentiated Services and ECN byte (IPv4 TOS, IPv6 traffic class). */
  trafficClass: number;
  dontFragment: boolean;
  identification: number;
  ttl: number;
  /** IPv6 flow label, 20 bits. */
  flowLabel: number;
}

/** Writes an IPv4 header without options at `packet[0, 20)`. */
export function writeIpv4Header(packet: Uint8Array, fields: OuterHeaderFields): void {
  const totalLength = IPV4_HEADER_LENGTH + fields.payloadLength;
  packet[0] = 0x45;
  packet[1] = fields.trafficClass;
  packet[2] = totalLength >> 8;
  packet[3] = totalLength & 0xff;
  packet[4] = (fields.identification >> 8) & 0xff;
  packet[5] = fields.identification & 0xff;
  packet[6] = fields.dontFragment ? 0x40 : 0;
  packet[7] = 0;
  packet[8] = fields.ttl;
  packet[9] = fields.protocol;
  packet.set(fields.source, 12);
  packet.set(fields.destination, 16);
  updateIpv4Checksum(packet);
}

/** Writes an IPv6 header without extension headers at `packet[0, 40)`. */
export function writeIpv6Header(packet: Uint8Array, fields: OuterHeaderFields): void {
  packet[0] = 0x60 | (fields.trafficClass >> 4);
  packet[1] = ((fields.trafficClass & 0x0f) << 4) | ((fields.flowLabel >> 16) & 0x0f);
  packet[2] = (fields.flowLabel >> 8) & 0xff;
  packet[3] = fields.flowLabel & 0xff;
  packet[4] = fields.payloadLength >> 8;
  packet[5] = fields.payloadLength & 0xff;
  packet[6] = fields.protocol;
  packet[7] = fields.ttl;
  packet.set(fields.source, 8);
  packet.set(fields.destination, 24);
}

/** Returns the traffic class byte of an IPv4 (TOS) or IPv6 header. */
export function readTrafficClass(packet: Uint8Array): number {
  if (packet[0]! >> 4 === 4) {
    return packet[1]!;
  }
  return ((packet[0]! & 0x0f) << 4) | (packet[1]! >> 4);
}

/** True when an IPv4 packet has the Don't Fragment bit set; IPv6 packets are never fragmented en route. */
export function hasDontFragment(packet: Uint8Array): boolean {
  return packet[0]! >> 4 === 6 || (packet[6]! & 0x40) !== 0;
}
