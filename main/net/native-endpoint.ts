// The part of TunDevice and RawIpSocket that only wraps the native handle: reading callbacks,
// the error that stops reading, closing, keeping the process alive, and the counters.
import type { NativePacketHandle, NativeSystemError, RawPacket } from './native.js';
import type { PacketDeviceStats } from './packet-device.js';

/**
 * Cuts the chunk that the addon filled into one view per packet, with no copy: a Buffer for a
 * TUN device, a RawPacket when the addon gave source addresses.
 */
function cutChunk(chunk: Buffer, lengths: number[], sources: string[] | undefined): (Buffer | RawPacket)[] {
  const packets: (Buffer | RawPacket)[] = new Array(lengths.length);
  let offset = 0;
  for (let i = 0; i < lengths.length; i++) {
    const end = offset + lengths[i]!;
    const data = chunk.subarray(offset, end);
    packets[i] = sources === undefined ? data : { data, source: sources[i]! };
    offset = end;
  }
  return packets;
}

export abstract class NativeEndpoint<Packet> {
  #errorHandler: ((error: NativeSystemError) => void) | undefined;
  #closed = false;

  protected constructor(protected readonly handle: NativePacketHandle<Packet>) {}

  /**
   * Registers the receiver of packets and starts reading. Each call gets packets that were
   * ready at one wake-up: at most `batchLimit` (64) reads, but a TUN device with offload
   * splits a large TCP packet into many. A later call replaces the receiver.
   */
  onPackets(callback: (packets: Packet[]) => void): void {
    this.handle.start(
      (chunk, lengths, sources) => callback(cutChunk(chunk, lengths, sources) as Packet[]),
      (error) => this.#reportError(error),
    );
  }

  /**
   * Registers the receiver of the error that stops reading, such as a TUN interface being
   * deleted. Without one, that error is thrown as an uncaught exception.
   */
  onError(callback: (error: NativeSystemError) => void): void {
    this.#errorHandler = callback;
  }

  /**
   * Stops reading and closes the descriptor. Later calls do nothing, and no callback runs
   * afterwards, also when called from one.
   */
  close(): void {
    this.#closed = true;
    this.handle.close();
  }

  /** Lets reading keep the process alive (the default). */
  ref(): this {
    this.handle.ref();
    return this;
  }

  /** Stops reading from keeping the process alive. */
  unref(): this {
    this.handle.unref();
    return this;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** A snapshot of the counters. */
  get stats(): PacketDeviceStats {
    return this.handle.stats();
  }

  #reportError(error: NativeSystemError): void {
    if (this.#errorHandler === undefined) {
      throw error;
    }
    this.#errorHandler(error);
  }
}
