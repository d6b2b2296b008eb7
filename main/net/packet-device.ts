// The interface between the packet engine and the virtual interface that carries the user's
// IP traffic: a TUN device in production, an in-memory double in tests.

/** Counters of a packet device or raw socket; every dropped packet is counted somewhere. */
export interface PacketDeviceStats {
  /** Packets passed to the onPackets callback. */
  readonly packetsReceived: number;
  /** Bytes in those packets. */
  readonly bytesReceived: number;
  /** Packets the kernel accepted from write() or send(). */
  readonly packetsSent: number;
  /** Bytes in those packets. */
  readonly bytesSent: number;
  /** Packets dropped on write() or send() because the kernel queue was full. */
  readonly sendDrops: number;
  /** Failed reads, other than "no packet ready" and interrupted calls. */
  readonly receiveErrors: number;
  /** Packets dropped on receive because they did not fit the 65535-byte buffer. */
  readonly receiveTruncated: number;
  /** Wake-ups that delivered at least one packet. */
  readonly batches: number;
}

/** A source and sink of whole IPv4 and IPv6 packets, without link-layer framing. */
export interface PacketDevice {
  /**
   * Registers the receiver of packets read from the device and starts reading. Packets arrive
   * in batches, oldest first. A later call replaces the receiver.
   */
  onPackets(callback: (packets: Buffer[]) => void): void;

  /** Writes one packet. Returns false, and counts a drop, if the device queue is full. */
  write(packet: Uint8Array): boolean;

  /** Stops reading and releases the device. Later calls do nothing, and no callback follows. */
  close(): void;
}
