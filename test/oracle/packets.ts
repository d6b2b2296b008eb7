/**
 * Builders for test packets: IPv4 with a correct header checksum (RFC 791), IPv6 (RFC 8200),
 * UDP (RFC 768) and ICMP or ICMPv6 echo messages (RFC 792, RFC 4443) with correct checksums.
 * They are independent of the engine so that tests can feed the engine and an oracle the same
 * bytes.
 */

const IPV4_HEADER_LENGTH = 20;
const IPV6_HEADER_LENGTH = 40;
const UDP_HEADER_LENGTH = 8;
const ICMP_ECHO_HEADER_LENGTH = 8;

export const IPPROTO_ICMP = 1;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

export interface Ipv4PacketOptions {
  src: string;
  dst: string;
  protocol: number;
  payload: Uint8Array;
  /** Defaults to 64. */
  ttl?: number;
  /** Identification field, 0 by default. */
  id?: number;
  /** The 3-bit flags field: 2 is Don't Fragment, 1 is More Fragments. Defaults to 0. */
  flags?: number;
  /** The DSCP and ECN byte, 0 by default. */
  tos?: number;
}

export interface Ipv6PacketOptions {
  src: string;
  dst: string;
  nextHeader: number;
  payload: Uint8Array;
  /** Defaults to 64. */
  hopLimit?: number;
  /** Defaults to 0. */
  trafficClass?: number;
  /** The 20-bit flow label, 0 by default. */
  flowLabel?: number;
}

export interface UdpOptions {
  /** Source and destination addresses, used only for the pseudo-header of the checksum. */
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  data: Uint8Array;
}

export interface IcmpEchoOptions {
  identifier: number;
  sequence: number;
  data: Uint8Array;
  /** Builds an Echo Reply in place of an Echo Request. */
  reply?: boolean;
  /**
   * Source and destination of the IPv6 packet that will carry the message. When present, the
   * result is an ICMPv6 echo whose checksum covers the IPv6 pseudo-header (RFC 4443 section
   * 2.3). When absent, the result is an ICMPv4 echo.
   */
  ipv6?: { src: string; dst: string };
}

/** Returns the 4 bytes of a dotted-quad IPv4 address, or throws on anything else. */
export function parseIpv4Address(address: string): Uint8Array {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) {
    throw new Error(`invalid IPv4 address: ${address}`);
  }
  return Uint8Array.from(parts.map(Number));
}

/** Returns the 16 bytes of an IPv6 address in RFC 4291 text form, with at most one `::`. */
export function parseIpv6Address(address: string): Uint8Array {
  const halves = address.split('::');
  if (halves.length > 2) {
    throw new Error(`invalid IPv6 address: ${address}`);
  }

  const readGroups = (text: string | undefined): number[] => {
    if (text === undefined || text === '') {
      return [];
    }
    return text.split(':').map((group) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) {
        throw new Error(`invalid IPv6 address: ${address}`);
      }
      return parseInt(group, 16);
    });
  };
  const head = readGroups(halves[0]);
  const tail = readGroups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) {
    throw new Error(`invalid IPv6 address: ${address}`);
  }

  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  groups.forEach((group, index) => view.setUint16(index * 2, group));
  return bytes;
}

/** Returns the parsed address: 4 bytes for IPv4, 16 for IPv6 (any text with a colon). */
export function parseAddress(address: string): Uint8Array {
  return address.includes(':') ? parseIpv6Address(address) : parseIpv4Address(address);
}

/** Computes the Internet checksum (RFC 1071) over the concatenation of `chunks`. */
export function internetChecksum(...chunks: Uint8Array[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const chunk of chunks) {
    for (const byte of chunk) {
      if (odd === undefined) {
        odd = byte;
      } else {
        sum += (odd << 8) | byte;
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) {
    sum += odd << 8;
  }
  while (sum > 0xffff) {
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

/** Builds an IPv4 packet without options, with Total Length and header checksum filled in. */
export function ipv4Packet(options: Ipv4PacketOptions): Uint8Array {
  const totalLength = IPV4_HEADER_LENGTH + options.payload.length;
  if (totalLength > 0xffff) {
    throw new Error(`IPv4 packet of ${totalLength} bytes exceeds 65535`);
  }

  const packet = new Uint8Array(totalLength);
  const view = new DataView(packet.buffer);
  view.setUint8(0, 0x45);
  view.setUint8(1, options.tos ?? 0);
  view.setUint16(2, totalLength);
  view.setUint16(4, options.id ?? 0);
  view.setUint16(6, ((options.flags ?? 0) & 0x7) << 13);
  view.setUint8(8, options.ttl ?? 64);
  view.setUint8(9, options.protocol);
  packet.set(parseIpv4Address(options.src), 12);
  packet.set(parseIpv4Address(options.dst), 16);

  view.setUint16(10, internetChecksum(packet.subarray(0, IPV4_HEADER_LENGTH)));
  packet.set(options.payload, IPV4_HEADER_LENGTH);
  return packet;
}

/** Builds an IPv6 packet without extension headers, with Payload Length filled in. */
export function ipv6Packet(options: Ipv6PacketOptions): Uint8Array {
  if (options.payload.length > 0xffff) {
    throw new Error(`IPv6 payload of ${options.payload.length} bytes needs a jumbogram`);
  }

  const packet = new Uint8Array(IPV6_HEADER_LENGTH + options.payload.length);
  const view = new DataView(packet.buffer);
  const trafficClass = options.trafficClass ?? 0;
  const flowLabel = options.flowLabel ?? 0;
  view.setUint32(0, ((6 << 28) | (trafficClass << 20) | (flowLabel & 0xfffff)) >>> 0);
  view.setUint16(4, options.payload.length);
  view.setUint8(6, options.nextHeader);
  view.setUint8(7, options.hopLimit ?? 64);
  packet.set(parseIpv6Address(options.src), 8);
  packet.set(parseIpv6Address(options.dst), 24);
  packet.set(options.payload, IPV6_HEADER_LENGTH);
  return packet;
}

/**
 * Returns the pseudo-header that the UDP and ICMPv6 checksums cover: RFC 768 for IPv4,
 * RFC 8200 section 8.1 for IPv6.
 */
function pseudoHeader(src: string, dst: string, protocol: number, length: number): Uint8Array {
  const source = parseAddress(src);
  const destination = parseAddress(dst);
  if (source.length !== destination.length) {
    throw new Error(`addresses ${src} and ${dst} are of different IP versions`);
  }

  if (source.length === 4) {
    const header = new Uint8Array(12);
    header.set(source, 0);
    header.set(destination, 4);
    header[9] = protocol;
    new DataView(header.buffer).setUint16(10, length);
    return header;
  }
  const header = new Uint8Array(40);
  header.set(source, 0);
  header.set(destination, 16);
  const view = new DataView(header.buffer);
  view.setUint32(32, length);
  view.setUint8(39, protocol);
  return header;
}

/** Builds a UDP datagram (header and data) with its checksum over the pseudo-header. */
export function udpPayload(options: UdpOptions): Uint8Array {
  const length = UDP_HEADER_LENGTH + options.data.length;
  const datagram = new Uint8Array(length);
  const view = new DataView(datagram.buffer);
  view.setUint16(0, options.srcPort);
  view.setUint16(2, options.dstPort);
  view.setUint16(4, length);
  datagram.set(options.data, UDP_HEADER_LENGTH);

  const pseudo = pseudoHeader(options.src, options.dst, IPPROTO_UDP, length);
  const checksum = internetChecksum(pseudo, datagram);
  // RFC 768: a computed checksum of zero is sent as all ones, since zero means "no checksum".
  view.setUint16(6, checksum === 0 ? 0xffff : checksum);
  return datagram;
}

/** Builds an ICMPv4 or ICMPv6 Echo Request (or Reply) message with its checksum. */
export function icmpEcho(options: IcmpEchoOptions): Uint8Array {
  const message = new Uint8Array(ICMP_ECHO_HEADER_LENGTH + options.data.length);
  const view = new DataView(message.buffer);
  const reply = options.reply ?? false;
  if (options.ipv6 === undefined) {
    view.setUint8(0, reply ? 0 : 8);
  } else {
    view.setUint8(0, reply ? 129 : 128);
  }
  view.setUint16(4, options.identifier);
  view.setUint16(6, options.sequence);
  message.set(options.data, ICMP_ECHO_HEADER_LENGTH);

  if (options.ipv6 === undefined) {
    view.setUint16(2, internetChecksum(message));
  } else {
    const { src, dst } = options.ipv6;
    const pseudo = pseudoHeader(src, dst, IPPROTO_ICMPV6, message.length);
    view.setUint16(2, internetChecksum(pseudo, message));
  }
  return message;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Parses hex, ignoring whitespace, as RFCs print their test vectors. */
export function fromHex(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(compact)) {
    throw new Error(`invalid hex string: ${text.slice(0, 40)}`);
  }
  return new Uint8Array(Buffer.from(compact, 'hex'));
}
