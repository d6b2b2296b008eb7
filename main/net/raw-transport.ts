/**
 * ESP and AH straight over IP (protocols 50 and 51) through raw sockets, for SAs without UDP
 * encapsulation. The engine exchanges whole IP packets. IPv4 packets go to the kernel whole,
 * with their header. For IPv6 the kernel writes the header on send and strips it on receipt
 * (raw(7)), so this transport rebuilds it from the addresses.
 */

import { formatAddress, parseAddress } from '../engine/address.js';
import type { ProtectedPacketTransport } from '../engine/data-plane.js';
import { IPV6_HEADER_LENGTH, parseIpHeader, writeIpv6Header } from '../engine/ip-packet.js';
import { TUNNEL_PACKET_MARK } from './network-config.js';
import { RawIpSocket, type IpsecProtocol, type RawPacket } from './raw-socket.js';

export interface RawTransportOptions {
  family: 4 | 6;
  localAddress: string;
  remoteAddress: string;
  /** The protocols that the SAs use: ESP (50), AH (51) or both. */
  protocols: IpsecProtocol[];
}

export interface RawTransportCounters {
  /** Packets from a host other than the peer, which the raw socket also sees. */
  foreignDropped: number;
  /** Packets dropped because the socket's send queue was full. */
  sendDrops: number;
  /** Packets that the kernel rejected, such as with EMSGSIZE. */
  sendErrors: number;
}

export class RawIpsecTransport implements ProtectedPacketTransport {
  readonly counters: RawTransportCounters = { foreignDropped: 0, sendDrops: 0, sendErrors: 0 };
  /** The last send error, for the status view. */
  lastSendError: string | null = null;
  private readonly sockets = new Map<number, RawIpSocket>();
  private readonly localBytes: Uint8Array;
  private readonly remoteBytes: Uint8Array;
  /** The peer's address as the kernel formats a source address (RFC 5952 form). */
  private readonly remoteText: string;
  private handler: ((packets: Uint8Array[]) => void) | null = null;

  constructor(private readonly options: RawTransportOptions) {
    this.localBytes = parseAddress(options.localAddress);
    this.remoteBytes = parseAddress(options.remoteAddress);
    this.remoteText = formatAddress(this.remoteBytes);
    for (const protocol of options.protocols) {
      // IPv4 sockets take the engine's whole packet (IP_HDRINCL), because AH's ICV covers the
      // Identification field that the kernel would otherwise choose.
      const socket = RawIpSocket.open({
        family: options.family, protocol, bind: options.localAddress, headerIncluded: options.family === 4,
        mark: TUNNEL_PACKET_MARK,
      });
      socket.onPackets((packets) => this.receive(protocol, packets));
      this.sockets.set(protocol, socket);
    }
  }

  onPackets(handler: (packets: Uint8Array[]) => void): void {
    this.handler = handler;
  }

  send(packet: Uint8Array): boolean {
    const header = parseIpHeader(packet, 51);
    const socket = header && this.sockets.get(header.protocol);
    if (!header || !socket) {
      return false;
    }
    const payload = this.options.family === 4
      ? packet.subarray(0, header.totalLength)
      : packet.subarray(header.headerLength, header.totalLength);
    try {
      const sent = socket.send(payload, this.options.remoteAddress);
      if (!sent) {
        this.counters.sendDrops += 1;
      }
      return sent;
    } catch (error) {
      // EMSGSIZE, ENETUNREACH and the like fail one packet, never the tunnel.
      this.counters.sendErrors += 1;
      this.lastSendError = error instanceof Error ? error.message : String(error);
      return false;
    }
  }

  close(): void {
    for (const socket of this.sockets.values()) {
      socket.close();
    }
    this.sockets.clear();
  }

  private receive(protocol: number, packets: RawPacket[]): void {
    const accepted: Uint8Array[] = [];
    for (const { data, source } of packets) {
      if (source !== this.remoteText) {
        this.counters.foreignDropped += 1;
        continue;
      }
      accepted.push(this.options.family === 4 ? data : this.rebuildIpv6(protocol, data));
    }
    if (accepted.length > 0) {
      this.handler?.(accepted);
    }
  }

  /** Puts back the IPv6 header that the kernel stripped, with the fields AH's ICV covers. */
  private rebuildIpv6(protocol: number, payload: Uint8Array): Uint8Array {
    const packet = Buffer.allocUnsafe(IPV6_HEADER_LENGTH + payload.length);
    writeIpv6Header(packet, {
      source: this.remoteBytes,
      destination: this.localBytes,
      protocol,
      payloadLength: payload.length,
      trafficClass: 0,
      dontFragment: false,
      identification: 0,
      ttl: 64,
      flowLabel: 0,
    });
    packet.set(payload, IPV6_HEADER_LENGTH);
    return packet;
  }
}
