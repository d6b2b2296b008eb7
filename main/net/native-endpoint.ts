// The part of TunDevice and RawIpSocket that only wraps the native handle: reading callbacks,
// the error that stops reading, closing, keeping the process alive, and the counters.
import type { NativePacketHandle, NativeSystemError } from './native.js';
import type { PacketDeviceStats } from './packet-device.js';

export abstract class NativeEndpoint<Packet> {
  #errorHandler: ((error: NativeSystemError) => void) | undefined;
  #closed = false;

  protected constructor(protected readonly handle: NativePacketHandle<Packet>) {}

  /**
   * Registers the receiver of packets and starts reading. Each call gets at most
   * `batchLimit` (64) packets, the ones ready at one wake-up. A later call replaces it.
   */
  onPackets(callback: (packets: Packet[]) => void): void {
    this.handle.start(callback, (error) => this.#reportError(error));
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
