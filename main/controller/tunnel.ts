/**
 * The running data path of one connection: the TUN device, the transport that carries ESP or
 * AH, the SA database and the network settings. IKE and manual-key connections both drive it.
 * All I/O goes through `TunnelIo`, so tests can run it in memory.
 */

import type { DataPlaneCounters, InnerPacketDevice, ProtectedPacketTransport } from '../engine/data-plane.js';
import { DataPlane } from '../engine/data-plane.js';
import { parseAddress } from '../engine/address.js';
import { SaDatabase, type SaDatabaseCounters } from '../engine/sa-database.js';
import type { SaSnapshot, SecurityAssociation } from '../engine/security-association.js';
import type { DnsSettings, TransportPeer, TunnelNetworkSettings } from '../net/network-config.js';
import type { PacketDeviceStats } from '../net/packet-device.js';
import { sweepArrayBuffersOnMainThread } from './buffer-sweeping.js';

export interface TunnelDevice extends InnerPacketDevice {
  readonly name: string;
  /** The device's own counters, such as the TUN device's drops; absent in test doubles. */
  readonly stats?: PacketDeviceStats;
  close(): void;
}

export interface TunnelTransport extends ProtectedPacketTransport {
  close(): void;
  readonly counters: object;
}

export type TransportSpec =
  /** A transport that is already open, such as the UDP socket that IKE floated to. */
  | { type: 'open'; transport: TunnelTransport }
  | { type: 'udp'; localAddress: string; localPort: number; remoteAddress: string; remotePort: number; keepaliveSeconds: number }
  | { type: 'raw'; family: 4 | 6; localAddress: string; remoteAddress: string; protocols: (50 | 51)[] };

export interface NetworkSettingsApplier {
  apply(settings: TunnelNetworkSettings): Promise<void>;
  revert(): Promise<void>;
}

/** The system calls a tunnel makes, injectable for tests. */
export interface TunnelIo {
  openDevice(): TunnelDevice | Promise<TunnelDevice>;
  openTransport(spec: TransportSpec): Promise<TunnelTransport>;
  network(device: string): NetworkSettingsApplier;
  /** MTU of the path to `address`, usually the MTU of the outgoing interface. */
  pathMtu(address: string): Promise<number>;
}

export interface TunnelSettings {
  sas: SecurityAssociation[];
  transport: TransportSpec;
  /** Inner addresses of this host with prefix length, such as "192.0.2.200/32". */
  addresses: string[];
  /** Prefixes routed into the tunnel in tunnel mode. */
  routes: string[];
  transportPeers: TransportPeer[];
  gateway: string;
  /** A fixed MTU for the TUN device; computed from the path MTU and the SA overhead otherwise. */
  mtu?: number;
  dns?: DnsSettings;
}

/** Counters of a connection over all its SAs, the deleted ones included, so rekeys keep them. */
export interface TunnelTotals {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Every drop of every SA, whatever its reason. */
  drops: number;
  /** SAs retired so far, for example by rekeys. */
  retiredSas: number;
}

export interface TunnelSnapshot {
  device: string;
  mtu: number;
  sas: SaSnapshot[];
  totals: TunnelTotals;
  sad: SaDatabaseCounters;
  dataPlane: DataPlaneCounters;
  transport: object;
  /** The TUN device's counters (PacketDeviceStats), empty before the device exists. */
  deviceCounters: object;
}

/** The smallest MTU that IPv6 allows (RFC 8200 section 5). */
export const IPV6_MIN_MTU = 1280;
/** IPv4 hosts must accept 576 bytes (RFC 791); a smaller tunnel MTU is useless. */
export const IPV4_MIN_MTU = 576;
const UDP_HEADER_LENGTH = 8;

export class TunnelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TunnelError';
  }
}

export class Tunnel {
  readonly sad = new SaDatabase();
  private device: TunnelDevice | null = null;
  private transport: TunnelTransport | null = null;
  private network: NetworkSettingsApplier | null = null;
  private dataPlane: DataPlane | null = null;
  private mtu = 0;
  private readonly retired: TunnelTotals = { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, drops: 0, retiredSas: 0 };

  constructor(private readonly io: TunnelIo) {}

  /** Opens the device and transport, installs the SAs and applies the network settings. */
  async start(settings: TunnelSettings): Promise<void> {
    try {
      for (const sa of settings.sas) {
        this.sad.add(sa);
      }
      this.mtu = settings.mtu ?? await this.computeMtu(settings);
      this.device = await this.io.openDevice();
      this.transport = settings.transport.type === 'open'
        ? settings.transport.transport
        : await this.io.openTransport(settings.transport);
      sweepArrayBuffersOnMainThread();
      this.dataPlane = new DataPlane({
        device: this.device,
        transport: this.transport,
        sad: this.sad,
        mtu: this.mtu,
        innerAddresses: innerAddresses(settings.addresses),
      });
      this.network = this.io.network(this.device.name);
      await this.network.apply({
        device: this.device.name,
        addresses: settings.addresses,
        mtu: this.mtu,
        routes: settings.routes,
        gateway: settings.gateway,
        transportPeers: settings.transportPeers,
        dns: settings.dns,
      });
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Undoes the network settings, closes the device and transport, and deletes every SA. */
  async stop(): Promise<void> {
    const network = this.network;
    this.network = null;
    await network?.revert();
    this.transport?.close();
    this.transport = null;
    this.device?.close();
    this.device = null;
    this.dataPlane = null;
    for (const sa of this.sad.all()) {
      this.retire(sa);
    }
  }

  /** Adds SAs to the running tunnel, such as the new pair of a rekey. */
  install(sas: SecurityAssociation[]): void {
    for (const sa of sas) {
      this.sad.add(sa);
    }
  }

  /** Removes an SA, keeps its counters in the totals, and deletes it (zeroing its keys). */
  retire(sa: SecurityAssociation): void {
    this.sad.remove(sa);
    addCounters(this.retired, sa);
    this.retired.retiredSas += 1;
    sa.delete();
  }

  snapshot(): TunnelSnapshot {
    return {
      device: this.device?.name ?? '',
      mtu: this.mtu,
      sas: this.sad.all().map((sa) => sa.snapshot()),
      totals: this.totals(),
      sad: { ...this.sad.counters },
      dataPlane: this.dataPlane ? { ...this.dataPlane.counters } : { tooBig: 0, deviceWriteFailures: 0, transportSendFailures: 0 },
      transport: this.transport ? { ...this.transport.counters } : {},
      deviceCounters: this.device?.stats ? { ...this.device.stats } : {},
    };
  }

  private totals(): TunnelTotals {
    const totals = { ...this.retired };
    for (const sa of this.sad.all()) {
      addCounters(totals, sa);
    }
    return totals;
  }

  /**
   * Returns the largest inner packet that still fits the path once the outbound SA adds its
   * headers, padding and ICV, and UDP when encapsulated.
   */
  private async computeMtu(settings: TunnelSettings): Promise<number> {
    const pathMtu = await this.io.pathMtu(settings.gateway);
    const outbound = settings.sas.filter((sa) => sa.direction === 'out');
    const udp = settings.transport.type === 'udp' ? UDP_HEADER_LENGTH : 0;
    let mtu = pathMtu;
    for (const sa of outbound) {
      const family = settings.addresses.some((address) => address.includes(':')) ? 6 : 4;
      let candidate = pathMtu - udp;
      while (candidate > 0 && candidate + sa.overhead(candidate, family) + udp > pathMtu) {
        candidate -= 1;
      }
      mtu = Math.min(mtu, candidate);
    }
    const hasIpv6 = settings.addresses.some((address) => address.includes(':'));
    const minimum = hasIpv6 ? IPV6_MIN_MTU : IPV4_MIN_MTU;
    if (mtu < minimum) {
      throw new TunnelError(`the path MTU ${pathMtu} leaves ${mtu} bytes for inner packets, below the minimum ${minimum}`);
    }
    return mtu;
  }
}

function addCounters(totals: TunnelTotals, sa: SecurityAssociation): void {
  if (sa.direction === 'in') {
    totals.packetsIn += sa.counters.packets;
    totals.bytesIn += sa.counters.bytes;
  } else {
    totals.packetsOut += sa.counters.packets;
    totals.bytesOut += sa.counters.bytes;
  }
  for (const count of Object.values(sa.counters.drops)) {
    totals.drops += count;
  }
}

function innerAddresses(addresses: string[]): { ipv4?: Uint8Array; ipv6?: Uint8Array } {
  const result: { ipv4?: Uint8Array; ipv6?: Uint8Array } = {};
  for (const address of addresses) {
    const bytes = parseAddress(address.split('/')[0]!);
    if (bytes.length === 4) {
      result.ipv4 ??= bytes;
    } else {
      result.ipv6 ??= bytes;
    }
  }
  return result;
}
