/**
 * Connects to a gateway as IKEv2 initiator: IKE_SA_INIT, the port float, IKE_AUTH with the
 * first CHILD_SA, then responds to the gateway's requests until closed. Returns the negotiated
 * CHILD_SA for the ESP engine.
 */

import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { parseTrafficSelector, type TrafficSelector } from '../engine/traffic-selector.js';
import { bytesEqual, toHex } from './bytes.js';
import {
  ExchangeType,
  IKE_SPI_LENGTH,
  NotifyType,
  PayloadType,
  ProtocolId,
  notifyName,
} from './constants.js';
import { notify } from './payloads/notify.js';
import { zeroizeChildSa, type NegotiatedChildSa, type VirtualIpConfig } from './child-sa.js';
import { IkeError } from './errors.js';
import type { IkeIdentity } from './identity.js';
import { payloadsOfType } from './message.js';
import type { Payload, PlainPayload } from './payloads/chain.js';
import type { IkeProfile } from './profile.js';
import { parseProposalSpec, type ProposalSpec } from './proposal.js';
import { DEFAULT_RETRANSMIT_POLICY, IkeSession } from './session.js';
import { buildConfigRequest, parseConfigReply } from './tasks/configuration.js';
import { IkeAuthTask, loadCredentials } from './tasks/ike-auth.js';
import { IkeSaInitTask } from './tasks/ike-sa-init.js';
import { deleteChildSa, rekeyChildSa, rekeyIkeSa } from './tasks/create-child-sa.js';
import { respondToChildRekey } from './tasks/child-sa-rekey-response.js';
import { ChildSaNegotiation, spiBytes } from './tasks/child-sa-negotiation.js';
import { DEFAULT_FRAGMENT_SIZE, type IkeSaState } from './ike-sa-state.js';
import {
  silentLogger,
  systemClock,
  type Clock,
  type IkeLogger,
  type IkeTransport,
} from './transport.js';

export interface ConnectOptions {
  transport: IkeTransport;
  clock?: Clock;
  logger?: IkeLogger;
  /** Called when IKE_SA_INIT is done and IKE_AUTH starts, to report progress. */
  onAuthenticating?: () => void;
}

/** Proposals that rekeying reuses, parsed once from the profile. */
export interface NegotiationSettings {
  ikeSpecs: ProposalSpec[];
  espSpecs: ProposalSpec[];
}

export interface IkeSaDescription {
  spiI: Uint8Array;
  spiR: Uint8Array;
  remoteIdentity: IkeIdentity;
  natLocal: boolean;
  natRemote: boolean;
}

/**
 * An established IKE SA with its first CHILD_SA. Emits 'child-rekeyed' (new, old, initiator)
 * when a rekey by either side creates a new CHILD_SA, 'old-child-deleted' (old) when the gateway
 * deletes the SA that its own rekey replaced, 'child-deleted' (inbound SPI) when the gateway
 * deletes the current CHILD_SA, and 'closed' (reason) when the IKE SA ends.
 */
export class IkeConnection extends EventEmitter {
  /** CHILD_SAs that the gateway's rekeys replaced and that it has not deleted yet. */
  private readonly replacedByGateway: NegotiatedChildSa[] = [];
  private rekeying = false;

  constructor(
    private readonly session: IkeSession,
    public ikeSa: IkeSaDescription,
    public childSa: NegotiatedChildSa,
    readonly config: VirtualIpConfig,
    private readonly negotiation: NegotiationSettings,
    private readonly logger: IkeLogger,
  ) {
    super();
    session.onRequest((exchangeType, payloads) => this.answer(exchangeType, payloads));
  }

  get counters() {
    return this.session.counters;
  }

  /** Sends an empty INFORMATIONAL request, the liveness check of RFC 7296 section 2.4. */
  async checkLiveness(): Promise<void> {
    await this.session.request(ExchangeType.INFORMATIONAL, []);
  }

  /**
   * Replaces the CHILD_SA with a new one (RFC 7296 section 1.3.3), with PFS when the ESP
   * proposals name a DH group, then deletes the old one. Emits 'child-rekeyed' (new, old)
   * as soon as the new SA exists, so that the engine installs it before the old one goes.
   */
  async rekeyChildSa(): Promise<NegotiatedChildSa> {
    const sa = this.requireSa();
    const old = this.childSa;
    this.rekeying = true;
    let next: NegotiatedChildSa;
    try {
      next = await rekeyChildSa(this.session, sa, old, {
        specs: this.negotiation.espSpecs,
        localSelectors: old.trafficSelectors.local,
        remoteSelectors: old.trafficSelectors.remote,
        mode: old.mode,
      });
    } finally {
      this.rekeying = false;
    }
    this.childSa = next;
    this.emit('child-rekeyed', next, old, 'client');
    await deleteChildSa(this.session, old);
    zeroizeChildSa(old);
    this.logger.info(
      `rekeyed CHILD_SA, new SPIs ${next.inboundSpi.toString(16)}_i ` +
        `${next.outboundSpi.toString(16)}_o`,
    );
    return next;
  }

  /** Replaces the IKE SA (RFC 7296 section 1.3.2); the CHILD_SA moves to the new one. */
  async rekeyIkeSa(): Promise<void> {
    const old = this.requireSa();
    const next = await rekeyIkeSa(this.session, old, this.negotiation.ikeSpecs);
    try {
      await this.session.request(ExchangeType.INFORMATIONAL, [
        { type: 42, protocolId: ProtocolId.IKE, spiSize: 0, spis: [] },
      ]);
    } finally {
      this.session.attach(next);
    }
    this.ikeSa = { ...this.ikeSa, spiI: next.spiI, spiR: next.spiR };
    this.logger.info(`rekeyed IKE SA, new SPIs ${toHex(next.spiI)}_i ${toHex(next.spiR)}_r`);
  }

  private requireSa(): IkeSaState {
    const sa = this.session.ikeSa;
    if (sa === undefined || sa.deleted) {
      throw new IkeError('closed', 'the IKE SA is closed');
    }
    return sa;
  }

  /** Deletes the IKE SA (and with it every CHILD_SA) and zeroes all keys. */
  async close(): Promise<void> {
    const sa = this.session.ikeSa;
    if (sa === undefined || sa.deleted) {
      return;
    }
    try {
      await this.session.request(ExchangeType.INFORMATIONAL, [
        { type: 42, protocolId: ProtocolId.IKE, spiSize: 0, spis: [] },
      ]);
    } catch (error) {
      this.logger.warn(
        `the gateway did not confirm the IKE SA delete: ${(error as Error).message}`,
      );
    } finally {
      this.end('closed by the client');
    }
  }

  private end(reason: string): void {
    this.session.ikeSa?.destroy();
    zeroizeChildSa(this.childSa);
    for (const old of this.replacedByGateway.splice(0)) {
      zeroizeChildSa(old);
    }
    this.session.close();
    this.emit('closed', reason);
  }

  /** Removes and returns the replaced CHILD_SAs whose outbound SPI is in `spis`. */
  private takeReplaced(spis: number[]): NegotiatedChildSa[] {
    const taken = this.replacedByGateway.filter((old) => spis.includes(old.outboundSpi));
    for (const old of taken) {
      this.replacedByGateway.splice(this.replacedByGateway.indexOf(old), 1);
    }
    return taken;
  }

  /**
   * Answers the gateway's CREATE_CHILD_SA: a rekey of our CHILD_SA gets the new SA, anything
   * else gets NO_ADDITIONAL_SAS. The new SA is announced after the response is sent.
   */
  private answerCreateChildSa(payloads: Payload[]): PlainPayload[] {
    const rekeysChild = payloadsOfType(payloads, PayloadType.NOTIFY).some(
      (n) => n.notifyType === NotifyType.REKEY_SA && n.protocolId === ProtocolId.ESP,
    );
    if (!rekeysChild) {
      // TODO: accept the gateway's IKE SA rekey (RFC 7296 section 1.3.2). Until then
      // NO_ADDITIONAL_SAS rejects it, and the client rekeys the IKE SA first.
      this.logger.warn(
        'rejected a CREATE_CHILD_SA request from the gateway: ' +
          'only CHILD_SA rekeys are accepted, not IKE SA rekeys or additional CHILD_SAs',
      );
      return [notify(NotifyType.NO_ADDITIONAL_SAS)];
    }
    if (this.rekeying) {
      // NOTE: RFC 7296 section 2.8.1 resolves simultaneous rekeys by nonces; this client
      // declines the gateway's instead, and its own rekey goes on.
      this.logger.info('declined the gateway\'s CHILD_SA rekey while our own rekey runs');
      return [notify(NotifyType.TEMPORARY_FAILURE)];
    }
    const result = respondToChildRekey(
      payloads,
      this.requireSa(),
      this.childSa,
      this.negotiation.espSpecs,
    );
    if (!result.ok) {
      this.logger.warn(`rejected the gateway's CHILD_SA rekey: ${result.reason}`);
      return result.response;
    }
    const old = this.childSa;
    const next = result.child;
    this.childSa = next;
    this.replacedByGateway.push(old);
    this.logger.info(
      `the gateway rekeyed the CHILD_SA, new SPIs ${next.inboundSpi.toString(16)}_i ` +
        `${next.outboundSpi.toString(16)}_o`,
    );
    queueMicrotask(() => this.emit('child-rekeyed', next, old, 'gateway'));
    return result.response;
  }

  /** Builds the response to a gateway request (RFC 7296 sections 1.4 and 2.4). */
  private answer(exchangeType: number, payloads: Payload[]): PlainPayload[] {
    if (exchangeType === ExchangeType.CREATE_CHILD_SA) {
      return this.answerCreateChildSa(payloads);
    }
    if (exchangeType !== ExchangeType.INFORMATIONAL) {
      return [];
    }
    const response: PlainPayload[] = [];
    for (const deletion of payloadsOfType(payloads, PayloadType.DELETE)) {
      if (deletion.protocolId === ProtocolId.IKE) {
        this.logger.info('the gateway deleted the IKE SA');
        // Respond first, then tear down once the response is on its way.
        queueMicrotask(() => this.end('deleted by the gateway'));
        return [];
      }
      if (deletion.protocolId !== ProtocolId.ESP) {
        continue;
      }
      const spis = deletion.spis
        .filter((spi) => spi.length === 4)
        .map((spi) => new DataView(spi.buffer, spi.byteOffset, 4).getUint32(0));
      for (const old of this.takeReplaced(spis)) {
        // RFC 7296 section 1.4.1: the response names our inbound SPI of the deleted pair.
        response.push({
          type: 42,
          protocolId: ProtocolId.ESP,
          spiSize: 4,
          spis: [spiBytes(old.inboundSpi)],
        });
        this.emit('old-child-deleted', old);
        zeroizeChildSa(old);
      }
      if (spis.includes(this.childSa.outboundSpi)) {
        // RFC 7296 section 1.4.1: the response names the SPI of our half of the pair.
        const inbound = new Uint8Array(4);
        new DataView(inbound.buffer).setUint32(0, this.childSa.inboundSpi);
        response.push({ type: 42, protocolId: ProtocolId.ESP, spiSize: 4, spis: [inbound] });
        this.emit('child-deleted', this.childSa.inboundSpi);
      }
    }
    for (const received of payloadsOfType(payloads, PayloadType.NOTIFY)) {
      this.logger.info(`the gateway sent ${notifyName(received.notifyType)} in INFORMATIONAL`);
    }
    return response;
  }
}

/**
 * Runs IKE_SA_INIT and IKE_AUTH. Throws IkeError with the reason on failure, at the latest when
 * the retransmission give-up time of one exchange has passed without a response.
 */
export async function connectIke(
  profile: IkeProfile,
  options: ConnectOptions,
): Promise<IkeConnection> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const { transport } = options;
  const ikeSpecs = profile.ikeProposals.map((text) => parseProposalSpec(text, 'ike'));
  const espSpecs = profile.espProposals.map((text) => parseProposalSpec(text, 'esp'));
  const credentials = loadCredentials(
    profile.localAuth,
    profile.remoteAuth,
    profile.localIdentity,
    profile.remoteIdentity,
  );
  const spiI = new Uint8Array(randomBytes(IKE_SPI_LENGTH));
  const policy = { ...DEFAULT_RETRANSMIT_POLICY, ...profile.retransmit };
  const session = new IkeSession(transport, clock, logger, spiI, policy);

  try {
    const init = await runInit(
      session,
      new IkeSaInitTask({
        specs: ikeSpecs,
        spiI,
        local: transport.localEndpoint(),
        remote: transport.remoteEndpoint(),
        forceUdpEncapsulation: profile.forceUdpEncapsulation ?? true,
        fragmentSize: profile.fragmentSize ?? DEFAULT_FRAGMENT_SIZE,
        logger,
      }),
    );
    session.attach(init.sa);
    logger.info(`IKE_SA_INIT done, SPIs ${toHex(spiI)}_i ${toHex(init.sa.spiR)}_r`);
    options.onAuthenticating?.();

    const udpEncapsulation = init.natLocal || init.natRemote;
    if (udpEncapsulation) {
      // RFC 7296 section 2.23: behind a NAT the initiator moves to port 4500.
      await transport.floatToNatTraversal();
    }

    const requestIpv4 = profile.requestVirtualIp?.ipv4 ?? false;
    const requestIpv6 = profile.requestVirtualIp?.ipv6 ?? false;
    const auth = new IkeAuthTask({
      sa: init.sa,
      credentials,
      initRequest: init.requestBytes,
      initResponse: init.responseBytes,
      peerSignatureHashes: init.peerSignatureHashes,
      now: clock.date(),
    });
    const child = new ChildSaNegotiation({
      specs: espSpecs,
      localSelectors: localSelectors(
        profile,
        transport.localEndpoint().address,
        requestIpv4,
        requestIpv6,
      ),
      remoteSelectors: remoteSelectors(profile, requestIpv6),
      mode: profile.mode ?? 'tunnel',
      withDh: false,
    });
    const request: PlainPayload[] = [...auth.buildAuthPayloads()];
    if (requestIpv4 || requestIpv6) {
      request.push(buildConfigRequest(requestIpv4, requestIpv6));
    }
    request.push(...child.requestPayloads());

    const response = await session.request(ExchangeType.IKE_AUTH, request);
    const authResult = auth.processResponse(response);
    if (authResult.childError !== undefined) {
      // Without a CHILD_SA the IKE SA is of no use, so it is deleted before giving up.
      await deleteIkeSaQuietly(session, logger);
      throw new IkeError(
        'notify',
        `the IKE SA is up but the gateway rejected the CHILD_SA: ` +
          `${notifyName(authResult.childError)}`,
        authResult.childError,
      );
    }
    const lifetime = profile.childLifetime ?? { rekeySeconds: 3300, lifeSeconds: 3600 };
    const childSa = child.processResponse(response, {
      prf: init.sa.suite.prf,
      skD: init.sa.keys.skD,
      nonceI: init.sa.nonceI,
      nonceR: init.sa.nonceR,
      pfsGroup: 0,
      udpEncapsulation,
      lifetimes: {
        soft: { seconds: lifetime.rekeySeconds },
        hard: { seconds: lifetime.lifeSeconds },
      },
    });
    const config = parseConfigReply(payloadsOfType(response, PayloadType.CP)[0], logger);
    try {
      checkVirtualIp(config, requestIpv4, requestIpv6);
    } catch (error) {
      zeroizeChildSa(childSa);
      await deleteIkeSaQuietly(session, logger);
      throw error;
    }
    logger.info(
      `IKE_AUTH done, CHILD_SA SPIs ${childSa.inboundSpi.toString(16)}_i ` +
        `${childSa.outboundSpi.toString(16)}_o`,
    );

    const description: IkeSaDescription = {
      spiI,
      spiR: init.sa.spiR,
      remoteIdentity: authResult.remoteIdentity,
      natLocal: init.natLocal,
      natRemote: init.natRemote,
    };
    const settings = { ikeSpecs, espSpecs };
    return new IkeConnection(session, description, childSa, config, settings, logger);
  } catch (error) {
    session.ikeSa?.destroy();
    session.close();
    throw error;
  }
}

async function runInit(session: IkeSession, task: IkeSaInitTask) {
  for (;;) {
    const response = await session.requestInit(task.buildRequest());
    const result = task.processResponse(response);
    if (result !== 'retry') {
      return result;
    }
  }
}

function localSelectors(
  profile: IkeProfile,
  localAddress: Uint8Array,
  ipv4: boolean,
  ipv6: boolean,
): TrafficSelector[] {
  if (profile.localTrafficSelectors !== undefined) {
    return profile.localTrafficSelectors.map(parseTrafficSelector);
  }
  const selectors: TrafficSelector[] = [];
  if (ipv4) {
    selectors.push(parseTrafficSelector('0.0.0.0/0'));
  }
  if (ipv6) {
    selectors.push(parseTrafficSelector('::/0'));
  }
  if (selectors.length === 0) {
    const single = localAddress.slice();
    selectors.push({
      startAddress: single,
      endAddress: single.slice(),
      protocol: 0,
      startPort: 0,
      endPort: 0xffff,
    });
  }
  return selectors;
}

function remoteSelectors(profile: IkeProfile, ipv6: boolean): TrafficSelector[] {
  if (profile.remoteTrafficSelectors !== undefined) {
    return profile.remoteTrafficSelectors.map(parseTrafficSelector);
  }
  const selectors = [parseTrafficSelector('0.0.0.0/0')];
  if (ipv6) {
    selectors.push(parseTrafficSelector('::/0'));
  }
  return selectors;
}

/** Sends a Delete for the IKE SA; a missing response is logged, not thrown. */
async function deleteIkeSaQuietly(session: IkeSession, logger: IkeLogger): Promise<void> {
  try {
    await session.request(ExchangeType.INFORMATIONAL, [
      { type: 42, protocolId: ProtocolId.IKE, spiSize: 0, spis: [] },
    ]);
  } catch (error) {
    logger.warn(`the gateway did not confirm the IKE SA delete: ${(error as Error).message}`);
  }
}

/** At least one requested family must get an address, or the tunnel has no inner source. */
function checkVirtualIp(config: VirtualIpConfig, ipv4: boolean, ipv6: boolean): void {
  if (!ipv4 && !ipv6) {
    return;
  }
  const zero = config.ipv4 !== undefined && bytesEqual(config.ipv4, new Uint8Array(4));
  const assigned =
    (ipv4 && config.ipv4 !== undefined && !zero) || (ipv6 && config.ipv6 !== undefined);
  if (!assigned) {
    throw new IkeError(
      'invalid-response',
      'the gateway assigned no virtual IP address; check ' +
        'that its connection has an address pool',
    );
  }
}
