/** The real `TunnelIo` on Linux: the native TUN device, raw or UDP sockets, and iproute2. */

import type { TransportSpec, TunnelDevice, TunnelIo, TunnelTransport } from '../controller/tunnel.js';
import { systemCommandRunner, type CommandRunner } from './command-runner.js';
import { existsSync } from 'node:fs';
import { NetworkConfigurator, type DnsBackend, type NetworkLog } from './network-config.js';
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
  /** The DNS destination; found from the system when absent (see `detectDnsBackend`). */
  dnsBackend?: DnsBackend;
}

/** The socket of systemd-resolved's varlink API, present while the service runs. */
const RESOLVED_SOCKET = '/run/systemd/resolve/io.systemd.Resolve';

/**
 * Uses systemd-resolved through resolvectl where it runs, and resolv.conf otherwise.
 * LUPINA_RESOLV_CONF names another resolv.conf, which tests use.
 */
export function detectDnsBackend(environment: NodeJS.ProcessEnv = process.env): DnsBackend {
  const override = environment['LUPINA_RESOLV_CONF'];
  if (override) {
    return { type: 'resolv-conf', path: override };
  }
  if (existsSync(RESOLVED_SOCKET) && ['/usr/bin/resolvectl', '/bin/resolvectl'].some((path) => existsSync(path))) {
    return { type: 'resolvectl' };
  }
  return { type: 'resolv-conf', path: '/etc/resolv.conf' };
}

export function createSystemTunnelIo(options: SystemTunnelIoOptions): TunnelIo {
  const runner = options.runner ?? systemCommandRunner;
  const dnsBackend = options.dnsBackend ?? detectDnsBackend();
  return {
    openDevice(): TunnelDevice {
      return TunDevice.open();
    },

    async openTransport(spec: TransportSpec): Promise<TunnelTransport> {
      switch (spec.type) {
        case 'open':
          return spec.transport;
        case 'udp':
          return UdpEncapsulationSocket.open(spec);
        case 'raw':
          return new RawIpsecTransport(spec);
      }
    },

    network(device: string) {
      return new NetworkConfigurator(runner, options.journalDirectory, device, options.log, dnsBackend);
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
