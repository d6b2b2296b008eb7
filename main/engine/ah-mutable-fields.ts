/**
 * The IP header as it enters AH's ICV computation, with the fields that routers may change in
 * transit zeroed (RFC 4302 section 3.3.3.1 and Appendix A).
 */

import { copyBytes } from './bytes.js';
import { IPPROTO_DSTOPTS, IPPROTO_HOPOPTS, IPV4_HEADER_LENGTH, IPV6_HEADER_LENGTH } from './ip-packet.js';

/** IPv4 options that stay unchanged in transit (RFC 4302 Appendix A.1); all others are zeroed. */
const IMMUTABLE_IPV4_OPTIONS = new Set([
  0, // End of Options List
  1, // No Operation
  130, // Security
  133, // Extended Security
  134, // Commercial Security
  148, // Router Alert
  149, // Sender Directed Multi-Destination Delivery
]);

const IPV4_OPTION_END = 0;
const IPV4_OPTION_NOP = 1;
const IPV6_OPTION_PAD1 = 0;
/** RFC 8200 section 4.2: the third-highest bit of an option type marks data that may change en route. */
const IPV6_OPTION_MUTABLE = 0x20;

/**
 * Returns a copy of the IP header(s) in front of AH with the mutable fields zeroed, or null when
 * the options or extension headers are malformed.
 */
export function zeroMutableFields(header: Uint8Array): Uint8Array | null {
  const copy = copyBytes(header);
  if (copy[0]! >> 4 === 4) {
    return zeroIpv4(copy) ? copy : null;
  }
  return zeroIpv6(copy) ? copy : null;
}

/** RFC 4302 section 3.3.3.1.1.1: TOS, flags, fragment offset, TTL and the checksum are mutable. */
function zeroIpv4(header: Uint8Array): boolean {
  header[1] = 0;
  header[6] = 0;
  header[7] = 0;
  header[8] = 0;
  header[10] = 0;
  header[11] = 0;

  let offset = IPV4_HEADER_LENGTH;
  while (offset < header.length) {
    const type = header[offset]!;
    if (type === IPV4_OPTION_END) {
      break;
    }
    if (type === IPV4_OPTION_NOP) {
      offset += 1;
      continue;
    }
    const length = header[offset + 1];
    if (length === undefined || length < 2 || offset + length > header.length) {
      return false;
    }
    if (!IMMUTABLE_IPV4_OPTIONS.has(type)) {
      header.fill(0, offset, offset + length);
    }
    offset += length;
  }
  return true;
}

/**
 * RFC 4302 section 3.3.3.1.2: traffic class, flow label and hop limit are mutable, and so is the
 * data of every hop-by-hop or destination option whose type has the "may change" bit.
 */
function zeroIpv6(header: Uint8Array): boolean {
  header[0] = 0x60;
  header[1] = 0;
  header[2] = 0;
  header[3] = 0;
  header[7] = 0;

  let nextHeader = header[6]!;
  let offset = IPV6_HEADER_LENGTH;
  while (offset < header.length) {
    if (offset + 2 > header.length) {
      return false;
    }
    const length = (header[offset + 1]! + 1) * 8;
    if (offset + length > header.length) {
      return false;
    }
    if (nextHeader === IPPROTO_HOPOPTS || nextHeader === IPPROTO_DSTOPTS) {
      if (!zeroMutableOptions(header, offset + 2, offset + length)) {
        return false;
      }
    }
    // NOTE: a routing header is taken as received, which is its final form only when Segments Left is 0.
    nextHeader = header[offset]!;
    offset += length;
  }
  return true;
}

function zeroMutableOptions(header: Uint8Array, start: number, end: number): boolean {
  let offset = start;
  while (offset < end) {
    const type = header[offset]!;
    if (type === IPV6_OPTION_PAD1) {
      offset += 1;
      continue;
    }
    if (offset + 2 > end) {
      return false;
    }
    const dataLength = header[offset + 1]!;
    if (offset + 2 + dataLength > end) {
      return false;
    }
    if ((type & IPV6_OPTION_MUTABLE) !== 0) {
      header.fill(0, offset + 2, offset + 2 + dataLength);
    }
    offset += 2 + dataLength;
  }
  return true;
}
