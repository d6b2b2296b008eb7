/**
 * A connection with manually keyed SAs (RFC 4301 section 4.5): the profile's static SAs and the
 * keys from the secret store go straight into the engine, with no key exchange.
 */

import { parseAddress } from '../engine/address.js';
import type { SaConfig } from '../engine/sa-config.js';
import { SecurityAssociation } from '../engine/security-association.js';
import { parseTrafficSelector } from '../engine/traffic-selector.js';
import { ENCRYPTION_ALGORITHMS } from '../engine/transforms.js';
import type { Profile, StaticSa } from '../profile/model.js';
import type { SecretStore } from '../profile/secret-store.js';
import type { TransportPeer } from '../net/network-config.js';
import { selectorRoutes } from '../net/route-prefixes.js';
import type { Connection, ConnectionListener } from './connection.js';
import { connectionState, type ConnectionState } from './connection-state.js';
import type { ScopedLog } from './log.js';
import { Tunnel, type TransportSpec, type TunnelIo, type TunnelSnapshot } from './tunnel.js';

export class ManualKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManualKeyError';
  }
}

export class ManualConnection implements Connection {
  private state: ConnectionState;
  private readonly listeners = new Set<ConnectionListener>();
  private readonly tunnel: Tunnel;
  /** The teardown in progress, which a concurrent `stop` waits for instead of starting another. */
  private stopping: Promise<void> | null = null;
  /** The running `start`, which a teardown lets finish before it undoes the tunnel. */
  private starting: Promise<void> | null = null;

  constructor(
    private readonly profile: Profile,
    private readonly secrets: SecretStore,
    io: TunnelIo,
    private readonly log: ScopedLog,
  ) {
    this.tunnel = new Tunnel(io);
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
    const starting = this.startTunnel();
    this.starting = starting;
    try {
      await starting;
    } finally {
      this.starting = null;
    }
  }

  private async startTunnel(): Promise<void> {
    this.setState('connecting');
    try {
      const configs = await this.buildSaConfigs();
      const sas = configs.map((config) => new SecurityAssociation(config));
      for (const sa of sas) {
        sa.onEvent((event) => this.log.info(`SA ${sa.spiHex()} (${sa.direction}): ${event.type}${'reason' in event ? ` (${event.reason})` : ''}`));
      }
      await this.tunnel.start({ ...this.tunnelLayout(), sas, mtu: this.profile.mtu });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.setState('disconnected', `connection failed: ${reason}`);
      throw error;
    }
    this.setState('connected');
  }

  /**
   * Tears the tunnel down once. A call while a teardown runs returns that teardown's promise,
   * so it settles with the same result, and its own reason is dropped.
   */
  stop(reason = 'disconnected by the user'): Promise<void> {
    if (this.stopping === null) {
      this.stopping = this.tearDown(reason).finally(() => {
        this.stopping = null;
      });
    }
    return this.stopping;
  }

  snapshot(): TunnelSnapshot {
    return this.tunnel.snapshot();
  }

  private async tearDown(reason: string): Promise<void> {
    // A start in progress finishes first, so its network changes exist to be undone below
    // instead of appearing after the teardown.
    await this.starting?.catch(() => undefined);
    if (this.state.status === 'disconnected') {
      return;
    }
    this.setState('disconnecting', reason);
    await this.tunnel.stop();
    this.setState('disconnected', reason);
  }

  private identity() {
    return { profileId: this.profile.id, profileName: this.profile.name };
  }

  private setState(status: ConnectionState['status'], reason?: string): void {
    this.state = connectionState(status, reason === undefined ? this.identity() : { ...this.identity(), reason });
    this.log.info(reason === undefined ? status : `${status}: ${reason}`);
    for (const listener of this.listeners) {
      listener(this.state);
    }
  }

  private async buildSaConfigs(): Promise<SaConfig[]> {
    if (this.profile.kind !== 'manual' || this.profile.staticSas.length === 0) {
      throw new ManualKeyError(`profile "${this.profile.name}" has no static SAs`);
    }
    const configs: SaConfig[] = [];
    for (const staticSa of this.profile.staticSas) {
      configs.push(await this.buildSaConfig(staticSa));
    }
    return configs;
  }

  private async buildSaConfig(staticSa: StaticSa): Promise<SaConfig> {
    const label = `static SA ${staticSa.spi.toString(16)} (${staticSa.direction})`;
    const encryption = staticSa.encryption;
    if (encryption && ENCRYPTION_ALGORITHMS[encryption.name].counterIv) {
      // RFC 4106 section 8.1, RFC 4543 section 8 and RFC 7634 section 4 forbid manual keys.
      throw new ManualKeyError(`${label}: ${encryption.name} cannot use manual keys, because a restart would repeat IVs under the same key`);
    }

    return {
      spi: staticSa.spi,
      direction: staticSa.direction,
      protocol: staticSa.protocol,
      mode: staticSa.mode,
      encryption: encryption && { name: encryption.name, key: await this.secret(staticSa.encryptionKeyRef, label, encryption.name === 'ENCR_NULL') },
      integrity: staticSa.integrity && { name: staticSa.integrity, key: await this.secret(staticSa.integrityKeyRef, label, false) },
      esn: staticSa.esn,
      replayWindow: staticSa.direction === 'in' ? staticSa.replayWindow : 0,
      tunnel: staticSa.mode === 'tunnel'
        ? { local: parseAddress(staticSa.localAddress), remote: parseAddress(staticSa.peerAddress) }
        : undefined,
      trafficSelectors: {
        local: staticSa.localTs.map((text) => parseTrafficSelector(text)),
        remote: staticSa.remoteTs.map((text) => parseTrafficSelector(text)),
      },
    };
  }

  private async secret(ref: string | undefined, label: string, mayBeEmpty: boolean): Promise<Uint8Array> {
    if (ref === undefined) {
      if (mayBeEmpty) {
        return new Uint8Array(0);
      }
      throw new ManualKeyError(`${label}: the profile names no key`);
    }
    const value = await this.secrets.get(ref);
    if (value === undefined) {
      throw new ManualKeyError(`${label}: key "${ref}" is missing from the secret store; import the profile again`);
    }
    return value;
  }

  /** Derives the device addresses, routes and transport from the static SAs. */
  private tunnelLayout() {
    const sas = this.profile.staticSas;
    const outbound = sas.filter((sa) => sa.direction === 'out');
    const first = outbound[0] ?? sas[0]!;
    // In transport mode the inner address is the host's own outer address, already configured.
    const addresses = [...new Set(sas.flatMap((sa) =>
      sa.mode === 'tunnel' && sa.localInnerAddress ? [hostPrefix(sa.localInnerAddress)] : []))];
    const tunnelSas = outbound.filter((sa) => sa.mode === 'tunnel');
    const routes = selectorRoutes(tunnelSas.flatMap((sa) => sa.remoteTs.map((text) => parseTrafficSelector(text))));
    const transportPeers: TransportPeer[] = outbound.filter((sa) => sa.mode === 'transport').map((sa) => ({
      address: sa.peerAddress,
      encapsulation: sa.encapsulation.type,
      udpPort: sa.encapsulation.type === 'udp' ? sa.encapsulation.peerPort : undefined,
    }));
    return { transport: transportSpec(first, sas, this.profile.natKeepaliveSeconds), addresses, routes, transportPeers, gateway: first.peerAddress };
  }
}

function hostPrefix(address: string): string {
  return address.includes(':') ? `${address}/128` : `${address}/32`;
}

function transportSpec(first: StaticSa, sas: StaticSa[], keepaliveSeconds: number): TransportSpec {
  if (first.encapsulation.type === 'udp') {
    return {
      type: 'udp',
      localAddress: first.localAddress,
      localPort: first.encapsulation.localPort,
      remoteAddress: first.peerAddress,
      remotePort: first.encapsulation.peerPort,
      keepaliveSeconds,
    };
  }
  const protocols = [...new Set(sas.map((sa) => (sa.protocol === 'esp' ? 50 : 51) as 50 | 51))];
  return {
    type: 'raw',
    family: first.peerAddress.includes(':') ? 6 : 4,
    localAddress: first.localAddress,
    remoteAddress: first.peerAddress,
    protocols,
  };
}
