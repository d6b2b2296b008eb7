// Typed loader for the lupina_native addon (native/src): TUN devices, raw IP sockets and
// routing netlink on Linux, in C against Node-API 8, so one build loads in Node.js and in Electron.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import type { PacketDeviceStats } from './packet-device.js';

/** Location of the addon relative to the project root, where node-gyp builds it. */
const ADDON_PATH = 'native/build/Release/lupina_native.node';

/**
 * Project roots to look in: this file is main/net/native.ts when run with tsx, and
 * dist/main/net/native.js once compiled.
 */
const ROOT_CANDIDATES = ['../../', '../../../'];

/**
 * Error that the addon throws for a failed system call, shaped like Node's own system errors.
 */
export interface NativeSystemError extends Error {
  /** Name of the errno value, e.g. 'EPERM'. */
  readonly code: string;
  /** Negated errno value, as in Node's system errors (EPERM is -1). */
  readonly errno: number;
  /** Failed call, e.g. 'open' or 'ioctl(TUNSETIFF)'. */
  readonly syscall: string;
}

/** A packet read from a raw IP socket. */
export interface RawPacket {
  /** IPv4: the whole packet with its IPv4 header. IPv6: the payload after the IPv6 headers. */
  readonly data: Buffer;
  /** Numeric source address; an IPv6 link-local source has a zone ('fe80::1%eth0'). */
  readonly source: string;
}

/** Packets as the addon passes them: one Buffer, cut by the lengths. */
export type PacketChunkCallback = (chunk: Buffer, lengths: number[], sources: string[] | undefined) => void;

/**
 * Descriptor owned by the addon; see native/src/packet_handle.h for the contract. Packet is
 * what NativeEndpoint makes of each packet: a Buffer, or a RawPacket for a raw socket.
 */
export interface NativePacketHandle<Packet> {
  /**
   * Starts polling, or replaces both callbacks if already started. onPackets gets the packets
   * of one wake-up one after the other in `chunk`, their lengths, and for a raw socket their
   * source addresses. onError gets the error that stopped reading; an exception thrown by
   * either callback becomes uncaught.
   */
  start(onPackets: PacketChunkCallback, onError: (error: NativeSystemError) => void): void;
  /** Writes one packet to a TUN device; false if the queue was full. */
  write(packet: Uint8Array): boolean;
  /**
   * Writes packets to a TUN device in order, merging consecutive segments of one TCP stream
   * when the device was opened with offload. Returns how many the kernel took; the others are
   * counted in sendDrops or sendErrors.
   */
  writeBatch(packets: Uint8Array[]): number;
  /** Sends one payload on a raw socket to a numeric address; false if the queue was full. */
  sendTo(packet: Uint8Array, destination: string): boolean;
  /** Stops polling and closes the descriptor; later calls do nothing. */
  close(): void;
  /** Lets reading keep the event loop alive (the default). */
  ref(): void;
  /** Stops reading from keeping the event loop alive. */
  unref(): void;
  /** Returns a new object with the current counters. */
  stats(): PacketDeviceStats;
}

/** A TUN device handle, with the interface name the kernel chose. */
export interface NativeTunHandle extends NativePacketHandle<Buffer> {
  readonly name: string;
}

/** Functions that lupina_native.node exports. */
export interface LupinaNative {
  /**
   * Opens a TUN device (IFF_TUN | IFF_NO_PI); owner and group are -1 to leave them unset.
   * With offload, the device also has a virtio header (IFF_VNET_HDR) and TCP segmentation
   * offload, which the addon hides: reads and writes are still bare packets.
   */
  openTun(name: string, persist: boolean, owner: number, group: number, offload?: boolean): NativeTunHandle;
  /** Deletes a persistent TUN device by name. */
  deleteTun(name: string): void;
  /**
   * Opens a raw socket for one IP protocol, bound to bindAddress unless it is null.
   * headerIncluded (IPv4 only) sets IP_HDRINCL, so sends take whole IPv4 packets.
   */
  openRawSocket(
    family: 4 | 6,
    protocol: number,
    bindAddress: string | null,
    headerIncluded: boolean,
    mark: number,
  ): NativePacketHandle<RawPacket>;
  /**
   * Sends one routing netlink message (NETLINK_ROUTE) and returns the kernel's reply, every
   * message up to NLMSG_DONE or the request's NLMSG_ERROR. Blocks for at most 5 seconds.
   */
  rtnetlinkRequest(message: Uint8Array): Buffer;
  /** Index of the interface with this name in the process's namespace, 0 if there is none. */
  interfaceIndex(name: string): number;
  /** Name of the interface with this index, null if there is none. */
  interfaceName(index: number): string | null;
  /**
   * The packets that a frame read from a TUN device with offload gives (virtio header first),
   * as the device's reads deliver them. Throws a TypeError with code ERR_LUPINA_OFFLOAD for a
   * frame that reading drops and counts in offloadErrors. For tests.
   */
  offloadSplit(frame: Uint8Array): Buffer[];
  /** The frames, virtio header first, that writeBatch() writes for these packets. For tests. */
  offloadMerge(packets: Uint8Array[]): Buffer[];
  /** Largest number of packets one onPackets call reads. */
  readonly batchLimit: number;
}

/** The addon could not be found or loaded. */
export class NativeAddonError extends Error {
  readonly code = 'ERR_LUPINA_NATIVE_ADDON';

  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'NativeAddonError';
  }
}

let loaded: LupinaNative | undefined;

/**
 * Loads the addon on first use and returns it.
 *
 * @throws NativeAddonError if the addon was not built or cannot be loaded.
 */
export function loadNative(): LupinaNative {
  if (loaded !== undefined) {
    return loaded;
  }

  // LUPINA_NATIVE_ADDON lets a packaged app name the addon unpacked next to its asar archive.
  const override = process.env['LUPINA_NATIVE_ADDON'];
  const candidates = [
    ...(override ? [override] : []),
    ...ROOT_CANDIDATES.map((root) => fileURLToPath(new URL(root + ADDON_PATH, import.meta.url))),
  ];
  const path = candidates.find((candidate) => existsSync(candidate));
  if (path === undefined) {
    throw new NativeAddonError(
      `The native addon was not built: none of ${candidates.join(', ')} exists. ` +
        "Run 'npm rebuild' in the project folder (it needs python3, make and a C compiler).",
    );
  }

  try {
    loaded = createRequire(import.meta.url)(path) as LupinaNative;
  } catch (error) {
    throw new NativeAddonError(
      `Loading the native addon ${path} failed: ${(error as Error).message}. ` +
        "Run 'npm rebuild' to build it again for this system.",
      { cause: error },
    );
  }
  return loaded;
}
