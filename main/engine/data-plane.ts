/**
 * The packet path between the TUN device and the network: inner packets read from the device
 * are protected with the outbound SA their addresses select, and ESP or AH packets from the
 * network are unprotected and written to the device. The device and the network are interfaces,
 * so tests run the whole path in memory.
 */

import { buildTooBigError } from './icmp-errors.js';
import { hasDontFragment, parseIpHeader } from './ip-packet.js';
import type { SaDatabase } from './sa-database.js';

/** The TUN device, or an in-memory double. */
export interface InnerPacketDevice {
  /** Registers the handler for batches of inner IP packets read from the device. */
  onPackets(handler: (packets: Uint8Array[]) => void): void;
  /** Writes one inner IP packet; returns false when the device dropped it. */
  write(packet: Uint8Array): boolean;
  /**
   * Writes inner IP packets in order and returns how many the device took. A device that
   * has it can merge TCP segments into fewer writes.
   */
  writeBatch?(packets: Uint8Array[]): number;
}

/** The raw-socket or UDP transport that carries the protected packets. */
export interface ProtectedPacketTransport {
  /** Sends a whole protected IP packet (the transport strips or keeps the outer header as it must). */
  send(packet: Uint8Array): boolean;
  /** Registers the handler for received ESP or AH packets, each with its IP header. */
  onPackets(handler: (packets: Uint8Array[]) => void): void;
}

export interface DataPlaneCounters {
  /** Inner packets larger than the tunnel MTU, rejected with an ICMP error. */
  tooBig: number;
  /** Packets that the TUN device did not accept. */
  deviceWriteFailures: number;
  /** Protected packets that the transport could not send. */
  transportSendFailures: number;
}

export interface DataPlaneOptions {
  device: InnerPacketDevice;
  transport: ProtectedPacketTransport;
  sad: SaDatabase;
  /** Largest inner packet that fits the path after ESP or AH overhead. */
  mtu: number;
  /** Source of the ICMP errors: the tunnel's inner addresses. */
  innerAddresses: { ipv4?: Uint8Array; ipv6?: Uint8Array };
}

export class DataPlane {
  readonly counters: DataPlaneCounters = { tooBig: 0, deviceWriteFailures: 0, transportSendFailures: 0 };
  private mtu: number;

  constructor(private readonly options: DataPlaneOptions) {
    this.mtu = options.mtu;
    options.device.onPackets((packets) => this.handleOutbound(packets));
    options.transport.onPackets((packets) => this.handleInbound(packets));
  }

  setMtu(mtu: number): void {
    this.mtu = mtu;
  }

  private handleOutbound(packets: Uint8Array[]): void {
    for (const inner of packets) {
      if (inner.length > this.mtu && this.rejectTooBig(inner)) {
        continue;
      }
      const result = this.options.sad.protect(inner);
      if (result.ok) {
        this.sendToTransport(result.packet);
      }
    }
  }

  private handleInbound(packets: Uint8Array[]): void {
    const inner: Uint8Array[] = [];
    for (const packet of packets) {
      const result = this.options.sad.unprotect(packet);
      if (result.ok) {
        inner.push(result.packet);
      }
    }
    this.writeAllToDevice(inner);
  }

  /** Writes a batch in one call where the device can take one, so it can merge TCP segments. */
  private writeAllToDevice(packets: Uint8Array[]): void {
    const device = this.options.device;
    if (device.writeBatch === undefined || packets.length < 2) {
      packets.forEach((packet) => this.writeToDevice(packet));
      return;
    }
    let written = 0;
    try {
      written = device.writeBatch(packets);
    } catch {
      // Only a closed device or a wrong argument throws, so counting the whole batch as failed
      // can over-count only when the device closes in the middle of a batch.
      written = 0;
    }
    this.counters.deviceWriteFailures += packets.length - written;
  }

  private sendToTransport(packet: Uint8Array): void {
    let sent = false;
    try {
      sent = this.options.transport.send(packet);
    } catch {
      sent = false;
    }
    if (!sent) {
      this.counters.transportSendFailures += 1;
    }
  }

  /** Writes to the device; a failure of one packet is counted and never stops the tunnel. */
  private writeToDevice(packet: Uint8Array): void {
    let written = false;
    try {
      written = this.options.device.write(packet);
    } catch {
      written = false;
    }
    if (!written) {
      this.counters.deviceWriteFailures += 1;
    }
  }

  /**
   * Rejects an oversized packet that may not be fragmented with "fragmentation needed" or
   * "packet too big" (RFC 1191, RFC 8201) and returns true. Returns false when the packet may
   * be sent anyway and fragmented on the outer path.
   */
  private rejectTooBig(inner: Uint8Array): boolean {
    const header = parseIpHeader(inner);
    if (!header || !hasDontFragment(inner)) {
      return false;
    }
    this.counters.tooBig += 1;
    const source = header.family === 4 ? this.options.innerAddresses.ipv4 : this.options.innerAddresses.ipv6;
    const error = source && buildTooBigError(inner, this.mtu, source);
    if (error) {
      this.writeToDevice(error);
    }
    return true;
  }
}
