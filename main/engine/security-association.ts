/**
 * One unidirectional security association (RFC 4301 section 4.4.2): its keys, sequence numbers,
 * replay window, lifetimes and counters, and the steps that protect an outbound packet or
 * unprotect an inbound one in the order of RFC 4303 section 3.4.
 */

import { AhProtocol } from './ah.js';
import { toHex } from './bytes.js';
import { dropped, emptyDropCounters, type DropReason, type PacketResult, type SaCounters } from './counters.js';
import { selectProvider } from './crypto/index.js';
import type { CryptoProvider } from './crypto/provider.js';
import { EspProtocol } from './esp.js';
import { createEspSuite } from './esp-suite.js';
import { IPPROTO_AH, IPPROTO_ESP, parseIpHeader, type IpHeaderInfo } from './ip-packet.js';
import type { IpsecProtocol } from './ipsec-protocol.js';
import { LifetimeTracker, type LifetimeState, type LifetimeUsage } from './lifetime.js';
import { ReplayWindow } from './replay-window.js';
import { describeTransform, validateSaConfig, type SaConfig, type SaDirection, type SaMode, type SaProtocol } from './sa-config.js';
import { packetMatchesSelectors, type TrafficSelector } from './traffic-selector.js';

/** Without ESN the sender stops after 2^32 - 1 packets (RFC 4303 section 3.3.3). */
export const MAX_SEQ_32 = 0xffffffff;
/** With ESN the counter is 64 bits, but a JavaScript number is exact only up to 2^53 - 1. */
export const MAX_SEQ_64 = Number.MAX_SAFE_INTEGER;
/** Packets before the last sequence number at which the SA raises a soft expiry, so a rekey starts. */
export const SEQUENCE_SOFT_MARGIN = 2 ** 24;

export type SaState = 'valid' | 'soft-expired' | 'hard-expired' | 'deleted';

export type SaEvent =
  | { type: 'soft-expired'; reason: 'lifetime' | 'sequence' }
  | { type: 'hard-expired'; reason: 'lifetime' | 'sequence' }
  | { type: 'deleted' };

export interface SaSnapshot {
  spi: string;
  direction: SaDirection;
  protocol: SaProtocol;
  mode: SaMode;
  transform: string;
  provider: string;
  state: SaState;
  packets: number;
  bytes: number;
  /** Outbound: the last sequence number sent. Inbound: the highest one accepted. */
  seq: number;
  drops: SaCounters['drops'];
  replay: { window: number; top: number; bitmap: string; consecutiveIcvFailures: number } | null;
  lifetime: LifetimeUsage;
  trafficSelectors: { local: TrafficSelector[]; remote: TrafficSelector[] };
}

export class SecurityAssociation {
  readonly spi: number;
  readonly direction: SaDirection;
  readonly protocol: SaProtocol;
  readonly mode: SaMode;
  readonly esn: boolean;
  readonly transform: string;
  readonly providerName: string;
  readonly config: Readonly<SaConfig>;
  readonly counters: SaCounters = { packets: 0, bytes: 0, drops: emptyDropCounters() };

  private readonly keys: Uint8Array[] = [];
  private readonly processor: IpsecProtocol;
  private readonly replay: ReplayWindow | null;
  private readonly lifetime: LifetimeTracker;
  private readonly clock: () => number;
  private readonly listeners: ((event: SaEvent) => void)[] = [];
  private readonly maxSeq: number;
  private lastSeq = 0;
  private current: SaState = 'valid';
  private sequenceSoftSignalled = false;

  constructor(config: SaConfig) {
    validateSaConfig(config);
    this.config = this.copyKeys(config);
    this.spi = config.spi;
    this.direction = config.direction;
    this.protocol = config.protocol;
    this.mode = config.mode;
    this.esn = config.esn;
    this.transform = describeTransform(config);
    this.clock = config.clock ?? (() => performance.now());
    this.maxSeq = config.esn ? MAX_SEQ_64 : MAX_SEQ_32;
    this.lifetime = new LifetimeTracker(config.lifetimes ?? {}, this.clock());

    const provider = config.cryptoProvider ?? chooseProvider(config);
    this.providerName = provider.name;
    this.processor = this.createProcessor(provider);
    this.replay = config.direction === 'in' ? new ReplayWindow({ size: config.replayWindow, esn: config.esn }) : null;
  }

  get state(): SaState {
    return this.current;
  }

  onEvent(listener: (event: SaEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Bytes that protecting an inner packet adds, to size the tunnel MTU. */
  overhead(innerLength: number, family: 4 | 6): number {
    return this.processor.overhead(innerLength, family);
  }

  /** Protects an inner IP packet; returns the whole outer IP packet or the reason for the drop. */
  protect(inner: Uint8Array): PacketResult {
    if (this.direction !== 'out') {
      throw new Error(`SA ${this.spiHex()} is inbound and cannot protect packets`);
    }
    if (this.current === 'hard-expired' || this.current === 'deleted') {
      return this.drop('expired');
    }
    const header = parseIpHeader(inner);
    if (!header) {
      return this.drop('malformed', 'the inner packet has no valid IP header');
    }

    // RFC 4303 section 3.3.3: the counter never cycles; a new SA is needed instead.
    if (this.lastSeq >= this.maxSeq) {
      this.expire('sequence');
      return this.drop('sequenceExhausted');
    }
    const seq = this.lastSeq + 1;

    const result = this.processor.protect(inner.subarray(0, header.totalLength), header, seq);
    if (!result.ok) {
      return this.drop(result.reason, result.detail);
    }
    this.lastSeq = seq;
    this.countDelivered(header.totalLength);
    this.checkSequenceMargin();
    return result;
  }

  /**
   * Unprotects an inbound IP packet that carries ESP or AH for this SA, and returns the inner
   * packet. `header` may be passed when the caller already parsed it.
   */
  unprotect(packet: Uint8Array, header?: IpHeaderInfo | null): PacketResult {
    if (this.direction !== 'in') {
      throw new Error(`SA ${this.spiHex()} is outbound and cannot unprotect packets`);
    }
    if (this.current === 'hard-expired' || this.current === 'deleted') {
      return this.drop('expired');
    }
    const expectedProtocol = this.protocol === 'esp' ? IPPROTO_ESP : IPPROTO_AH;
    const parsed = header ?? parseIpHeader(packet, expectedProtocol);
    if (!parsed || parsed.protocol !== expectedProtocol) {
      return this.drop('malformed', `the packet does not carry ${this.protocol.toUpperCase()}`);
    }

    const seqLow = this.processor.readSequence(packet, parsed);
    if (typeof seqLow === 'string') {
      return this.drop(seqLow, 'the packet is shorter than the header, IV and ICV, or its SPI differs');
    }

    // RFC 4303 section 3.4.3: the cheap window check comes before any cryptography.
    const replay = this.replay!;
    const check = replay.check(seqLow);
    if (check.verdict !== 'ok') {
      return this.drop(replayDropReason(check.verdict), `sequence number ${check.seq}`);
    }

    const authenticated = this.authenticate(packet, parsed, seqLow, check.seq);
    if (typeof authenticated === 'string') {
      return this.drop(authenticated);
    }

    // The window moves only after the ICV verified (RFC 4303 section 3.4.3).
    const verdict = replay.accept(authenticated.seq);
    if (verdict !== 'ok') {
      return this.drop(replayDropReason(verdict), `sequence number ${authenticated.seq}`);
    }

    const result = this.processor.finish(authenticated.packet);
    if (!result.ok) {
      return this.drop(result.reason, result.detail);
    }
    return this.checkPolicy(result.packet);
  }

  /** Re-evaluates the time lifetimes; the owner calls it periodically. */
  tick(): void {
    const change = this.lifetime.evaluate(this.clock());
    this.reportLifetime(change);
  }

  /** Milliseconds until the next time limit, so the owner can schedule `tick`. */
  millisecondsToNextLimit(): number | null {
    return this.lifetime.millisecondsToNextLimit(this.clock());
  }

  /** Zeroes the keys and stops all processing; later packets are dropped as expired. */
  delete(): void {
    if (this.current === 'deleted') {
      return;
    }
    this.current = 'deleted';
    this.processor.destroy();
    for (const key of this.keys) {
      key.fill(0);
    }
    this.emit({ type: 'deleted' });
  }

  snapshot(): SaSnapshot {
    const replay = this.replay;
    return {
      spi: this.spiHex(),
      direction: this.direction,
      protocol: this.protocol,
      mode: this.mode,
      transform: this.transform,
      provider: this.providerName,
      state: this.current,
      packets: this.counters.packets,
      bytes: this.counters.bytes,
      seq: replay ? replay.top : this.lastSeq,
      drops: { ...this.counters.drops },
      replay: replay ? {
        window: replay.size,
        top: replay.top,
        bitmap: toHex(replay.bitmap()),
        consecutiveIcvFailures: replay.consecutiveIcvFailures,
      } : null,
      lifetime: this.lifetime.usage(this.clock()),
      trafficSelectors: this.config.trafficSelectors,
    };
  }

  spiHex(): string {
    return this.spi.toString(16).padStart(8, '0');
  }

  /**
   * Verifies the ICV with the inferred sequence number and, after many consecutive failures,
   * with the candidates of RFC 4303 Appendix A3 that assume the window fell behind.
   */
  private authenticate(packet: Uint8Array, header: IpHeaderInfo, seqLow: number, seq: number) {
    const replay = this.replay!;
    const first = this.processor.authenticate(packet, header, seq);
    if (typeof first !== 'string') {
      return { packet: first, seq };
    }
    if (first !== 'icv') {
      return first;
    }

    for (const candidate of replay.resyncCandidates(seqLow)) {
      const retry = this.processor.authenticate(packet, header, candidate);
      if (typeof retry !== 'string') {
        return { packet: retry, seq: candidate };
      }
    }
    replay.recordIcvFailure();
    return 'icv' as const;
  }

  /** RFC 4301 section 5.2: the inner packet must match the SA's traffic selectors. */
  private checkPolicy(inner: Uint8Array): PacketResult {
    const header = parseIpHeader(inner);
    if (!header) {
      return this.drop('malformed', 'the inner packet has no valid IP header');
    }
    const selectors = this.config.trafficSelectors;
    if (!packetMatchesSelectors(inner, header, selectors.remote, selectors.local)) {
      return this.drop('policy', 'the inner addresses or ports are outside the traffic selectors');
    }
    this.countDelivered(header.totalLength);
    return { ok: true, packet: inner };
  }

  private countDelivered(bytes: number): void {
    this.counters.packets += 1;
    this.counters.bytes += bytes;
    this.reportLifetime(this.lifetime.recordPacket(bytes, this.clock()));
  }

  private checkSequenceMargin(): void {
    if (!this.sequenceSoftSignalled && this.lastSeq >= this.maxSeq - SEQUENCE_SOFT_MARGIN) {
      this.sequenceSoftSignalled = true;
      if (this.current === 'valid') {
        this.current = 'soft-expired';
      }
      this.emit({ type: 'soft-expired', reason: 'sequence' });
    }
  }

  private expire(reason: 'lifetime' | 'sequence'): void {
    if (this.current === 'hard-expired' || this.current === 'deleted') {
      return;
    }
    this.current = 'hard-expired';
    this.emit({ type: 'hard-expired', reason });
  }

  private reportLifetime(change: LifetimeState | null): void {
    if (change === 'hard-expired') {
      this.expire('lifetime');
    } else if (change === 'soft-expired' && this.current === 'valid') {
      this.current = 'soft-expired';
      this.emit({ type: 'soft-expired', reason: 'lifetime' });
    }
  }

  private drop(reason: DropReason, detail?: string): PacketResult {
    this.counters.drops[reason] += 1;
    return dropped(reason, detail);
  }

  private emit(event: SaEvent): void {
    for (const listener of this.listeners) {
      listener(event);
    }
  }

  /** Copies the keys into buffers that this SA owns, so `delete` can zero them. */
  private copyKeys(config: SaConfig): SaConfig {
    const copy = (key: Uint8Array) => {
      const owned = Buffer.alloc(key.length);
      owned.set(key);
      this.keys.push(owned);
      return owned;
    };
    return {
      ...config,
      encryption: config.encryption && { name: config.encryption.name, key: copy(config.encryption.key) },
      integrity: config.integrity && { name: config.integrity.name, key: copy(config.integrity.key) },
    };
  }

  private createProcessor(provider: CryptoProvider): IpsecProtocol {
    const random = provider.randomBytes(new Uint8Array(2));
    const identificationStart = (random[0]! << 8) | random[1]!;
    if (this.config.protocol === 'esp') {
      return new EspProtocol(this.config, createEspSuite(this.config, provider), identificationStart);
    }
    const hash = this.config.integrity!;
    const hmac = provider.createHmac(integrityHash(hash.name), hash.key);
    return new AhProtocol(this.config, hmac, identificationStart);
  }
}

function integrityHash(name: NonNullable<SaConfig['integrity']>['name']) {
  return ({
    AUTH_HMAC_SHA1_96: 'sha1',
    AUTH_HMAC_SHA2_256_128: 'sha256',
    AUTH_HMAC_SHA2_384_192: 'sha384',
    AUTH_HMAC_SHA2_512_256: 'sha512',
  } as const)[name];
}

function replayDropReason(verdict: string): DropReason {
  switch (verdict) {
    case 'duplicate':
      return 'replayDuplicate';
    case 'too-old':
      return 'replayTooOld';
    default:
      // Sequence number 0 is never sent (RFC 4303 section 3.3.3), and 'exhausted' is past 2^53 - 1.
      return 'malformed';
  }
}

/** Picks `node:crypto` where the runtime has the transform's cipher, and noble otherwise. */
function chooseProvider(config: SaConfig): CryptoProvider {
  const name = config.encryption?.name;
  if (name === 'ENCR_CHACHA20_POLY1305') {
    return selectProvider('chacha20-poly1305');
  }
  if (name === 'ENCR_AES_GCM_16' || name === 'ENCR_NULL_AUTH_AES_GMAC') {
    return selectProvider('aes-gcm');
  }
  return selectProvider(name === 'ENCR_AES_CBC' ? 'aes-cbc' : 'sha256');
}
