/** The real `TunnelIo` on Linux: the native TUN device, raw or UDP sockets, and iproute2. */

import type { TransportSpec, TunnelDevice, TunnelIo, TunnelTransport } from '../controller/tunnel.js';
import { systemCommandRunner, type CommandRunner } from './command-runner.js';
import { NetworkConfigurator, type NetworkLog } from './network-config.js';
import { RawIpsecTransport } from './raw-transport.js';
import { TunDevice } from './tun-device.js';
import { UdpEncapsulationSocket } from './udp-encapsulation.js';

/** Used when the route to the gateway names no device MTU. */
const DEFAULT_PATH_MTU = 1500;

export interface SystemTunnelIoOptions {
  /** Directory of the network journals, for crash recovery. */
  journalDirectory: string;
  log: NetworkLog;
  runner?: CommandRunner;
}

export function createSystemTunnelIo(options: SystemTunnelIoOptions): TunnelIo {
  const runner = options.runner ?? systemCommandRunner;
  return {
    openDevice(): TunnelDevice {
      return TunDevice.open();
    },

    async openTransport(spec: TransportSpec): Promise<TunnelTransport> {
      if (spec.type === 'udp') {
        return UdpEncapsulationSocket.open(spec);
      }
      return new RawIpsecTransport(spec);
    },

    network(device: string) {
      return new NetworkConfigurator(runner, options.journalDirectory, device, options.log);
    },

    async pathMtu(address: string): Promise<number> {
      const family = address.includes(':') ? '-6' : '-4';
      const route = JSON.parse(await runner.run('ip', ['-j', family, 'route', 'get', address])) as { dev?: string }[];
      const device = route[0]?.dev;
      if (!device) {
        return DEFAULT_PATH_MTU;
      }
      const link = JSON.parse(await runner.run('ip', ['-j', 'link', 'show', 'dev', device])) as { mtu?: number }[];
      return link[0]?.mtu ?? DEFAULT_PATH_MTU;
    },
  };
}
