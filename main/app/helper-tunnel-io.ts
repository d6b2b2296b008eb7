/**
 * The desktop app's TunnelIo: the privileged helper creates the TUN device and changes the
 * network, and everything else (opening the device as its owner, the sockets, the path MTU)
 * runs unprivileged in the app, as createSystemTunnelIo does for the CLI.
 */

import type { TransportSpec, TunnelDevice, TunnelIo, TunnelTransport } from '../controller/tunnel.js';
import { createSystemTunnelIo } from '../net/system-tunnel-io.js';
import type { NetworkLog } from '../net/network-config.js';
import { TunDevice } from '../net/tun-device.js';
import type { HelperClient } from './helper-client.js';

export interface HelperTunnelIo extends TunnelIo {
  /**
   * Has the helper create the TUN device, once. Call it before each connect, because
   * `openDevice` is synchronous and can only open a device that exists.
   */
  prepareDevice(): Promise<string>;
  /** Deletes the device and stops the helper. */
  close(): Promise<void>;
}

export class RawSocketPermissionError extends Error {
  constructor(cause: unknown) {
    super('this profile sends ESP or AH straight over IP, which needs a raw socket (CAP_NET_RAW), and the ' +
      'desktop app runs without that privilege; use a profile with UDP encapsulation (NAT-T), or connect ' +
      'with the command-line client as root', { cause });
    this.name = 'RawSocketPermissionError';
  }
}

export interface HelperTunnelIoOptions {
  helper: HelperClient;
  /** The app's journal directory for createSystemTunnelIo; the helper keeps its own journals. */
  journalDirectory: string;
  log: NetworkLog;
}

export function createHelperTunnelIo(options: HelperTunnelIoOptions): HelperTunnelIo {
  const system = createSystemTunnelIo({ journalDirectory: options.journalDirectory, log: options.log });
  let device: string | null = null;

  return {
    async prepareDevice(): Promise<string> {
      device ??= await options.helper.createTun();
      return device;
    },

    openDevice(): TunnelDevice {
      if (device === null) {
        throw new Error('no TUN device is ready: the privileged helper must create one before connecting');
      }
      // The device is persistent and owned by this user, so attaching needs no privilege.
      return TunDevice.open({ name: device });
    },

    async openTransport(spec: TransportSpec): Promise<TunnelTransport> {
      try {
        return await system.openTransport(spec);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (spec.type === 'raw' && (code === 'EPERM' || code === 'EACCES')) {
          throw new RawSocketPermissionError(error);
        }
        throw error;
      }
    },

    network(name: string) {
      return {
        apply: (settings) => options.helper.applyNetwork(settings),
        revert: () => options.helper.revertNetwork(name),
      };
    },

    pathMtu: (address) => system.pathMtu(address),

    async close(): Promise<void> {
      const name = device;
      device = null;
      try {
        if (name !== null) {
          await options.helper.deleteTun(name);
        }
      } finally {
        await options.helper.close();
      }
    },
  };
}
