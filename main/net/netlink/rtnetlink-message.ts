/**
 * Routing netlink messages (rtnetlink(7)): requests for links, addresses and routes, and the
 * kernel's replies. Only the message types and attributes that tunnel set-up uses are here.
 * Netlink uses the host's byte order for its own fields and network order for addresses.
 */

import { endianness } from 'node:os';
import { getSystemErrorMap } from 'node:util';

const LITTLE_ENDIAN = endianness() === 'LE';

/** Message types (linux/netlink.h, linux/rtnetlink.h). */
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const RTM_NEWLINK = 16;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;

/** Flags of the netlink header. */
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_DUMP = 0x300;
/** In a dump reply: the table changed during the dump, so the listing may be incomplete. */
export const NLM_F_DUMP_INTR = 0x10;
/** In an error reply: the request is cut to its header, and attributes follow. */
const NLM_F_CAPPED = 0x100;
const NLM_F_ACK_TLVS = 0x200;
const NLMSGERR_ATTR_MSG = 1;

/** Attributes of links, addresses and routes. */
export const IFLA_MTU = 4;
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PREFSRC = 7;
export const RTA_MULTIPATH = 9;
export const RTA_TABLE = 15;

export const IFF_UP = 0x1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const RT_TABLE_MAIN = 254;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_NOWHERE = 255;
export const RTN_UNICAST = 1;
/** Route flag of a cached clone, which `ip route show` leaves out. */
export const RTM_F_CLONED = 0x200;
/** "boot", the routing protocol that `ip route add` sets when the command names none. */
export const RTPROT_BOOT = 3;

const HEADER_LENGTH = 16;
const ATTRIBUTE_HEADER_LENGTH = 4;

/** The kernel's reply broke the netlink format. */
export class NetlinkFormatError extends Error {
  constructor(message: string) {
    super(`malformed routing netlink reply: ${message}`);
    this.name = 'NetlinkFormatError';
  }
}

export interface Attribute {
  type: number;
  value: Uint8Array;
}

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  payload: Uint8Array;
}

function align4(length: number): number {
  return (length + 3) & ~3;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function u32Attribute(type: number, value: number): Attribute {
  const bytes = new Uint8Array(4);
  view(bytes).setUint32(0, value, LITTLE_ENDIAN);
  return { type, value: bytes };
}

/**
 * Builds one request: the netlink header, the fixed body of the message type, and the
 * attributes, each padded to 4 bytes.
 */
export function encodeRequest(type: number, flags: number, seq: number, body: Uint8Array, attributes: readonly Attribute[]): Uint8Array {
  const length = HEADER_LENGTH + align4(body.length) +
    attributes.reduce((sum, attribute) => sum + align4(ATTRIBUTE_HEADER_LENGTH + attribute.value.length), 0);
  const message = new Uint8Array(length);
  const fields = view(message);

  fields.setUint32(0, length, LITTLE_ENDIAN);
  fields.setUint16(4, type, LITTLE_ENDIAN);
  fields.setUint16(6, flags, LITTLE_ENDIAN);
  fields.setUint32(8, seq, LITTLE_ENDIAN);
  message.set(body, HEADER_LENGTH);

  let offset = HEADER_LENGTH + align4(body.length);
  for (const attribute of attributes) {
    fields.setUint16(offset, ATTRIBUTE_HEADER_LENGTH + attribute.value.length, LITTLE_ENDIAN);
    fields.setUint16(offset + 2, attribute.type, LITTLE_ENDIAN);
    message.set(attribute.value, offset + ATTRIBUTE_HEADER_LENGTH);
    offset += align4(ATTRIBUTE_HEADER_LENGTH + attribute.value.length);
  }
  return message;
}

/** struct ifinfomsg: family, type, index, flags and the mask of flags to change. */
export function linkBody(index: number, flags: number, change: number): Uint8Array {
  const body = new Uint8Array(16);
  const fields = view(body);
  fields.setInt32(4, index, LITTLE_ENDIAN);
  fields.setUint32(8, flags, LITTLE_ENDIAN);
  fields.setUint32(12, change, LITTLE_ENDIAN);
  return body;
}

/** struct ifaddrmsg: family, prefix length, flags, scope and interface index. */
export function addressBody(family: number, prefixLength: number, index: number): Uint8Array {
  const body = new Uint8Array(8);
  body[0] = family;
  body[1] = prefixLength;
  view(body).setUint32(4, index, LITTLE_ENDIAN);
  return body;
}

export interface RouteHeader {
  family: number;
  dstLength: number;
  table: number;
  protocol: number;
  scope: number;
  type: number;
}

/** struct rtmsg, with no source prefix, TOS or flags. */
export function routeBody(header: RouteHeader): Uint8Array {
  const body = new Uint8Array(12);
  body[0] = header.family;
  body[1] = header.dstLength;
  body[4] = header.table;
  body[5] = header.protocol;
  body[6] = header.scope;
  body[7] = header.type;
  return body;
}

/** Splits a reply into its messages, checking every length against the bytes present. */
export function splitMessages(reply: Uint8Array): NetlinkMessage[] {
  const messages: NetlinkMessage[] = [];
  const fields = view(reply);
  let offset = 0;
  while (offset < reply.length) {
    if (reply.length - offset < HEADER_LENGTH) {
      throw new NetlinkFormatError(`${reply.length - offset} bytes left after the last message, fewer than a header`);
    }
    const length = fields.getUint32(offset, LITTLE_ENDIAN);
    if (length < HEADER_LENGTH || length > reply.length - offset) {
      throw new NetlinkFormatError(`message length ${length} at offset ${offset} does not fit the ${reply.length} bytes`);
    }
    messages.push({
      type: fields.getUint16(offset + 4, LITTLE_ENDIAN),
      flags: fields.getUint16(offset + 6, LITTLE_ENDIAN),
      seq: fields.getUint32(offset + 8, LITTLE_ENDIAN),
      payload: reply.subarray(offset + HEADER_LENGTH, offset + length),
    });
    offset += align4(length);
  }
  return messages;
}

/** Reads the attributes from `offset` to the end of `bytes`. A later attribute of a type replaces an earlier one. */
export function readAttributes(bytes: Uint8Array, offset: number): Map<number, Uint8Array> {
  const attributes = new Map<number, Uint8Array>();
  const fields = view(bytes);
  while (offset + ATTRIBUTE_HEADER_LENGTH <= bytes.length) {
    const length = fields.getUint16(offset, LITTLE_ENDIAN);
    if (length < ATTRIBUTE_HEADER_LENGTH || offset + length > bytes.length) {
      throw new NetlinkFormatError(`attribute length ${length} at offset ${offset} does not fit the ${bytes.length} bytes`);
    }
    // The top two bits flag nested and network-order attributes.
    const type = fields.getUint16(offset + 2, LITTLE_ENDIAN) & 0x3fff;
    attributes.set(type, bytes.subarray(offset + ATTRIBUTE_HEADER_LENGTH, offset + length));
    offset += align4(length);
  }
  return attributes;
}

export function readU32(bytes: Uint8Array): number {
  if (bytes.length < 4) {
    throw new NetlinkFormatError(`a 32-bit attribute has ${bytes.length} bytes`);
  }
  return view(bytes).getUint32(0, LITTLE_ENDIAN);
}

export interface NetlinkErrorReply {
  /** The errno value, positive, or 0 when the reply acknowledges success. */
  errno: number;
  /** The kernel's explanation from an extended acknowledgement, if it sent one. */
  explanation?: string;
}

/** Reads an NLMSG_ERROR message: the negated errno, then the request, then optional attributes. */
export function readErrorReply(message: NetlinkMessage): NetlinkErrorReply {
  const payload = message.payload;
  if (payload.length < 4 + HEADER_LENGTH) {
    throw new NetlinkFormatError(`an error message has ${payload.length} bytes`);
  }
  const errno = -view(payload).getInt32(0, LITTLE_ENDIAN);
  if ((message.flags & NLM_F_ACK_TLVS) === 0) {
    return { errno };
  }

  const requestLength = (message.flags & NLM_F_CAPPED) !== 0
    ? HEADER_LENGTH
    : view(payload).getUint32(4, LITTLE_ENDIAN);
  const attributes = readAttributes(payload, 4 + align4(requestLength));
  const text = attributes.get(NLMSGERR_ATTR_MSG);
  if (!text) {
    return { errno };
  }
  const end = text.indexOf(0);
  return { errno, explanation: Buffer.from(text.subarray(0, end < 0 ? text.length : end)).toString('utf8') };
}

export interface NextHop {
  oif?: number;
  gateway?: Uint8Array;
}

/** Reads the errno that ends a dump (NLMSG_DONE), positive, or 0 when the dump succeeded. */
export function readDoneErrno(message: NetlinkMessage): number {
  if (message.payload.length < 4) {
    return 0;
  }
  return -view(message.payload).getInt32(0, LITTLE_ENDIAN);
}

export interface RouteMessage extends RouteHeader {
  flags: number;
  dst?: Uint8Array;
  gateway?: Uint8Array;
  /** Output interface; absent for a multipath route, whose next hops name theirs. */
  oif?: number;
  prefsrc?: Uint8Array;
  /** The next hops of a multipath route (RTA_MULTIPATH). */
  nextHops?: NextHop[];
}

/** Reads an RTM_NEWROUTE message: struct rtmsg and the attributes that tunnel set-up reads. */
export function readRouteMessage(payload: Uint8Array): RouteMessage {
  if (payload.length < 12) {
    throw new NetlinkFormatError(`a route message has ${payload.length} bytes`);
  }
  const attributes = readAttributes(payload, 12);
  const table = attributes.get(RTA_TABLE);
  const oif = attributes.get(RTA_OIF);
  const route: RouteMessage = {
    family: payload[0]!,
    dstLength: payload[1]!,
    table: table ? readU32(table) : payload[4]!,
    protocol: payload[5]!,
    scope: payload[6]!,
    type: payload[7]!,
    flags: view(payload).getUint32(8, LITTLE_ENDIAN),
    dst: attributes.get(RTA_DST),
    gateway: attributes.get(RTA_GATEWAY),
    oif: oif ? readU32(oif) : undefined,
    prefsrc: attributes.get(RTA_PREFSRC),
  };
  const multipath = attributes.get(RTA_MULTIPATH);
  if (multipath) {
    route.nextHops = readNextHops(multipath);
  }
  return route;
}

/** Reads the struct rtnexthop entries: length, flags, hops, interface index, then attributes. */
function readNextHops(bytes: Uint8Array): NextHop[] {
  const hops: NextHop[] = [];
  const fields = view(bytes);
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    const length = fields.getUint16(offset, LITTLE_ENDIAN);
    if (length < 8 || offset + length > bytes.length) {
      throw new NetlinkFormatError(`next hop length ${length} at offset ${offset} does not fit the ${bytes.length} bytes`);
    }
    const attributes = readAttributes(bytes.subarray(offset, offset + length), 8);
    hops.push({ oif: fields.getInt32(offset + 4, LITTLE_ENDIAN), gateway: attributes.get(RTA_GATEWAY) });
    offset += align4(length);
  }
  return hops;
}

/** glibc's strerror texts for the errors that link, address and route changes report. */
const ERRNO_TEXT: Record<number, string> = {
  1: 'Operation not permitted',
  2: 'No such file or directory',
  3: 'No such process',
  12: 'Cannot allocate memory',
  13: 'Permission denied',
  16: 'Device or resource busy',
  17: 'File exists',
  19: 'No such device',
  22: 'Invalid argument',
  34: 'Numerical result out of range',
  95: 'Operation not supported',
  97: 'Address family not supported by protocol',
  99: 'Cannot assign requested address',
  101: 'Network is unreachable',
  90: 'Message too long',
  100: 'Network is down',
  105: 'No buffer space available',
  110: 'Connection timed out',
  113: 'No route to host',
};

/** Returns the text that `ip` prints for an errno, such as "File exists". */
export function errnoText(errno: number): string {
  return ERRNO_TEXT[errno] ?? getSystemErrorMap().get(-errno)?.[1] ?? `error ${errno}`;
}
