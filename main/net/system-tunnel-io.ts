/** The real `TunnelIo` on Linux: the native TUN device, raw or UDP sockets, and iproute2. */

import type { TransportSpec, TunnelDevice, TunnelIo, TunnelTransport } from '../controller/tunnel.js';
import { CommandError, type CommandRunner } from './command-runner.js';
import { systemNetworkRunner } from './netlink/netlink-ip-runner.js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { NetworkConfigurator, type DnsBackend, type NetworkLog } from './network-config.js';
import { RawIpsecTransport } from './raw-transport.js';
import { TunDevice } from './tun-device.js';
import { UdpEncapsulationSocket } from './udp-encapsulation.js';

/** Used when the route to the gateway names no device MTU. */
const DEFAULT_PATH_MTU = 1500;

/**
 * How long the output of `ip -j route get ADDRESS` is reused. Connecting looks up the route to
 * the gateway twice, for the path MTU and for the pinned host route. The first lookup runs while
 * IKE negotiates, and reusing it spares the second and keeps the MTU and the pin on one route.
 */
const ROUTE_LOOKUP_REUSE_MS = 5_000;

/** Wraps `runner` so that route lookups within ROUTE_LOOKUP_REUSE_MS share one result. */
function reuseRouteLookups(runner: CommandRunner): CommandRunner {
  const lookups = new Map<string, { startedAt: number; output: Promise<string> }>();
  return {
    run(command, args) {
      const isLookup = command === 'ip' && args[0] === '-j' && args[2] === 'route' && args[3] === 'get';
      if (!isLookup) {
        return runner.run(command, args);
      }

      const key = args.join(' ');
      const earlier = lookups.get(key);
      if (earlier && Date.now() - earlier.startedAt < ROUTE_LOOKUP_REUSE_MS) {
        return earlier.output;
      }
      const output = runner.run(command, args);
      lookups.set(key, { startedAt: Date.now(), output });
      output.catch(() => lookups.delete(key));
      return output;
    },
    runIpBatch: runner.runIpBatch?.bind(runner),
  };
}

/** Reads a device's MTU from sysfs, which saves an `ip` process; null when that fails. */
async function readDeviceMtu(device: string): Promise<number | null> {
  if (device.includes('/') || device.startsWith('.')) {
    return null;
  }
  try {
    const mtu = Number.parseInt(await readFile(`/sys/class/net/${device}/mtu`, 'utf8'), 10);
    return Number.isInteger(mtu) && mtu > 0 ? mtu : null;
  } catch {
    return null;
  }
}

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
  const runner = reuseRouteLookups(options.runner ?? systemNetworkRunner);
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
      let output: string;
      try {
        output = await runner.run('ip', ['-j', family, 'route', 'get', address]);
      } catch (error) {
        if (error instanceof CommandError) {
          throw new Error(`no route to the gateway ${address} (${error.stderr.trim()}); check the network connection ` +
            `and the routes (ip route get ${address})`, { cause: error });
        }
        throw error;
      }
      const route = JSON.parse(output) as { dev?: string }[];
      const device = route[0]?.dev;
      if (!device) {
        return DEFAULT_PATH_MTU;
      }
      const sysfsMtu = await readDeviceMtu(device);
      if (sysfsMtu !== null) {
        return sysfsMtu;
      }
      const link = JSON.parse(await runner.run('ip', ['-j', 'link', 'show', 'dev', device])) as { mtu?: number }[];
      return link[0]?.mtu ?? DEFAULT_PATH_MTU;
    },
  };
}
