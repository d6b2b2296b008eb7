// A Linux TUN device (layer 3, IFF_TUN | IFF_NO_PI), where each packet read or written is one
// bare IPv4 or IPv6 packet. The descriptor is non-blocking and read on libuv readiness
// callbacks, so reads never block the event loop (native/src/packet_handle.h).
import { loadNative, type NativeSystemError, type NativeTunHandle } from './native.js';
import type { PacketDevice, PacketDeviceStats } from './packet-device.js';

/** Interface name pattern used when none is given; the kernel replaces %d with a number. */
export const DEFAULT_TUN_NAME = 'lupina%d';

export interface TunOpenOptions {
  /**
   * Interface name, at most 15 bytes, or a pattern with '%d' for the kernel to number.
   * An existing persistent TUN device of that name is reused. Default: 'lupina%d'.
   */
  name?: string;
  /** Keep the interface after close(), until TunDevice.deletePersistent(). Default: false. */
  persist?: boolean;
  /** User id that may open the device later without CAP_NET_ADMIN (TUNSETOWNER). */
  owner?: number;
  /** Group id that may open the device later without CAP_NET_ADMIN (TUNSETGROUP). */
  group?: number;
}

/**
 * An open TUN device. Opening needs root or CAP_NET_ADMIN; errors carry `code` (the errno
 * name), `errno` and `syscall`, like Node's own system errors.
 */
export class TunDevice implements PacketDevice {
  /** Interface name the kernel assigned, e.g. 'lupina0'. */
  readonly name: string;

  readonly #handle: NativeTunHandle;
  #errorHandler: ((error: NativeSystemError) => void) | undefined;
  #closed = false;

  private constructor(handle: NativeTunHandle) {
    this.#handle = handle;
    this.name = handle.name;
  }

  /**
   * Opens a TUN device, creating the interface unless a persistent one has the name.
   * The interface starts down and without addresses.
   */
  static open(options: TunOpenOptions = {}): TunDevice {
    const handle = loadNative().openTun(
      options.name ?? DEFAULT_TUN_NAME,
      options.persist ?? false,
      options.owner ?? -1,
      options.group ?? -1,
    );
    return new TunDevice(handle);
  }

  /**
   * Deletes a persistent TUN device. Throws with code ENODEV if no interface has the name,
   * and EBUSY while a process has it open.
   */
  static deletePersistent(name: string): void {
    loadNative().deleteTun(name);
  }

  /**
   * Registers the receiver of packets and starts reading. Each call gets at most
   * `batchLimit` (64) packets, the ones ready at one wake-up. A later call replaces it.
   */
  onPackets(callback: (packets: Buffer[]) => void): void {
    this.#handle.start(callback, (error) => this.#reportError(error));
  }

  /**
   * Registers the receiver of the error that stops reading, such as the interface being
   * deleted. Without one, that error is thrown as an uncaught exception.
   */
  onError(callback: (error: NativeSystemError) => void): void {
    this.#errorHandler = callback;
  }

  /**
   * Writes one IPv4 or IPv6 packet to the kernel, as if the interface had received it.
   * Returns false, and counts a drop, if the queue is full. Throws on other errors, e.g.
   * EIO while the interface is down or EINVAL if the packet is not IPv4 or IPv6.
   */
  write(packet: Uint8Array): boolean {
    return this.#handle.write(packet);
  }

  /**
   * Stops reading and closes the descriptor. A device that is not persistent disappears.
   * Later calls do nothing, and no callback runs afterwards, also when called from one.
   */
  close(): void {
    this.#closed = true;
    this.#handle.close();
  }

  /** Lets reading keep the process alive (the default). */
  ref(): this {
    this.#handle.ref();
    return this;
  }

  /** Stops reading from keeping the process alive. */
  unref(): this {
    this.#handle.unref();
    return this;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** A snapshot of the counters. */
  get stats(): PacketDeviceStats {
    return this.#handle.stats();
  }

  #reportError(error: NativeSystemError): void {
    if (this.#errorHandler === undefined) {
      throw error;
    }
    this.#errorHandler(error);
  }
}
