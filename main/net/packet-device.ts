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
  /**
   * Failed reads, other than "no packet ready" and interrupted calls, and packets read but lost
   * because memory ran out.
   */
  readonly receiveErrors: number;
  /** Packets dropped on receive because they did not fit the 65535-byte buffer. */
  readonly receiveTruncated: number;
  /** Wake-ups that delivered at least one packet. */
  readonly batches: number;
  /** Packets that write() rejected for a reason other than a full queue (TUN writeBatch only). */
  readonly sendErrors: number;
  /** Large TCP packets read from a TUN device with offload and split into segments. */
  readonly offloadSplits: number;
  /** Packets written to a TUN device as part of a merged TCP packet. */
  readonly offloadMerged: number;
  /** Packets read from a TUN device with offload and dropped because their virtio header was unusable. */
  readonly offloadErrors: number;
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

  /**
   * Writes packets in order and returns how many the device took; each one it did not take is
   * counted. Never throws for a single packet's failure.
   */
  writeBatch(packets: Uint8Array[]): number;

  /** Stops reading and releases the device. Later calls do nothing, and no callback follows. */
  close(): void;
}
