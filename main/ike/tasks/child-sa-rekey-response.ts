/**
 * CREATE_CHILD_SA as responder when the gateway rekeys a CHILD_SA (RFC 7296 section 1.3.3):
 * checks the request against the SA it replaces, picks one of the gateway's proposals that the
 * profile allows, and derives the new keys with the gateway as the exchange initiator.
 */

import { randomBytes } from 'node:crypto';
import type { TrafficSelector } from '../../engine/traffic-selector.js';
import { ENCRYPTION_ALGORITHMS, INTEGRITY_ALGORITHMS } from '../../engine/transforms.js';
import { uint16Bytes, zeroize } from '../bytes.js';
import type { NegotiatedChildSa } from '../child-sa.js';
import { EsnTransform, NotifyType, PayloadType, ProtocolId, TransformType } from '../constants.js';
import { deriveChildSaKeys } from '../crypto/ike-keys.js';
import { createKeyExchange, isSupportedGroup, KeyExchangeError } from '../crypto/key-exchange.js';
import type { IkeSaState } from '../ike-sa-state.js';
import { payloadsOfType } from '../message.js';
import type { Payload, PlainPayload } from '../payloads/chain.js';
import { notify } from '../payloads/notify.js';
import { transformKeyLength, type Proposal, type Transform } from '../payloads/security-association.js';
import { isAead, type ProposalSpec } from '../proposal.js';
import {
  ENGINE_ENCRYPTIONS,
  ENGINE_INTEGRITIES,
  MIN_SPI,
  randomSpi,
  selectorWithin,
  spiBytes,
} from './child-sa-negotiation.js';

const NONCE_LENGTH = 32;

export type ChildRekeyResponse =
  | { ok: true; response: PlainPayload[]; child: NegotiatedChildSa }
  /** The request is rejected with the error notify in `response`; `reason` is for the log. */
  | { ok: false; response: PlainPayload[]; reason: string };

interface Choice {
  proposal: Proposal;
  encryption: Transform;
  integrity: Transform | undefined;
  dhGroup: number;
  esn: Transform | undefined;
}

function reject(notifyType: number, reason: string, data?: Uint8Array): ChildRekeyResponse {
  return { ok: false, response: [notify(notifyType, data)], reason };
}

function readSpi(bytes: Uint8Array): number | undefined {
  return bytes.length === 4
    ? new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0)
    : undefined;
}

/** Returns the first transform of `type` in `proposal` that `accepts`. */
function firstOf(
  proposal: Proposal,
  type: number,
  accepts: (transform: Transform) => boolean,
): Transform | undefined {
  return proposal.transforms.find((transform) => transform.type === type && accepts(transform));
}

/**
 * Picks the first of the gateway's proposals that one of our specs allows, in the gateway's
 * order (RFC 7296 section 2.7), and within it the first allowed transform of each type.
 */
function chooseProposal(proposals: Proposal[], specs: ProposalSpec[]): Choice | undefined {
  for (const proposal of proposals) {
    if (proposal.protocolId !== ProtocolId.ESP || proposal.spi.length !== 4) {
      continue;
    }
    for (const spec of specs) {
      const encryption = firstOf(proposal, TransformType.ENCR, (transform) =>
        spec.encryptions.some(
          (choice) =>
            choice.id === transform.id && choice.keyBits === (transformKeyLength(transform) ?? 0),
        ),
      );
      if (encryption === undefined) {
        continue;
      }
      const aead = isAead(encryption.id);
      const integrity = aead
        ? undefined
        : firstOf(proposal, TransformType.INTEG, (t) => spec.integrities.includes(t.id));
      if (!aead && integrity === undefined) {
        continue;
      }
      const offeredGroups = proposal.transforms.filter(
        (t) => t.type === TransformType.DH && t.id !== 0,
      );
      const group = offeredGroups.find((t) => spec.dhGroups.includes(t.id));
      if (offeredGroups.length > 0 && group === undefined) {
        continue;
      }
      if (offeredGroups.length === 0 && spec.dhGroups.length > 0) {
        // The profile asks for PFS, which a rekey without KE would not give.
        continue;
      }
      const esn = firstOf(proposal, TransformType.ESN, (t) => spec.esns.includes(t.id));
      const offersEsn = proposal.transforms.some((t) => t.type === TransformType.ESN);
      if (offersEsn && esn === undefined) {
        continue;
      }
      return { proposal, encryption, integrity, dhGroup: group?.id ?? 0, esn };
    }
  }
  return undefined;
}

/** RFC 7296 section 2.9: the selectors of the old SA must fit inside what the gateway asks. */
function covers(requested: TrafficSelector[], kept: TrafficSelector[]): boolean {
  return kept.every((selector) => requested.some((outer) => selectorWithin(selector, outer)));
}

/**
 * Builds the response to a CREATE_CHILD_SA request that carries REKEY_SA, and the new CHILD_SA.
 * The new SA keeps the old one's traffic selectors, mode, lifetimes and encapsulation.
 */
export function respondToChildRekey(
  payloads: Payload[],
  sa: IkeSaState,
  current: NegotiatedChildSa,
  specs: ProposalSpec[],
): ChildRekeyResponse {
  const rekey = payloadsOfType(payloads, PayloadType.NOTIFY).find(
    (n) => n.notifyType === NotifyType.REKEY_SA,
  );
  // RFC 7296 section 1.3.3: REKEY_SA names the SA by the SPI that the gateway receives on.
  if (rekey === undefined || readSpi(rekey.spi) !== current.outboundSpi) {
    const named = rekey === undefined ? 'none' : Buffer.from(rekey.spi).toString('hex');
    return reject(NotifyType.CHILD_SA_NOT_FOUND, `REKEY_SA names SPI ${named}, not ours`);
  }
  const [saPayload] = payloadsOfType(payloads, PayloadType.SA);
  const [nonce] = payloadsOfType(payloads, PayloadType.NONCE);
  const [tsi] = payloadsOfType(payloads, PayloadType.TSI);
  const [tsr] = payloadsOfType(payloads, PayloadType.TSR);
  if (saPayload === undefined || nonce === undefined || tsi === undefined || tsr === undefined) {
    return reject(NotifyType.INVALID_SYNTAX, 'the request lacks SA, Nonce, TSi or TSr');
  }
  const transport = payloadsOfType(payloads, PayloadType.NOTIFY).some(
    (n) => n.notifyType === NotifyType.USE_TRANSPORT_MODE,
  );
  if (transport !== (current.mode === 'transport')) {
    return reject(NotifyType.NO_PROPOSAL_CHOSEN, 'the request changes the mode of the CHILD_SA');
  }
  // The gateway is the initiator here, so TSi is its side and TSr is ours.
  if (!covers(tsi.selectors, current.trafficSelectors.remote)) {
    return reject(NotifyType.TS_UNACCEPTABLE, 'TSi does not cover the SA being rekeyed');
  }
  if (!covers(tsr.selectors, current.trafficSelectors.local)) {
    return reject(NotifyType.TS_UNACCEPTABLE, 'TSr does not cover the SA being rekeyed');
  }

  const choice = chooseProposal(saPayload.proposals, specs);
  if (choice === undefined) {
    return reject(NotifyType.NO_PROPOSAL_CHOSEN, 'no proposal matches the profile');
  }
  const outboundSpi = readSpi(choice.proposal.spi)!;
  if (outboundSpi < MIN_SPI) {
    return reject(NotifyType.INVALID_SYNTAX, `the gateway chose reserved SPI ${outboundSpi}`);
  }
  const encryption = ENGINE_ENCRYPTIONS[choice.encryption.id];
  const integrity =
    choice.integrity === undefined ? undefined : ENGINE_INTEGRITIES[choice.integrity.id];
  if (encryption === undefined || (choice.integrity !== undefined && integrity === undefined)) {
    return reject(NotifyType.NO_PROPOSAL_CHOSEN, 'the chosen transform has no engine');
  }

  let pfsSharedSecret: Uint8Array | undefined;
  let keResponse: PlainPayload | undefined;
  if (choice.dhGroup !== 0) {
    const [ke] = payloadsOfType(payloads, PayloadType.KE);
    if (ke === undefined || ke.group !== choice.dhGroup || !isSupportedGroup(choice.dhGroup)) {
      // RFC 7296 section 1.3: INVALID_KE_PAYLOAD names the group that we expect.
      return reject(
        NotifyType.INVALID_KE_PAYLOAD,
        `the KE payload is not for DH group ${choice.dhGroup}`,
        uint16Bytes(choice.dhGroup),
      );
    }
    const exchange = createKeyExchange(choice.dhGroup);
    try {
      pfsSharedSecret = exchange.computeSharedSecret(ke.data);
    } catch (error) {
      if (error instanceof KeyExchangeError) {
        return reject(NotifyType.INVALID_SYNTAX, `KE payload: ${error.message}`);
      }
      throw error;
    }
    keResponse = { type: 34, group: exchange.group, data: exchange.publicValue };
  }

  const inboundSpi = randomSpi();
  const nonceR = new Uint8Array(randomBytes(NONCE_LENGTH));
  const algorithm = ENCRYPTION_ALGORITHMS[encryption];
  const keyLength = (transformKeyLength(choice.encryption) ?? 0) / 8 || algorithm.keyLengths[0]!;
  const integrityLength = integrity === undefined ? 0 : INTEGRITY_ALGORITHMS[integrity].keyLength;
  const keys = deriveChildSaKeys(
    sa.suite.prf,
    sa.keys.skD,
    nonce.data,
    nonceR,
    { encryption: keyLength + algorithm.saltLength, integrity: integrityLength },
    pfsSharedSecret,
  );
  zeroize(pfsSharedSecret);

  const child: NegotiatedChildSa = {
    inboundSpi,
    outboundSpi,
    protocol: 'esp',
    mode: current.mode,
    encryption,
    encryptionKeyLength: keyLength,
    // RFC 7296 section 2.17: the gateway initiated this exchange, so its keys come first.
    inbound: { encryptionKey: keys.encryptionI },
    outbound: { encryptionKey: keys.encryptionR },
    esn: choice.esn?.id === EsnTransform.ESN,
    pfsGroup: choice.dhGroup,
    trafficSelectors: {
      local: current.trafficSelectors.local,
      remote: current.trafficSelectors.remote,
    },
    udpEncapsulation: current.udpEncapsulation,
    lifetimes: current.lifetimes,
  };
  if (integrity !== undefined) {
    child.integrity = integrity;
    child.inbound.integrityKey = keys.integrityI;
    child.outbound.integrityKey = keys.integrityR;
  }

  const transforms = [choice.encryption];
  for (const transform of [choice.integrity, choice.esn]) {
    if (transform !== undefined) {
      transforms.push(transform);
    }
  }
  if (choice.dhGroup !== 0) {
    transforms.push({ type: TransformType.DH, id: choice.dhGroup, attributes: [] });
  }
  const selected: Proposal = {
    number: choice.proposal.number,
    protocolId: ProtocolId.ESP,
    spi: spiBytes(inboundSpi),
    transforms,
  };
  const response: PlainPayload[] = transport ? [notify(NotifyType.USE_TRANSPORT_MODE)] : [];
  response.push({ type: 33, proposals: [selected] }, { type: 40, data: nonceR });
  if (keResponse !== undefined) {
    response.push(keResponse);
  }
  response.push(
    { type: 44, selectors: current.trafficSelectors.remote, unknownSelectors: [] },
    { type: 45, selectors: current.trafficSelectors.local, unknownSelectors: [] },
  );
  return { ok: true, response, child };
}
