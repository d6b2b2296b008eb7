// A Linux TUN device (layer 3, IFF_TUN | IFF_NO_PI), where each packet read or written is one
// bare IPv4 or IPv6 packet. The descriptor is non-blocking and read on libuv readiness
// callbacks, so reads never block the event loop (native/src/packet_handle.h).
import { loadNative, type NativeTunHandle } from './native.js';
import { NativeEndpoint } from './native-endpoint.js';
import type { PacketDevice } from './packet-device.js';

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
  /**
   * Let the kernel pass large TCP packets and take merged ones (IFF_VNET_HDR with TCP
   * segmentation offload, see native/src/tun_offload.h), so one system call carries many
   * segments. Reads and writes are still single packets. Default: true.
   */
  offload?: boolean;
}

/**
 * An open TUN device. Opening needs root or CAP_NET_ADMIN; errors carry `code` (the errno
 * name), `errno` and `syscall`, like Node's own system errors.
 */
export class TunDevice extends NativeEndpoint<Buffer> implements PacketDevice {
  /** Interface name the kernel assigned, e.g. 'lupina0'. */
  readonly name: string;

  private constructor(handle: NativeTunHandle) {
    super(handle);
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
      options.offload ?? true,
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
   * Writes one IPv4 or IPv6 packet to the kernel, as if the interface had received it.
   * Returns false, and counts a drop, if the queue is full. Throws on other errors, e.g.
   * EIO while the interface is down or EINVAL if the packet is not IPv4 or IPv6. Closing a
   * device that is not persistent makes the interface disappear.
   */
  write(packet: Uint8Array): boolean {
    return this.handle.write(packet);
  }

  /**
   * Writes packets in order, merging consecutive segments of one TCP stream into one write
   * when the device has offload. Returns how many packets the kernel took; the others are
   * counted in `sendDrops` or `sendErrors`.
   */
  writeBatch(packets: Uint8Array[]): number {
    return this.handle.writeBatch(packets);
  }
}
