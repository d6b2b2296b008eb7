/**
 * A road-warrior connection keyed by IKEv2. It negotiates the IKE SA and the first CHILD_SA and
 * runs the tunnel with their keys. It rekeys before the soft lifetime, checks that the gateway
 * is alive, and reconnects by itself when the gateway goes away.
 */

import { lookup } from 'node:dns/promises';
import { formatAddress, parseAddress } from '../engine/address.js';
import type { SaConfig } from '../engine/sa-config.js';
import { SecurityAssociation } from '../engine/security-association.js';
import type { NegotiatedChildSa, VirtualIpConfig } from '../ike/child-sa.js';
import { connectIke, type IkeConnection } from '../ike/connect.js';
import type { IkeDropReason } from '../ike/counters.js';
import { NotifyType } from '../ike/constants.js';
import { IkeError } from '../ike/errors.js';
import { IkeUdpTransport } from '../net/ike-udp-transport.js';
import { selectorRoutes } from '../net/route-prefixes.js';
import type { Profile } from '../profile/model.js';
import type { SecretStore } from '../profile/secret-store.js';
import type { Connection, ConnectionListener } from './connection.js';
import { connectionState, type ConnectionState, type ConnectionStatus } from './connection-state.js';
import { buildIkeProfile } from './ike-profile.js';
import type { ScopedLog } from './log.js';
import { Tunnel, type TransportSpec, type TunnelIo, type TunnelSnapshot } from './tunnel.js';

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

interface Session {
  ike: IkeConnection;
  transport: IkeUdpTransport;
  gatewayAddress: string;
  tunnel: Tunnel;
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
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  /** The tunnel of the last session, kept for its counters while reconnecting. */
  private lastSnapshot: TunnelSnapshot | null = null;

  constructor(
    private readonly profile: Profile,
    private readonly secrets: SecretStore,
    private readonly io: TunnelIo,
    private readonly log: ScopedLog,
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
    try {
      await this.establish();
    } catch (error) {
      this.setState('disconnected', describeFailure(error));
      throw new Error(describeFailure(error));
    }
  }

  async stop(reason = 'disconnected by the user'): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    if (this.state.status === 'disconnected') {
      return;
    }
    this.setState('disconnecting', reason);
    await this.teardown(true);
    this.setState('disconnected', reason);
  }

  snapshot(): IkeTunnelSnapshot {
    const tunnel = this.session?.tunnel.snapshot() ?? this.lastSnapshot ?? {
      device: '', mtu: 0, sas: [], sad: { unknownSpi: 0, malformed: 0, noPolicy: 0 },
      dataPlane: { tooBig: 0, deviceWriteFailures: 0, transportSendFailures: 0 }, transport: {},
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
    this.state = connectionState(status, reason === undefined ? this.identity() : { ...this.identity(), reason });
    this.log.info(reason === undefined ? status : `${status}: ${reason}`);
    for (const listener of this.listeners) {
      listener(this.state);
    }
  }

  /** Runs IKE_SA_INIT and IKE_AUTH, then brings the tunnel up with the first CHILD_SA. */
  private async establish(): Promise<void> {
    const gateway = this.profile.gateway!;
    const ikeProfile = await buildIkeProfile(this.profile, this.secrets, this.log);
    const gatewayAddress = (await lookup(gateway.address, { family: gateway.preferIpv6 ? 6 : 0 })).address;
    const transport = await IkeUdpTransport.open({
      remoteAddress: gatewayAddress,
      remotePort: gateway.port,
      keepaliveSeconds: this.profile.natKeepaliveSeconds,
      logger: this.log,
    });

    let ike: IkeConnection;
    try {
      ike = await connectIke(ikeProfile, {
        transport,
        logger: this.log,
        onAuthenticating: () => this.setState('authenticating'),
      });
    } catch (error) {
      transport.close();
      throw error;
    }

    const tunnel = new Tunnel(this.io);
    const child = ike.childSa;
    const [outbound, inbound] = this.createSas(child, transport.localAddress, gatewayAddress);
    try {
      await tunnel.start({
        sas: [outbound, inbound],
        transport: this.transportFor(child, transport, gatewayAddress),
        addresses: virtualAddresses(ike.config),
        routes: selectorRoutes(child.trafficSelectors.remote),
        transportPeers: [],
        gateway: gatewayAddress,
        mtu: this.profile.mtu,
        dns: dnsSettings(this.profile, ike.config),
      });
    } catch (error) {
      await ike.close();
      transport.close();
      throw error;
    }
    transport.closeInitialSocket();

    const session: Session = {
      ike, transport, gatewayAddress, tunnel, outbound, inbound, pending: null, rekeyTimer: null, checkingLiveness: false, timers: [],
    };
    this.session = session;
    this.attempt = 0;
    ike.on('closed', (reason: string) => this.handleLoss(`the gateway closed the connection (${reason})`));
    ike.on('child-deleted', () => this.handleLoss('the gateway deleted the tunnel SA'));
    ike.on('child-rekeyed', (next: NegotiatedChildSa, _old: NegotiatedChildSa, initiator: 'client' | 'gateway') =>
      this.installRekeyed(session, next, initiator));
    ike.on('old-child-deleted', () => this.switchOutbound(session));
    this.scheduleMaintenance(child);
    this.setState('connected');
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

  private transportFor(child: NegotiatedChildSa, transport: IkeUdpTransport, gatewayAddress: string): TransportSpec {
    const socket = transport.encapsulationSocket;
    if (child.udpEncapsulation && socket) {
      return { type: 'open', transport: socket };
    }
    return {
      type: 'raw',
      family: gatewayAddress.includes(':') ? 6 : 4,
      localAddress: transport.localAddress,
      remoteAddress: gatewayAddress,
      protocols: [50],
    };
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

  /** Tears the session down after a loss and retries with back-off until connected or stopped. */
  private handleLoss(reason: string): void {
    if (this.stopped || this.state.status === 'reconnecting' || this.state.status === 'disconnecting') {
      return;
    }
    this.setState('reconnecting', reason);
    void this.teardown(false).then(() => this.scheduleReconnect());
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
        this.log.warn(`reconnection attempt ${this.attempt} failed: ${describeFailure(error)}`);
        this.setState('reconnecting', describeFailure(error));
        this.scheduleReconnect();
      });
    }, delay * 1000);
  }

  private async teardown(orderly: boolean): Promise<void> {
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
    this.lastSnapshot = session.tunnel.snapshot();
    await session.tunnel.stop();
    session.transport.close();
  }
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
function dnsSettings(profile: Profile, config: VirtualIpConfig) {
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
