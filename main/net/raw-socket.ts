// A raw IP socket for ESP (protocol 50, RFC 4303) or AH (protocol 51, RFC 4302), used to
// carry IPsec packets without UDP encapsulation. The socket is non-blocking and read on
// libuv readiness callbacks, so reads never block the event loop (native/src/packet_handle.h).
import { isIPv4, isIPv6 } from 'node:net';

import { loadNative, type NativePacketHandle, type RawPacket } from './native.js';
import { NativeEndpoint } from './native-endpoint.js';

export type { RawPacket } from './native.js';

/** IP protocol numbers of ESP and AH. */
export type IpsecProtocol = 50 | 51;

export interface RawIpSocketOptions {
  family: 4 | 6;
  protocol: IpsecProtocol;
  /** Local numeric address to receive on and send from. Default: all local addresses. */
  bind?: string;
  /**
   * IPv4 only: send() takes whole IPv4 packets (IP_HDRINCL), so the caller sets every header
   * field. Linux still fills in the header checksum and total length, and the Identification
   * and source address when they are zero. Default: false.
   */
  headerIncluded?: boolean;
  /** Firewall mark (SO_MARK) of every packet sent, for policy routing; 0 or absent for none. */
  mark?: number;
}

/**
 * A raw IP socket for ESP or AH. Its packet format on Linux (for IPv4 see raw(7), for both
 * families test/net/raw-socket.test.ts):
 *
 * - Received IPv4 packets are whole, starting at the IPv4 header (as on the wire, so
 *   multi-byte fields are in network byte order). Linux reassembles fragments before raw
 *   delivery (ip_local_deliver() in net/ipv4/ip_input.c).
 * - Received IPv6 packets start at the ESP or AH header, because the kernel strips the IPv6
 *   header and the extension headers before it. `source` is the only address given.
 * - send() takes the payload only (the ESP or AH header onwards), for both families, and the
 *   kernel builds the IP header, unless `headerIncluded` is set on an IPv4 socket.
 *
 * IPv4 AH needs `headerIncluded`, because the AH ICV covers the Identification field (RFC 4302,
 * section 3.3.3.1.1.1), which the kernel would otherwise choose after the ICV was computed.
 *
 * Opening needs root or CAP_NET_RAW; errors carry `code`, `errno` and `syscall`.
 */
export class RawIpSocket extends NativeEndpoint<RawPacket> {
  readonly family: 4 | 6;
  readonly protocol: IpsecProtocol;
  /** Address given as `bind`, or undefined for all local addresses. */
  readonly localAddress: string | undefined;

  private constructor(options: RawIpSocketOptions, handle: NativePacketHandle<RawPacket>) {
    super(handle);
    this.family = options.family;
    this.protocol = options.protocol;
    this.localAddress = options.bind;
  }

  /** Opens the socket; throws a TypeError with code ERR_INVALID_ARG_VALUE for bad options. */
  static open(options: RawIpSocketOptions): RawIpSocket {
    validateOptions(options);
    const handle = loadNative().openRawSocket(
      options.family,
      options.protocol,
      options.bind ?? null,
      options.headerIncluded ?? false,
      options.mark ?? 0,
    );
    return new RawIpSocket(options, handle);
  }

  /**
   * Sends one payload, or one whole IPv4 packet with `headerIncluded`, to a numeric address
   * of the socket's family. Returns false, and counts a drop, if the queue is full. Throws on
   * other errors, e.g. ENETUNREACH.
   */
  send(packet: Uint8Array, destination: string): boolean {
    return this.handle.sendTo(packet, destination);
  }
}

function validateOptions(options: RawIpSocketOptions): void {
  if (options.family !== 4 && options.family !== 6) {
    throw invalidOption(`family must be 4 or 6, not ${String(options.family)}`);
  }
  if (options.protocol !== 50 && options.protocol !== 51) {
    throw invalidOption(`protocol must be 50 (ESP) or 51 (AH), not ${String(options.protocol)}`);
  }

  const isFamilyAddress = options.family === 4 ? isIPv4 : isIPv6;
  if (options.bind !== undefined && !isFamilyAddress(options.bind.split('%')[0] ?? '')) {
    throw invalidOption(`bind '${options.bind}' is not a numeric IPv${options.family} address`);
  }
  if (options.headerIncluded === true && options.family !== 4) {
    throw invalidOption('headerIncluded is for IPv4 sockets only');
  }
  const mark = options.mark ?? 0;
  if (!Number.isInteger(mark) || mark < 0 || mark > 0xffffffff) {
    throw invalidOption(`mark must be an integer from 0 to 4294967295, not ${String(options.mark)}`);
  }
}

function invalidOption(message: string): TypeError {
  const error = new TypeError(`Invalid raw socket option: ${message}`);
  return Object.assign(error, { code: 'ERR_INVALID_ARG_VALUE' });
}
