/**
 * ICMP errors that the tunnel writes back into the TUN device when an inner packet does not fit:
 * "fragmentation needed" for IPv4 with DF set (RFC 792, RFC 1191 section 4) and "packet too big"
 * for IPv6 (RFC 4443 section 3.2). The sender's stack then lowers its path MTU.
 */

import {
  IPPROTO_ICMP, IPPROTO_ICMPV6, IPV4_HEADER_LENGTH, IPV6_HEADER_LENGTH, internetChecksum,
  parseIpHeader, writeIpv4Header, writeIpv6Header,
} from './ip-packet.js';

const ICMP_DESTINATION_UNREACHABLE = 3;
const ICMP_FRAGMENTATION_NEEDED = 4;
const ICMPV6_PACKET_TOO_BIG = 2;
const ICMP_HEADER_LENGTH = 8;
/** RFC 1812 section 4.3.2.3: quote at most 576 bytes in all; RFC 4443 section 2.4(c): 1280 for IPv6. */
const MAX_IPV4_ERROR_LENGTH = 576;
const MAX_IPV6_ERROR_LENGTH = 1280;
const ICMP_TTL = 64;

/**
 * Builds the ICMP error for `packet` that reports `mtu`, sent from `routerAddress` (the tunnel's
 * own inner address) to the packet's source. Returns null for packets that must not get an ICMP
 * error (RFC 1122 section 3.2.2): other ICMP errors, and fragments other than the first.
 */
export function buildTooBigError(packet: Uint8Array, mtu: number, routerAddress: Uint8Array): Uint8Array | null {
  const header = parseIpHeader(packet);
  if (!header || header.nonInitialFragment || isIcmpError(packet, header.protocol, header.headerLength)) {
    return null;
  }
  if (header.family === 4) {
    return buildIpv4Error(packet, header.source, mtu, routerAddress);
  }
  return buildIpv6Error(packet, header.source, mtu, routerAddress);
}

function isIcmpError(packet: Uint8Array, protocol: number, offset: number): boolean {
  const type = packet[offset];
  if (type === undefined) {
    return false;
  }
  if (protocol === IPPROTO_ICMP) {
    return type !== 0 && type !== 8 && type !== 13 && type !== 14;
  }
  // ICMPv6 error messages have types 0 to 127 (RFC 4443 section 2.1).
  return protocol === IPPROTO_ICMPV6 && type < 128;
}

function buildIpv4Error(packet: Uint8Array, destination: Uint8Array, mtu: number, source: Uint8Array): Uint8Array | null {
  if (source.length !== 4) {
    return null;
  }
  const quoted = packet.subarray(0, Math.min(packet.length, MAX_IPV4_ERROR_LENGTH - IPV4_HEADER_LENGTH - ICMP_HEADER_LENGTH));
  const icmpLength = ICMP_HEADER_LENGTH + quoted.length;
  const error = new Uint8Array(IPV4_HEADER_LENGTH + icmpLength);
  writeIpv4Header(error, {
    source, destination, protocol: IPPROTO_ICMP, payloadLength: icmpLength,
    trafficClass: 0, dontFragment: false, identification: 0, ttl: ICMP_TTL, flowLabel: 0,
  });

  const icmp = IPV4_HEADER_LENGTH;
  error[icmp] = ICMP_DESTINATION_UNREACHABLE;
  error[icmp + 1] = ICMP_FRAGMENTATION_NEEDED;
  // RFC 1191 section 4: the next-hop MTU goes in the low 16 bits of the second word.
  error[icmp + 6] = (mtu >> 8) & 0xff;
  error[icmp + 7] = mtu & 0xff;
  error.set(quoted, icmp + ICMP_HEADER_LENGTH);
  const checksum = internetChecksum(error, icmp, error.length);
  error[icmp + 2] = checksum >> 8;
  error[icmp + 3] = checksum & 0xff;
  return error;
}

function buildIpv6Error(packet: Uint8Array, destination: Uint8Array, mtu: number, source: Uint8Array): Uint8Array | null {
  if (source.length !== 16) {
    return null;
  }
  const quoted = packet.subarray(0, Math.min(packet.length, MAX_IPV6_ERROR_LENGTH - IPV6_HEADER_LENGTH - ICMP_HEADER_LENGTH));
  const icmpLength = ICMP_HEADER_LENGTH + quoted.length;
  const error = new Uint8Array(IPV6_HEADER_LENGTH + icmpLength);
  writeIpv6Header(error, {
    source, destination, protocol: IPPROTO_ICMPV6, payloadLength: icmpLength,
    trafficClass: 0, dontFragment: false, identification: 0, ttl: ICMP_TTL, flowLabel: 0,
  });

  const icmp = IPV6_HEADER_LENGTH;
  error[icmp] = ICMPV6_PACKET_TOO_BIG;
  error[icmp + 4] = (mtu >>> 24) & 0xff;
  error[icmp + 5] = (mtu >>> 16) & 0xff;
  error[icmp + 6] = (mtu >>> 8) & 0xff;
  error[icmp + 7] = mtu & 0xff;
  error.set(quoted, icmp + ICMP_HEADER_LENGTH);

  // RFC 4443 section 2.3: the checksum covers an IPv6 pseudo-header.
  const checksum = internetChecksum(error, icmp, error.length, ipv6PseudoHeaderSum(source, destination, icmpLength));
  error[icmp + 2] = checksum >> 8;
  error[icmp + 3] = checksum & 0xff;
  return error;
}

function ipv6PseudoHeaderSum(source: Uint8Array, destination: Uint8Array, length: number): number {
  let sum = 0;
  for (const address of [source, destination]) {
    for (let i = 0; i < 16; i += 2) {
      sum += (address[i]! << 8) | address[i + 1]!;
    }
  }
  sum += (length >>> 16) + (length & 0xffff);
  sum += IPPROTO_ICMPV6;
  return sum;
}
