/**
 * UDP encapsulation of ESP (RFC 3948) on one UDP socket that IKE shares:
 *
 * - an ESP packet travels as the UDP payload, starting with its non-zero SPI (section 2.1);
 * - an IKE message is prefixed with the 4-byte non-ESP marker, zero (section 2.2);
 * - a NAT keepalive is a single 0xFF byte (section 2.3), sent after `keepaliveSeconds` without
 *   other traffic to the peer (section 4) and ignored on receipt.
 *
 * The engine works on whole IP packets, so a received ESP payload gets an IP header with the
 * peer's and our addresses in front, and the outer header of a sent packet is left off. The ESP
 * packets that arrive at one wake-up of the event loop go to the engine together, once the loop
 * has read them all, so the TUN device can merge TCP segments (see native/src/tun_offload.h).
 *
 * NOTE: the socket stays unconnected and each send has a callback. In the IKE benchmark against
 * strongSwan, a connected socket cut the throughput of an upload from about 1.25 to about 0.8
 * times strongSwan's client, and so did sends without a callback. The cause is not known.
 */

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { parseAddress } from '../engine/address.js';
import type { ProtectedPacketTransport } from '../engine/data-plane.js';
import {
  IPPROTO_ESP, IPV4_HEADER_LENGTH, IPV6_HEADER_LENGTH, parseIpHeader, writeIpv4Header, writeIpv6Header,
} from '../engine/ip-packet.js';

/** The IKE and NAT-T port (RFC 3948 section 2, RFC 7296 section 2.23). */
export const NAT_T_PORT = 4500;
export const NON_ESP_MARKER_LENGTH = 4;
export const NAT_KEEPALIVE = 0xff;
/** RFC 3948 section 4 suggests 20 seconds. */
export const DEFAULT_KEEPALIVE_SECONDS = 20;

export interface UdpEncapsulationOptions {
  localAddress: string;
  /** 0 lets the kernel choose; a client normally uses 4500 or an ephemeral port. */
  localPort: number;
  remoteAddress: string;
  remotePort?: number;
  /** 0 turns keepalives off. */
  keepaliveSeconds?: number;
}

export interface UdpEncapsulationCounters {
  espReceived: number;
  ikeReceived: number;
  keepalivesReceived: number;
  keepalivesSent: number;
  /** Datagrams from an address or port other than the peer's. */
  foreignDropped: number;
  /** Datagrams too short to be ESP (RFC 3948 section 2.1: at least SPI and sequence number). */
  malformedDropped: number;
  sendErrors: number;
}

export class UdpEncapsulationError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'UdpEncapsulationError';
  }
}

/** Receive buffer asked for, in bytes, so bursts wait in the kernel while the event loop is busy. */
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

function enlargeReceiveBuffer(socket: Socket): void {
  try {
    socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
  } catch {
    // The kernel caps the size at net.core.rmem_max; a smaller buffer still works.
  }
}

export class UdpEncapsulationSocket implements ProtectedPacketTransport {
  readonly counters: UdpEncapsulationCounters = {
    espReceived: 0, ikeReceived: 0, keepalivesReceived: 0, keepalivesSent: 0,
    foreignDropped: 0, malformedDropped: 0, sendErrors: 0,
  };
  private espHandler: ((packets: Uint8Array[]) => void) | null = null;
  /** ESP packets received since the last delivery to espHandler. */
  private pendingEsp: Uint8Array[] = [];
  private deliveryScheduled = false;
  private ikeHandler: ((message: Uint8Array) => void) | null = null;
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private lastSent = Date.now();
  private closed = false;
  private readonly remoteBytes: Uint8Array;
  private readonly localBytes: Uint8Array;

  private constructor(
    private readonly socket: Socket,
    private readonly options: Required<UdpEncapsulationOptions>,
  ) {
    this.remoteBytes = parseAddress(options.remoteAddress);
    this.localBytes = parseAddress(options.localAddress);
    socket.on('message', (message, remote) => this.receive(message, remote));
    socket.on('error', () => {
      this.counters.sendErrors += 1;
    });
    this.startKeepalives();
  }

  /** Binds the socket; rejects with UdpEncapsulationError when the address or port is taken. */
  static async open(options: UdpEncapsulationOptions): Promise<UdpEncapsulationSocket> {
    const family = parseAddress(options.remoteAddress).length === 4 ? 'udp4' : 'udp6';
    const socket = createSocket({ type: family, reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (error: NodeJS.ErrnoException) => {
        reject(new UdpEncapsulationError(
          `cannot bind UDP ${options.localAddress}:${options.localPort}: ${error.message}`, error.code));
      });
      socket.bind(options.localPort, options.localAddress, () => resolve());
    });
    socket.removeAllListeners('error');
    enlargeReceiveBuffer(socket);
    return new UdpEncapsulationSocket(socket, {
      remotePort: NAT_T_PORT,
      keepaliveSeconds: DEFAULT_KEEPALIVE_SECONDS,
      ...options,
    });
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  onPackets(handler: (packets: Uint8Array[]) => void): void {
    this.espHandler = handler;
  }

  /** Registers the handler for IKE messages, delivered without the non-ESP marker. */
  onIkeMessage(handler: (message: Uint8Array) => void): void {
    this.ikeHandler = handler;
  }

  /** Sends the ESP part of a whole protected IP packet. */
  send(packet: Uint8Array): boolean {
    const header = parseIpHeader(packet);
    if (!header || header.protocol !== IPPROTO_ESP) {
      // RFC 3948 covers ESP only; AH cannot cross a NAT.
      return false;
    }
    this.transmit(packet.subarray(header.headerLength, header.totalLength));
    return true;
  }

  /** Sends an IKE message behind the non-ESP marker (RFC 3948 section 2.2). */
  sendIkeMessage(message: Uint8Array): void {
    const datagram = Buffer.alloc(NON_ESP_MARKER_LENGTH + message.length);
    datagram.set(message, NON_ESP_MARKER_LENGTH);
    this.transmit(datagram);
  }

  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.pendingEsp = [];
    if (this.keepaliveTimer) {
      clearInterval(this.keepaliveTimer);
    }
    this.socket.close();
  }

  private transmit(datagram: Uint8Array): void {
    if (this.closed) {
      return;
    }
    this.lastSent = Date.now();
    this.socket.send(datagram, this.options.remotePort, this.options.remoteAddress, (error) => {
      if (error) {
        this.counters.sendErrors += 1;
      }
    });
  }

  /**
   * Queues an ESP packet for the engine. The queue goes out in the check phase of the event
   * loop, right after the poll phase that read the datagrams, so every datagram of one
   * wake-up arrives in one batch.
   */
  private queueEsp(packet: Uint8Array): void {
    this.pendingEsp.push(packet);
    if (this.deliveryScheduled) {
      return;
    }
    this.deliveryScheduled = true;
    setImmediate(() => {
      this.deliveryScheduled = false;
      const packets = this.pendingEsp;
      this.pendingEsp = [];
      if (packets.length > 0 && !this.closed) {
        this.espHandler?.(packets);
      }
    });
  }

  private receive(datagram: Buffer, remote: RemoteInfo): void {
    if (remote.address !== this.options.remoteAddress || remote.port !== this.options.remotePort) {
      this.counters.foreignDropped += 1;
      return;
    }
    if (datagram.length === 1 && datagram[0] === NAT_KEEPALIVE) {
      this.counters.keepalivesReceived += 1;
      return;
    }
    if (datagram.length >= NON_ESP_MARKER_LENGTH && datagram.readUInt32BE(0) === 0) {
      this.counters.ikeReceived += 1;
      this.ikeHandler?.(datagram.subarray(NON_ESP_MARKER_LENGTH));
      return;
    }
    if (datagram.length < 8) {
      this.counters.malformedDropped += 1;
      return;
    }
    this.counters.espReceived += 1;
    this.queueEsp(this.wrapInIpHeader(datagram));
  }

  /** Puts an IP header in front of a received ESP payload, as if it had arrived without UDP. */
  private wrapInIpHeader(esp: Uint8Array): Uint8Array {
    const ipv4 = this.remoteBytes.length === 4;
    const headerLength = ipv4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    const packet = Buffer.allocUnsafe(headerLength + esp.length);
    const fields = {
      source: this.remoteBytes,
      destination: this.localBytes,
      protocol: IPPROTO_ESP,
      payloadLength: esp.length,
      trafficClass: 0,
      dontFragment: false,
      identification: 0,
      ttl: 64,
      flowLabel: 0,
    };
    if (ipv4) {
      writeIpv4Header(packet, fields);
    } else {
      writeIpv6Header(packet, fields);
    }
    packet.set(esp, headerLength);
    return packet;
  }

  private startKeepalives(): void {
    const seconds = this.options.keepaliveSeconds;
    if (seconds <= 0) {
      return;
    }
    this.keepaliveTimer = setInterval(() => {
      if (Date.now() - this.lastSent >= seconds * 1000) {
        this.counters.keepalivesSent += 1;
        this.transmit(Uint8Array.of(NAT_KEEPALIVE));
      }
    }, (seconds * 1000) / 2);
    this.keepaliveTimer.unref();
  }
}
