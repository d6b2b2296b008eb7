/**
 * A road-warrior connection keyed by IKEv2. It negotiates the IKE SA and the first CHILD_SA and
 * runs the tunnel with their keys. It rekeys before the soft lifetime, checks that the gateway
 * is alive, and reconnects by itself when the gateway goes away.
 *
 * While it reconnects, the TUN device, its routes and the DNS settings stay in place with no SA
 * installed, so traffic for the tunnel is dropped (fail-closed) instead of leaving in plaintext
 * by the default route. They go away only when the connection stops for good.
 */

import { lookup } from 'node:dns/promises';
import { formatAddress, parseAddress } from '../engine/address.js';
import type { SaConfig } from '../engine/sa-config.js';
import { SecurityAssociation } from '../engine/security-association.js';
import type { NegotiatedChildSa, VirtualIpConfig } from '../ike/child-sa.js';
import { connectIke, type ConnectOptions, type IkeConnection } from '../ike/connect.js';
import type { IkeDropReason } from '../ike/counters.js';
import { NotifyType } from '../ike/constants.js';
import { IkeError } from '../ike/errors.js';
import type { IkeProfile } from '../ike/profile.js';
import type { IkeTransport } from '../ike/transport.js';
import { IkeUdpTransport, type IkeUdpTransportOptions } from '../net/ike-udp-transport.js';
import type { DnsSettings } from '../net/network-config.js';
import { selectorRoutes } from '../net/route-prefixes.js';
import type { Profile } from '../profile/model.js';
import type { SecretStore } from '../profile/secret-store.js';
import type { Connection, ConnectionListener } from './connection.js';
import { connectionState, type ConnectionState, type ConnectionStatus } from './connection-state.js';
import { buildIkeProfile } from './ike-profile.js';
import type { ScopedLog } from './log.js';
import { Tunnel, type TransportSpec, type TunnelIo, type TunnelSnapshot, type TunnelTransport } from './tunnel.js';

/** Waits between reconnection attempts, in seconds; the last one repeats. */
export const RECONNECT_DELAYS_SECONDS = [1, 2, 5, 10, 30];
/** How long the old inbound SA keeps accepting packets after a rekey, for packets in flight. */
const OLD_INBOUND_GRACE_MS = 2000;
/**
 * After a rekey that the gateway started, the longest wait for its Delete of the old SA before
 * the new outbound SA takes over anyway.
 */
const GATEWAY_REKEY_SWITCH_MS = 5000;

/** The tunnel snapshot with the message counters of the current IKE SA, null between sessions. */
export interface IkeTunnelSnapshot extends TunnelSnapshot {
  ike: {
    /** IKE messages dropped, by reason; each drop is also logged as a warning. */
    drops: Record<IkeDropReason, number>;
    retransmissions: number;
    cachedResponsesResent: number;
  } | null;
}

/** The IKE transport as the connection uses it; `IkeUdpTransport` outside tests. */
export interface IkeSessionTransport extends IkeTransport {
  /** Our address as the kernel chose it for the route to the gateway. */
  readonly localAddress: string;
  /** The port-4500 socket after the NAT-T float, which carries ESP too, or null before the float. */
  readonly encapsulationSocket: TunnelTransport | null;
  closeInitialSocket(): void;
}

/** The name lookup, sockets and IKE exchanges of a connection, injectable for tests. */
export interface IkeIo {
  /** Returns an address of the gateway's host name. A `family` of 0 accepts IPv4 and IPv6. */
  resolveGateway(host: string, family: 0 | 6): Promise<string>;
  openTransport(options: IkeUdpTransportOptions): Promise<IkeSessionTransport>;
  connect(profile: IkeProfile, options: ConnectOptions): Promise<IkeConnection>;
}

export const systemIkeIo: IkeIo = {
  resolveGateway: async (host, family) => (await lookup(host, { family })).address,
  openTransport: (options) => IkeUdpTransport.open(options),
  connect: connectIke,
};

/**
 * The ESP transport that the tunnel keeps across reconnects. It forwards to the transport of
 * the current IKE SA, and between IKE SAs it has none, so `send` returns false.
 */
class SwitchableTransport implements TunnelTransport {
  private current: TunnelTransport | null = null;
  private handler: ((packets: Uint8Array[]) => void) | null = null;

  get counters(): object {
    return this.current?.counters ?? {};
  }

  /** Forwards to `transport` from now on. */
  attach(transport: TunnelTransport): void {
    this.current = transport;
    if (this.handler) {
      this.subscribe(transport, this.handler);
    }
  }

  /** Stops forwarding; the caller closes the transport. */
  detach(): void {
    this.current = null;
  }

  send(packet: Uint8Array): boolean {
    return this.current?.send(packet) ?? false;
  }

  onPackets(handler: (packets: Uint8Array[]) => void): void {
    this.handler = handler;
    if (this.current) {
      this.subscribe(this.current, handler);
    }
  }

  close(): void {
    const transport = this.current;
    this.current = null;
    transport?.close();
  }

  /** Passes on the packets of `transport` while it is the current one, never after a detach. */
  private subscribe(transport: TunnelTransport, handler: (packets: Uint8Array[]) => void): void {
    transport.onPackets((packets) => {
      if (this.current === transport) {
        handler(packets);
      }
    });
  }
}

/** The inputs of a tunnel's network set-up and MTU. A reconnect with an equal layout keeps the set-up. */
interface TunnelLayout {
  addresses: string[];
  routes: string[];
  gateway: string;
  dns: DnsSettings;
  /** The transforms and encapsulation, which fix the ESP overhead and so the MTU. */
  overhead: string;
}

/** The TUN device, routes and DNS, which outlive an IKE SA while the connection reconnects. */
interface KeptTunnel {
  tunnel: Tunnel;
  transport: SwitchableTransport;
  layout: TunnelLayout;
}

interface Session {
  ike: IkeConnection;
  transport: IkeSessionTransport;
  gatewayAddress: string;
  tunnel: Tunnel;
  /** The raw-socket ESP transport that this session opened, or null when ESP shares the IKE socket. */
  espTransport: TunnelTransport | null;
  outbound: SecurityAssociation;
  inbound: SecurityAssociation;
  /** The new outbound SA of a gateway's rekey, used once the gateway deletes the old pair. */
  pending: { outbound: SecurityAssociation; oldInbound: SecurityAssociation; timer: NodeJS.Timeout } | null;
  rekeyTimer: NodeJS.Timeout | null;
  checkingLiveness: boolean;
  timers: NodeJS.Timeout[];
}

export class IkeVpnConnection implements Connection {
  private state: ConnectionState;
  private readonly listeners = new Set<ConnectionListener>();
  private session: Session | null = null;
  /** The data path, kept from the first IKE SA until `stop`, across reconnects. */
  private keptTunnel: KeptTunnel | null = null;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  /** When the connection last came up; a rekey keeps it. */
  private connectedSince: string | null = null;
  /** The tunnel set-up of the running `establish`, from IKE_AUTH until "connected" or failure. */
  private settingUp: Promise<void> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  /** The counters of the last tunnel, for `snapshot` after it has stopped. */
  private lastSnapshot: TunnelSnapshot | null = null;

  constructor(
    private readonly profile: Profile,
    private readonly secrets: SecretStore,
    private readonly io: TunnelIo,
    private readonly log: ScopedLog,
    private readonly ikeIo: IkeIo = systemIkeIo,
  ) {
    this.state = connectionState('disconnected', this.identity());
  }

  get current(): ConnectionState {
    return this.state;
  }

  onState(listener: ConnectionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.setState('connecting');
    if (this.profile.dpdSeconds <= 0) {
      this.log.warn('dead peer detection is off because the profile sets no interval (dpd_delay in swanctl.conf), ' +
        'so a gateway that restarts or goes away is noticed only when the next rekey fails');
    }
    try {
      await this.establish();
    } catch (error) {
      this.setState('disconnected', describeFailure(error));
      throw new Error(describeFailure(error));
    }
  }

  /**
   * Ends the connection for good: closes the IKE SA, then removes the routes, DNS settings and
   * TUN device. A call while a teardown runs returns that teardown's promise.
   */
  stop(reason = 'disconnected by the user'): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    if (this.stopping === null) {
      this.stopping = this.tearDown(reason).finally(() => {
        this.stopping = null;
      });
    }
    return this.stopping;
  }

  snapshot(): IkeTunnelSnapshot {
    const tunnel = this.keptTunnel?.tunnel.snapshot() ?? this.lastSnapshot ?? {
      device: '', mtu: 0, sas: [], sad: { unknownSpi: 0, malformed: 0, noPolicy: 0 },
      dataPlane: { tooBig: 0, deviceWriteFailures: 0, transportSendFailures: 0 }, transport: {}, deviceCounters: {},
      totals: { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, drops: 0, retiredSas: 0 },
    };
    const counters = this.session?.ike.counters;
    const ike = counters === undefined ? null : {
      drops: { ...counters.drops },
      retransmissions: counters.retransmissions,
      cachedResponsesResent: counters.cachedResponsesResent,
    };
    return { ...tunnel, ike };
  }

  private identity() {
    return { profileId: this.profile.id, profileName: this.profile.name };
  }

  private setState(status: ConnectionStatus, reason?: string): void {
    const next = connectionState(status, reason === undefined ? this.identity() : { ...this.identity(), reason });
    // A CHILD_SA rekey does not end the connection, so "connected" keeps the time it came up.
    if (status === 'connected') {
      if (this.state.status === 'rekeying' && this.connectedSince !== null) {
        next.since = this.connectedSince;
      }
      this.connectedSince = next.since;
    }
    this.state = next;
    this.log.info(reason === undefined ? status : `${status}: ${reason}`);
    for (const listener of this.listeners) {
      listener(this.state);
    }
  }

  private async tearDown(reason: string): Promise<void> {
    // A tunnel set-up in progress, a few `ip` commands long, finishes first. It finds `stopped` set
    // and removes what it added, so a process that exits right after `stop` leaves no network changes.
    await this.settingUp?.catch(() => undefined);
    if (this.state.status === 'disconnected') {
      return;
    }
    this.setState('disconnecting', reason);
    await this.endSession(true);
    await this.closeTunnel();
    this.setState('disconnected', reason);
  }

  /**
   * Runs IKE_SA_INIT and IKE_AUTH, then carries the tunnel on the first CHILD_SA: a new tunnel on
   * the first connect, or the kept one after a reconnect.
   */
  private async establish(): Promise<void> {
    const { ike, transport, gatewayAddress } = await this.negotiate();
    if (this.stopped) {
      await ike.close();
      transport.close();
      throw new Error('the connection was stopped while it was being set up');
    }

    const settingUp = this.setUpTunnel(ike, transport, gatewayAddress);
    this.settingUp = settingUp;
    try {
      await settingUp;
    } finally {
      if (this.settingUp === settingUp) {
        this.settingUp = null;
      }
    }
  }

  /** Carries the tunnel on the first CHILD_SA of a negotiated IKE SA and reports "connected". */
  private async setUpTunnel(ike: IkeConnection, transport: IkeSessionTransport, gatewayAddress: string): Promise<void> {
    let session: Session;
    try {
      session = await this.attachTunnel(ike, transport, gatewayAddress);
    } catch (error) {
      await ike.close();
      transport.close();
      throw error;
    }
    transport.closeInitialSocket();

    this.session = session;
    if (this.stopped) {
      // `stop` ran during the exchanges and found nothing to tear down yet.
      await this.endSession(true);
      await this.closeTunnel();
      throw new Error('the connection was stopped while it was being set up');
    }
    this.attempt = 0;
    ike.on('closed', (reason: string) => this.handleLoss(`the gateway closed the connection (${reason})`));
    ike.on('child-deleted', () => this.handleLoss('the gateway deleted the tunnel SA'));
    ike.on('child-rekeyed', (next: NegotiatedChildSa, _old: NegotiatedChildSa, initiator: 'client' | 'gateway') =>
      this.installRekeyed(session, next, initiator));
    ike.on('old-child-deleted', () => this.switchOutbound(session));
    this.scheduleMaintenance(ike.childSa);
    this.setState('connected');
  }

  /** Resolves the gateway, opens the IKE transport and runs the exchanges. */
  private async negotiate(): Promise<{ ike: IkeConnection; transport: IkeSessionTransport; gatewayAddress: string }> {
    const gateway = this.profile.gateway!;
    const ikeProfile = await buildIkeProfile(this.profile, this.secrets, this.log);
    const gatewayAddress = await this.ikeIo.resolveGateway(gateway.address, gateway.preferIpv6 ? 6 : 0);
    const transport = await this.ikeIo.openTransport({
      remoteAddress: gatewayAddress,
      remotePort: gateway.port,
      keepaliveSeconds: this.profile.natKeepaliveSeconds,
      logger: this.log,
    });
    // Looks up the path to the gateway after IKE_SA_INIT goes out, so that the lookup, which
    // loads the native addon the first time, overlaps the wait for the reply. The system I/O
    // keeps the result for the tunnel's MTU and pinned route. A failure here shows again, and
    // is reported, there.
    setImmediate(() => this.io.pathMtu(gatewayAddress).catch(() => undefined));
    try {
      const ike = await this.ikeIo.connect(ikeProfile, {
        transport,
        logger: this.log,
        onAuthenticating: () => this.setState('authenticating'),
      });
      return { ike, transport, gatewayAddress };
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  /**
   * Installs the first CHILD_SA's pair in the kept tunnel when the new IKE SA brings the same
   * layout, and otherwise replaces the tunnel (or starts the first one) with the new layout.
   */
  private async attachTunnel(ike: IkeConnection, transport: IkeSessionTransport, gatewayAddress: string): Promise<Session> {
    const child = ike.childSa;
    const layout = this.layoutFor(ike, gatewayAddress);
    const opened = await this.openEspTransport(child, transport, gatewayAddress);
    const espTransport = opened === transport.encapsulationSocket ? null : opened;
    let outbound: SecurityAssociation;
    let inbound: SecurityAssociation;
    try {
      [outbound, inbound] = this.createSas(child, transport.localAddress, gatewayAddress);
    } catch (error) {
      espTransport?.close();
      throw error;
    }
    try {
      if (this.keptTunnel && sameLayout(this.keptTunnel.layout, layout)) {
        this.keptTunnel.transport.attach(opened);
        this.keptTunnel.tunnel.install([outbound, inbound]);
        this.log.info(`the new IKE SA carries the kept tunnel on ${this.keptTunnel.tunnel.snapshot().device}`);
      } else {
        await this.replaceTunnel(layout, [outbound, inbound], opened);
      }
    } catch (error) {
      const keptTunnel = this.keptTunnel;
      keptTunnel?.transport.detach();
      espTransport?.close();
      for (const sa of [outbound, inbound]) {
        if (keptTunnel?.tunnel.sad.all().includes(sa)) {
          keptTunnel.tunnel.retire(sa);
        } else {
          sa.delete();
        }
      }
      throw error;
    }
    return {
      ike, transport, gatewayAddress, tunnel: this.keptTunnel!.tunnel, espTransport, outbound, inbound,
      pending: null, rekeyTimer: null, checkingLiveness: false, timers: [],
    };
  }

  /**
   * Removes the kept tunnel, if any, and starts a tunnel with the new layout.
   * NOTE: from the removal until the new routes exist, which takes as long as the `ip` commands,
   * traffic for the old routes leaves outside the tunnel. Only a reconnect with a new layout has this gap.
   */
  private async replaceTunnel(layout: TunnelLayout, sas: SecurityAssociation[], transport: TunnelTransport): Promise<void> {
    if (this.keptTunnel) {
      this.log.info(`the new IKE SA brings other addresses, routes, DNS servers or transforms (${describeLayout(layout)}), ` +
        `so the set-up of ${this.keptTunnel.tunnel.snapshot().device} is replaced`);
      await this.closeTunnel();
    }
    const switchable = new SwitchableTransport();
    switchable.attach(transport);
    const tunnel = new Tunnel(this.io);
    await tunnel.start({
      sas,
      transport: { type: 'open', transport: switchable },
      addresses: layout.addresses,
      routes: layout.routes,
      transportPeers: [],
      gateway: layout.gateway,
      mtu: this.profile.mtu,
      dns: layout.dns,
    });
    this.keptTunnel = { tunnel, transport: switchable, layout };
  }

  private layoutFor(ike: IkeConnection, gatewayAddress: string): TunnelLayout {
    const child = ike.childSa;
    return {
      addresses: virtualAddresses(ike.config),
      routes: selectorRoutes(child.trafficSelectors.remote),
      gateway: gatewayAddress,
      dns: dnsSettings(this.profile, ike.config),
      overhead: [child.mode, child.encryption, child.encryptionKeyLength, child.integrity ?? 'none',
        child.udpEncapsulation ? 'udp' : 'raw'].join(' '),
    };
  }

  /** Removes the kept tunnel's routes, DNS settings and device, keeping its counters for `snapshot`. */
  private async closeTunnel(): Promise<void> {
    const keptTunnel = this.keptTunnel;
    this.keptTunnel = null;
    if (!keptTunnel) {
      return;
    }
    this.lastSnapshot = keptTunnel.tunnel.snapshot();
    await keptTunnel.tunnel.stop();
  }

  /** Builds the engine's SA pair from a negotiated CHILD_SA. */
  private createSas(child: NegotiatedChildSa, localAddress: string, gatewayAddress: string): [SecurityAssociation, SecurityAssociation] {
    const base = {
      protocol: 'esp' as const,
      mode: child.mode,
      esn: child.esn,
      lifetimes: child.lifetimes,
      tunnel: child.mode === 'tunnel' ? { local: parseAddress(localAddress), remote: parseAddress(gatewayAddress) } : undefined,
      trafficSelectors: child.trafficSelectors,
    };
    const keys = (direction: 'in' | 'out') => {
      const source = direction === 'in' ? child.inbound : child.outbound;
      const config: Pick<SaConfig, 'encryption' | 'integrity'> = {
        encryption: { name: child.encryption, key: source.encryptionKey },
      };
      if (child.integrity && source.integrityKey) {
        config.integrity = { name: child.integrity, key: source.integrityKey };
      }
      return config;
    };
    const outbound = new SecurityAssociation({ ...base, ...keys('out'), spi: child.outboundSpi, direction: 'out', replayWindow: 0 });
    const inbound = new SecurityAssociation({ ...base, ...keys('in'), spi: child.inboundSpi, direction: 'in', replayWindow: 64 });
    return [outbound, inbound];
  }

  /** Returns the ESP transport: the IKE socket on port 4500 after a NAT-T float, a raw socket otherwise. */
  private async openEspTransport(child: NegotiatedChildSa, transport: IkeSessionTransport, gatewayAddress: string): Promise<TunnelTransport> {
    const socket = transport.encapsulationSocket;
    if (child.udpEncapsulation && socket) {
      return socket;
    }
    const spec: TransportSpec = {
      type: 'raw',
      family: gatewayAddress.includes(':') ? 6 : 4,
      localAddress: transport.localAddress,
      remoteAddress: gatewayAddress,
      protocols: [50],
    };
    return this.io.openTransport(spec);
  }

  /** Rekeys the CHILD_SA at its soft lifetime and runs liveness checks every DPD interval. */
  private scheduleMaintenance(child: NegotiatedChildSa): void {
    const session = this.session!;
    this.scheduleChildRekey(session, child);
    const ikeRekeySeconds = this.profile.lifetimes.ike.rekeySeconds;
    if (ikeRekeySeconds !== undefined) {
      session.timers.push(setInterval(() => void this.rekeyIke(), ikeRekeySeconds * 1000));
    }
    if (this.profile.dpdSeconds > 0) {
      session.timers.push(setInterval(() => void this.checkLiveness(), this.profile.dpdSeconds * 1000));
    }
  }

  /** Starts our rekey of the CHILD_SA at its soft lifetime, replacing any earlier schedule. */
  private scheduleChildRekey(session: Session, child: NegotiatedChildSa): void {
    if (session.rekeyTimer !== null) {
      clearTimeout(session.rekeyTimer);
      session.rekeyTimer = null;
    }
    const rekeySeconds = child.lifetimes.soft?.seconds;
    if (rekeySeconds !== undefined) {
      session.rekeyTimer = setTimeout(() => void this.rekeyChild(), rekeySeconds * 1000);
    }
  }

  private async rekeyChild(): Promise<void> {
    const session = this.session;
    if (!session || this.state.status !== 'connected') {
      return;
    }
    this.setState('rekeying');
    try {
      await session.ike.rekeyChildSa();
      this.setState('connected');
    } catch (error) {
      this.handleLoss(`rekeying failed: ${describeFailure(error)}`);
    }
  }

  /**
   * Installs the SA pair of a rekey (RFC 7296 section 2.8). The new inbound SA works at once.
   * After our own rekey the new outbound SA takes over at once too. After the gateway's, it
   * waits for the gateway's Delete of the old pair, because until the gateway has our response
   * it cannot decrypt packets on the new SA; strongSwan's charon waits in the same way.
   */
  private installRekeyed(session: Session, next: NegotiatedChildSa, initiator: 'client' | 'gateway'): void {
    if (this.session !== session) {
      return;
    }
    this.switchOutbound(session);
    const [outbound, inbound] = this.createSas(next, session.transport.localAddress, session.gatewayAddress);
    const oldInbound = session.inbound;
    session.tunnel.install([inbound]);
    session.inbound = inbound;
    const timer = setTimeout(() => this.switchOutbound(session), GATEWAY_REKEY_SWITCH_MS);
    session.pending = { outbound, oldInbound, timer };
    if (initiator === 'client') {
      this.switchOutbound(session);
    }
    this.scheduleChildRekey(session, next);
  }

  /** Moves outbound traffic to the pending SA and retires the old pair. */
  private switchOutbound(session: Session): void {
    const pending = session.pending;
    if (pending === null || this.session !== session) {
      return;
    }
    session.pending = null;
    clearTimeout(pending.timer);
    session.tunnel.retire(session.outbound);
    session.tunnel.install([pending.outbound]);
    session.outbound = pending.outbound;
    // The old inbound SA stays a moment for packets already in flight.
    const retireInbound = () => {
      if (this.session === session) {
        session.tunnel.retire(pending.oldInbound);
      }
    };
    setTimeout(retireInbound, OLD_INBOUND_GRACE_MS).unref();
  }

  private async rekeyIke(): Promise<void> {
    const session = this.session;
    if (!session || this.state.status !== 'connected') {
      return;
    }
    try {
      await session.ike.rekeyIkeSa();
    } catch (error) {
      this.handleLoss(`rekeying the IKE SA failed: ${describeFailure(error)}`);
    }
  }

  private async checkLiveness(): Promise<void> {
    const session = this.session;
    // A check still retransmitting covers this interval too.
    if (!session || this.state.status !== 'connected' || session.checkingLiveness) {
      return;
    }
    session.checkingLiveness = true;
    try {
      await session.ike.checkLiveness();
    } catch (error) {
      this.handleLoss(`the gateway stopped answering (${describeFailure(error)})`);
    } finally {
      session.checkingLiveness = false;
    }
  }

  /**
   * Ends the lost IKE SA and retries with back-off until connected or stopped. The tunnel stays
   * with no SA, so its packets are dropped until the next IKE SA installs one.
   */
  private handleLoss(reason: string): void {
    if (this.stopped || this.state.status === 'reconnecting' || this.state.status === 'disconnecting') {
      return;
    }
    this.setState('reconnecting', reason);
    if (this.keptTunnel) {
      this.log.info(`keeping ${this.keptTunnel.tunnel.snapshot().device} with its routes and DNS settings while reconnecting, ` +
        'so its packets are dropped until a new SA is installed');
    }
    void this.endSession(false).then(() => this.scheduleReconnect());
  }

  private scheduleReconnect(): void {
    if (this.stopped) {
      return;
    }
    const delays = RECONNECT_DELAYS_SECONDS;
    const delay = delays[Math.min(this.attempt, delays.length - 1)]!;
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopped) {
        return;
      }
      this.establish().catch((error: unknown) => {
        if (this.stopped) {
          return;
        }
        this.log.warn(`reconnection attempt ${this.attempt} failed: ${describeFailure(error)}`);
        this.setState('reconnecting', describeFailure(error));
        this.scheduleReconnect();
      });
    }, delay * 1000);
  }

  /**
   * Ends the IKE SA and its transports and removes its SAs from the tunnel, which stays. An
   * orderly end sends the gateway a Delete first.
   */
  private async endSession(orderly: boolean): Promise<void> {
    const session = this.session;
    this.session = null;
    if (!session) {
      return;
    }
    for (const timer of [...session.timers, session.rekeyTimer, session.pending?.timer]) {
      if (timer) {
        clearTimeout(timer);
      }
    }
    session.ike.removeAllListeners();
    if (orderly) {
      await session.ike.close();
    }
    if (this.keptTunnel?.tunnel === session.tunnel) {
      this.keptTunnel.transport.detach();
    }
    for (const sa of session.tunnel.sad.all()) {
      session.tunnel.retire(sa);
    }
    // The new outbound SA of a rekey the gateway started was never installed.
    session.pending?.outbound.delete();
    session.espTransport?.close();
    session.transport.close();
  }
}

/** Returns whether two layouts need the same device addresses, routes, DNS settings and MTU. */
function sameLayout(first: TunnelLayout, second: TunnelLayout): boolean {
  return JSON.stringify(normalizeLayout(first)) === JSON.stringify(normalizeLayout(second));
}

function normalizeLayout(layout: TunnelLayout): TunnelLayout {
  return {
    addresses: [...layout.addresses].sort(),
    routes: [...layout.routes].sort(),
    gateway: layout.gateway,
    dns: { servers: [...layout.dns.servers], domains: [...layout.dns.domains] },
    overhead: layout.overhead,
  };
}

function describeLayout(layout: TunnelLayout): string {
  const dns = layout.dns.servers.length > 0 ? layout.dns.servers.join(', ') : 'none';
  return `addresses ${layout.addresses.join(', ') || 'none'}, routes ${layout.routes.join(', ') || 'none'}, ` +
    `gateway ${layout.gateway}, DNS ${dns}, ${layout.overhead}`;
}

function virtualAddresses(config: VirtualIpConfig): string[] {
  const addresses: string[] = [];
  if (config.ipv4) {
    addresses.push(`${formatAddress(config.ipv4)}/32`);
  }
  if (config.ipv6) {
    addresses.push(`${formatAddress(config.ipv6.address)}/${config.ipv6.prefixLength}`);
  }
  return addresses;
}

/** Returns the profile's DNS overrides, or else the gateway's servers and domains (RFC 8598). */
function dnsSettings(profile: Profile, config: VirtualIpConfig): DnsSettings {
  if (profile.dns.servers.length > 0) {
    return { servers: profile.dns.servers, domains: [...profile.dns.searchDomains, ...profile.dns.matchDomains] };
  }
  return { servers: config.dns.map(formatAddress), domains: config.dnsDomains };
}

/** Turns an IKE or system error into a sentence for the user. */
export function describeFailure(error: unknown): string {
  if (error instanceof IkeError) {
    // The gateway's NO_PROPOSAL_CHOSEN arrives as a notify error, not as 'no-proposal-chosen'.
    if (error.notifyType === NotifyType.NO_PROPOSAL_CHOSEN) {
      return `the gateway accepts none of the profile's proposals (${error.message}); ` +
        'compare the profile\'s proposals with the gateway\'s';
    }
    switch (error.code) {
      case 'timeout':
        return `the gateway did not answer: ${error.message}`;
      case 'no-proposal-chosen':
        return `the gateway accepts none of the profile's proposals: ${error.message}`;
      default:
        return error.message;
    }
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `cannot resolve the gateway's name: ${(error as Error).message}`;
  }
  return error instanceof Error ? error.message : String(error);
}
