/**
 * Traffic selectors (RFC 7296 section 3.13.1, RFC 4301 section 4.4.1): an address range, an IP
 * protocol and a port range. The inbound SA checks decrypted packets against them
 * (RFC 4301 section 5.2) and the SPD uses them to pick the outbound SA.
 */

import { copyBytes } from './bytes.js';
import { compareAddresses, formatAddress, parseAddress } from './address.js';
import {
  IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE,
  type IpHeaderInfo,
} from './ip-packet.js';

export const ANY_PROTOCOL = 0;
export const MAX_PORT = 0xffff;

export interface TrafficSelector {
  /** First and last address of the range, both 4 or both 16 bytes. */
  startAddress: Uint8Array;
  endAddress: Uint8Array;
  /** IP protocol number, 0 for any. */
  protocol: number;
  /** Port range; for ICMP and ICMPv6 the type is the high byte and the code the low byte (RFC 4301 section 4.4.1.1). */
  startPort: number;
  endPort: number;
}

export class TrafficSelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrafficSelectorError';
  }
}

/**
 * Parses "192.0.2.0/24", "2001:db8::/32", "192.0.2.10-192.0.2.20" or a single address, with an
 * optional "[protocol/port]" or "[protocol/start-end]" suffix in strongSwan's notation
 * ("10.0.0.0/8[tcp/443]").
 */
export function parseTrafficSelector(text: string): TrafficSelector {
  const match = /^([^[\]]+?)(?:\[([^\]]*)\])?$/.exec(text.trim());
  if (!match) {
    throw new TrafficSelectorError(`invalid traffic selector "${text}": expected ADDRESS[/PREFIX] or START-END`);
  }
  const [startAddress, endAddress] = parseAddressRange(match[1]!, text);
  const { protocol, startPort, endPort } = parseProtocolAndPorts(match[2], text);
  return { startAddress, endAddress, protocol, startPort, endPort };
}

function parseAddressRange(text: string, whole: string): [Uint8Array, Uint8Array] {
  try {
    if (text.includes('/')) {
      const [address = '', prefixText = ''] = text.split('/');
      const network = parseAddress(address);
      const prefix = Number(prefixText);
      if (!/^\d+$/.test(prefixText) || prefix > network.length * 8) {
        throw new TrafficSelectorError(`invalid prefix length "${prefixText}" in traffic selector "${whole}"`);
      }
      return prefixRange(network, prefix);
    }
    if (text.includes('-')) {
      const [first = '', last = ''] = text.split('-');
      const start = parseAddress(first);
      const end = parseAddress(last);
      if (start.length !== end.length || compareAddresses(start, end) > 0) {
        throw new TrafficSelectorError(`invalid address range "${text}" in traffic selector "${whole}": the start must not exceed the end`);
      }
      return [start, end];
    }
    const single = parseAddress(text);
    return [single, copyBytes(single)];
  } catch (error) {
    if (error instanceof TrafficSelectorError) {
      throw error;
    }
    throw new TrafficSelectorError(`invalid traffic selector "${whole}": ${(error as Error).message}`);
  }
}

/** Returns the first and last address of `network/prefix`. */
export function prefixRange(network: Uint8Array, prefix: number): [Uint8Array, Uint8Array] {
  const start = copyBytes(network);
  const end = copyBytes(network);
  for (let bit = prefix; bit < network.length * 8; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    start[byte]! &= ~mask;
    end[byte]! |= mask;
  }
  return [start, end];
}

const PROTOCOL_NAMES: Record<string, number> = {
  any: ANY_PROTOCOL, icmp: IPPROTO_ICMP, tcp: IPPROTO_TCP, udp: IPPROTO_UDP,
  ipv6_icmp: IPPROTO_ICMPV6, icmpv6: IPPROTO_ICMPV6, sctp: IPPROTO_SCTP,
};

function parseProtocolAndPorts(text: string | undefined, whole: string) {
  const any = { protocol: ANY_PROTOCOL, startPort: 0, endPort: MAX_PORT };
  if (text === undefined || text === '') {
    return any;
  }
  const [protocolText = '', portText] = text.split('/');
  const protocol = /^\d+$/.test(protocolText) ? Number(protocolText) : PROTOCOL_NAMES[protocolText.toLowerCase()];
  if (protocol === undefined || protocol > 255) {
    throw new TrafficSelectorError(`unknown protocol "${protocolText}" in traffic selector "${whole}"`);
  }
  if (portText === undefined || portText === '' || portText === '%any') {
    return { ...any, protocol };
  }
  const [first = '', last = first] = portText.split('-');
  const startPort = Number(first);
  const endPort = Number(last);
  const valid = /^\d+$/.test(first) && /^\d+$/.test(last) && startPort <= endPort && endPort <= MAX_PORT;
  if (!valid) {
    throw new TrafficSelectorError(`invalid port range "${portText}" in traffic selector "${whole}": expected 0-65535`);
  }
  return { protocol, startPort, endPort };
}

/** Formats a selector in the notation that `parseTrafficSelector` reads. */
export function formatTrafficSelector(selector: TrafficSelector): string {
  let text = `${formatAddress(selector.startAddress)}-${formatAddress(selector.endAddress)}`;
  const prefix = rangeToPrefix(selector.startAddress, selector.endAddress);
  if (prefix !== null) {
    text = `${formatAddress(selector.startAddress)}/${prefix}`;
  }
  const anyPorts = selector.startPort === 0 && selector.endPort === MAX_PORT;
  if (selector.protocol === ANY_PROTOCOL && anyPorts) {
    return text;
  }
  const ports = anyPorts ? '' : selector.startPort === selector.endPort
    ? `/${selector.startPort}` : `/${selector.startPort}-${selector.endPort}`;
  return `${text}[${selector.protocol}${ports}]`;
}

/** Returns the prefix length when [start, end] is exactly one CIDR block, else null. */
function rangeToPrefix(start: Uint8Array, end: Uint8Array): number | null {
  for (let prefix = 0; prefix <= start.length * 8; prefix++) {
    const [first, last] = prefixRange(start, prefix);
    if (compareAddresses(first, start) === 0 && compareAddresses(last, end) === 0) {
      return prefix;
    }
  }
  return null;
}

export function addressInSelector(address: Uint8Array, selector: TrafficSelector): boolean {
  return address.length === selector.startAddress.length &&
    compareAddresses(address, selector.startAddress) >= 0 &&
    compareAddresses(address, selector.endAddress) <= 0;
}

/** Reads the ports of a packet as RFC 4301 section 4.4.1.1 defines them, or null when it has none. */
export function readSelectorPorts(packet: Uint8Array, header: IpHeaderInfo): { source: number; destination: number } | null {
  if (header.nonInitialFragment) {
    return null;
  }
  const offset = header.headerLength;
  switch (header.protocol) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_SCTP:
    case IPPROTO_UDPLITE:
      if (offset + 4 > header.totalLength) {
        return null;
      }
      return {
        source: (packet[offset]! << 8) | packet[offset + 1]!,
        destination: (packet[offset + 2]! << 8) | packet[offset + 3]!,
      };
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6: {
      if (offset + 2 > header.totalLength) {
        return null;
      }
      // RFC 4301 section 4.4.1.1: ICMP type and code stand in for the local "port" only.
      const typeAndCode = (packet[offset]! << 8) | packet[offset + 1]!;
      return { source: typeAndCode, destination: typeAndCode };
    }
    default:
      return null;
  }
}

/**
 * True when a packet from `source` to `destination` matches one of `sourceSelectors` and one of
 * `destinationSelectors`. A packet without ports (a non-initial fragment, or a truncated
 * transport header) matches only selectors that allow every port (RFC 4301 section 4.4.1, OPAQUE).
 */
export function packetMatchesSelectors(
  packet: Uint8Array,
  header: IpHeaderInfo,
  sourceSelectors: readonly TrafficSelector[],
  destinationSelectors: readonly TrafficSelector[],
): boolean {
  const ports = readSelectorPorts(packet, header);
  const sourceMatch = sourceSelectors.some((selector) =>
    matchesOneSide(header.source, header.protocol, ports?.source ?? null, selector));
  if (!sourceMatch) {
    return false;
  }
  return destinationSelectors.some((selector) =>
    matchesOneSide(header.destination, header.protocol, ports?.destination ?? null, selector));
}

function matchesOneSide(address: Uint8Array, protocol: number, port: number | null, selector: TrafficSelector): boolean {
  if (!addressInSelector(address, selector)) {
    return false;
  }
  if (selector.protocol !== ANY_PROTOCOL && selector.protocol !== protocol) {
    return false;
  }
  const allPorts = selector.startPort === 0 && selector.endPort === MAX_PORT;
  if (allPorts) {
    return true;
  }
  return port !== null && port >= selector.startPort && port <= selector.endPort;
}
