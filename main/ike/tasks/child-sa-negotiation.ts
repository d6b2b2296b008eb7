/**
 * The CHILD_SA part of IKE_AUTH and CREATE_CHILD_SA as initiator: ESP proposals with our SPI,
 * traffic selectors, the check of the chosen proposal and of the narrowed selectors (RFC 7296
 * section 2.9), and KEYMAT (section 2.17).
 */

import { randomBytes } from 'node:crypto';
import type { TrafficSelector } from '../../engine/traffic-selector.js';
import { compareAddresses } from '../../engine/address.js';
import { ENCRYPTION_ALGORITHMS, INTEGRITY_ALGORITHMS } from '../../engine/transforms.js';
import type { EncryptionName, IntegrityName } from '../../engine/transforms.js';
import type { SaMode } from '../../engine/sa-config.js';
import {
  EncryptionTransform,
  EsnTransform,
  IntegrityTransform,
  NotifyType,
  PayloadType,
} from '../constants.js';
import type { NegotiatedChildSa } from '../child-sa.js';
import { deriveChildSaKeys } from '../crypto/ike-keys.js';
import type { PrfAlgorithm } from '../crypto/prf.js';
import { IkeError } from '../errors.js';
import { payloadsOfType } from '../message.js';
import type { Payload, PlainPayload } from '../payloads/chain.js';
import { notify, type NotifyPayload } from '../payloads/notify.js';
import type { Proposal, SaPayload } from '../payloads/security-association.js';
import type { TsPayload } from '../payloads/traffic-selector.js';
import {
  checkSelectedProposal,
  ProposalError,
  proposalFromSpec,
  type ProposalSpec,
} from '../proposal.js';

export const ENGINE_ENCRYPTIONS: Record<number, EncryptionName> = {
  [EncryptionTransform.ENCR_AES_CBC]: 'ENCR_AES_CBC',
  [EncryptionTransform.ENCR_AES_GCM_16]: 'ENCR_AES_GCM_16',
  [EncryptionTransform.ENCR_CHACHA20_POLY1305]: 'ENCR_CHACHA20_POLY1305',
};

export const ENGINE_INTEGRITIES: Record<number, IntegrityName> = {
  [IntegrityTransform.AUTH_HMAC_SHA1_96]: 'AUTH_HMAC_SHA1_96',
  [IntegrityTransform.AUTH_HMAC_SHA2_256_128]: 'AUTH_HMAC_SHA2_256_128',
  [IntegrityTransform.AUTH_HMAC_SHA2_384_192]: 'AUTH_HMAC_SHA2_384_192',
  [IntegrityTransform.AUTH_HMAC_SHA2_512_256]: 'AUTH_HMAC_SHA2_512_256',
};

/** The lowest SPI that may be used; 1 to 255 are reserved (RFC 4303 section 2.1). */
export const MIN_SPI = 256;

export interface ChildSaRequestOptions {
  specs: ProposalSpec[];
  localSelectors: TrafficSelector[];
  remoteSelectors: TrafficSelector[];
  mode: SaMode;
  /** False in IKE_AUTH, where no KE payload exists (RFC 7296 section 1.2). */
  withDh: boolean;
}

export interface ChildSaKeyInputs {
  prf: PrfAlgorithm;
  skD: Uint8Array;
  nonceI: Uint8Array;
  nonceR: Uint8Array;
  pfsSharedSecret?: Uint8Array;
  pfsGroup: number;
  udpEncapsulation: boolean;
  lifetimes: NegotiatedChildSa['lifetimes'];
}

export class ChildSaNegotiation {
  readonly inboundSpi: number;
  private readonly offered: Proposal[];

  constructor(private readonly options: ChildSaRequestOptions) {
    this.inboundSpi = randomSpi();
    const spi = spiBytes(this.inboundSpi);
    this.offered = options.specs.map((spec, index) =>
      proposalFromSpec(spec, index + 1, spi, { withDh: options.withDh }),
    );
  }

  /** Returns the SA, TSi and TSr payloads, after USE_TRANSPORT_MODE for transport mode. */
  requestPayloads(): PlainPayload[] {
    return [...this.modePayloads(), this.saPayload(), ...this.selectorPayloads()];
  }

  modePayloads(): NotifyPayload[] {
    return this.options.mode === 'transport' ? [notify(NotifyType.USE_TRANSPORT_MODE)] : [];
  }

  saPayload(): SaPayload {
    return { type: 33, proposals: this.offered };
  }

  selectorPayloads(): [TsPayload, TsPayload] {
    return [
      { type: 44, selectors: this.options.localSelectors, unknownSelectors: [] },
      { type: 45, selectors: this.options.remoteSelectors, unknownSelectors: [] },
    ];
  }

  /** Checks the response and derives the keys; throws IkeError naming what is wrong. */
  processResponse(payloads: Payload[], keyInputs: ChildSaKeyInputs): NegotiatedChildSa {
    const [sa] = payloadsOfType(payloads, PayloadType.SA);
    const [tsi] = payloadsOfType(payloads, PayloadType.TSI);
    const [tsr] = payloadsOfType(payloads, PayloadType.TSR);
    if (sa === undefined || tsi === undefined || tsr === undefined) {
      throw new IkeError('invalid-response', 'the CHILD_SA response lacks SA, TSi or TSr');
    }
    let selected;
    try {
      selected = checkSelectedProposal(sa.proposals, this.offered, 4);
    } catch (error) {
      if (error instanceof ProposalError) {
        throw new IkeError('invalid-response', `CHILD_SA: ${error.message}`);
      }
      throw error;
    }
    const outboundSpi = new DataView(selected.spi.buffer, selected.spi.byteOffset, 4).getUint32(0);
    if (outboundSpi < MIN_SPI) {
      throw new IkeError(
        'invalid-response',
        `CHILD_SA: the gateway chose reserved SPI ${outboundSpi}`,
      );
    }
    checkNarrowed(tsi.selectors, this.options.localSelectors, 'TSi');
    checkNarrowed(tsr.selectors, this.options.remoteSelectors, 'TSr');
    const mode = this.checkMode(payloads);

    const encryption = ENGINE_ENCRYPTIONS[selected.encryption.id];
    if (encryption === undefined) {
      throw new IkeError(
        'invalid-response',
        `CHILD_SA: unsupported cipher ${selected.encryption.id}`,
      );
    }
    const algorithm = ENCRYPTION_ALGORITHMS[encryption];
    const keyLength = selected.encryption.keyBits / 8 || algorithm.keyLengths[0]!;
    const integrity =
      algorithm.kind === 'aead' ? undefined : ENGINE_INTEGRITIES[selected.integrity];
    if (algorithm.kind !== 'aead' && integrity === undefined) {
      throw new IkeError(
        'invalid-response',
        `CHILD_SA: unsupported integrity ${selected.integrity}`,
      );
    }
    if (selected.dhGroup !== 0 && selected.dhGroup !== keyInputs.pfsGroup) {
      throw new IkeError('invalid-response', `CHILD_SA: unexpected DH group ${selected.dhGroup}`);
    }

    const integrityLength = integrity === undefined ? 0 : INTEGRITY_ALGORITHMS[integrity].keyLength;
    const keys = deriveChildSaKeys(
      keyInputs.prf,
      keyInputs.skD,
      keyInputs.nonceI,
      keyInputs.nonceR,
      { encryption: keyLength + algorithm.saltLength, integrity: integrityLength },
      keyInputs.pfsSharedSecret,
    );
    const child: NegotiatedChildSa = {
      inboundSpi: this.inboundSpi,
      outboundSpi,
      protocol: 'esp',
      mode,
      encryption,
      encryptionKeyLength: keyLength,
      // As initiator we send with the initiator-to-responder keys (RFC 7296 section 2.17).
      inbound: { encryptionKey: keys.encryptionR },
      outbound: { encryptionKey: keys.encryptionI },
      esn: selected.esn === EsnTransform.ESN,
      pfsGroup: selected.dhGroup,
      trafficSelectors: { local: tsi.selectors, remote: tsr.selectors },
      udpEncapsulation: keyInputs.udpEncapsulation,
      lifetimes: keyInputs.lifetimes,
    };
    if (integrity !== undefined) {
      child.integrity = integrity;
      child.inbound.integrityKey = keys.integrityR;
      child.outbound.integrityKey = keys.integrityI;
    }
    return child;
  }

  /** RFC 7296 section 1.3.1: transport mode holds only if the responder echoes the notify. */
  private checkMode(payloads: Payload[]): SaMode {
    const echoed = payloadsOfType(payloads, PayloadType.NOTIFY).some(
      (n) => n.notifyType === NotifyType.USE_TRANSPORT_MODE,
    );
    if (this.options.mode === 'transport' && !echoed) {
      throw new IkeError(
        'invalid-response',
        'the gateway rejected transport mode: its response lacks USE_TRANSPORT_MODE',
      );
    }
    return this.options.mode === 'transport' ? 'transport' : 'tunnel';
  }
}

export function randomSpi(): number {
  for (;;) {
    const spi = randomBytes(4).readUInt32BE(0);
    if (spi >= MIN_SPI) {
      return spi;
    }
  }
}

export function spiBytes(spi: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, spi);
  return bytes;
}

/**
 * RFC 7296 section 2.9: the responder may narrow the selectors but not widen them, so each one
 * returned must lie inside one that we proposed.
 */
function checkNarrowed(
  received: TrafficSelector[],
  proposed: TrafficSelector[],
  name: string,
): void {
  if (received.length === 0) {
    throw new IkeError('invalid-response', `${name} contains no IPv4 or IPv6 traffic selector`);
  }
  for (const selector of received) {
    if (!proposed.some((outer) => selectorWithin(selector, outer))) {
      throw new IkeError('invalid-response', `the gateway widened ${name} beyond what we proposed`);
    }
  }
}

export function selectorWithin(inner: TrafficSelector, outer: TrafficSelector): boolean {
  return (
    inner.startAddress.length === outer.startAddress.length &&
    compareAddresses(inner.startAddress, outer.startAddress) >= 0 &&
    compareAddresses(inner.endAddress, outer.endAddress) <= 0 &&
    compareAddresses(inner.startAddress, inner.endAddress) <= 0 &&
    (outer.protocol === 0 || inner.protocol === outer.protocol) &&
    inner.startPort >= outer.startPort &&
    inner.endPort <= outer.endPort &&
    inner.startPort <= inner.endPort
  );
}
