/**
 * CREATE_CHILD_SA as initiator: rekeying a CHILD_SA with or without PFS (RFC 7296 section
 * 1.3.3) and rekeying the IKE SA (section 1.3.2, keys from section 2.18).
 */

import { randomBytes } from 'node:crypto';
import { zeroize } from '../bytes.js';
import {
  ExchangeType,
  IKE_SPI_LENGTH,
  NOTIFY_ERROR_LIMIT,
  NotifyType,
  PayloadType,
  ProtocolId,
} from '../constants.js';
import type { NegotiatedChildSa } from '../child-sa.js';
import { deriveIkeSaKeys, deriveRekeySkeyseed } from '../crypto/ike-keys.js';
import { createKeyExchange, KeyExchangeError, type KeyExchange } from '../crypto/key-exchange.js';
import { IkeError, notifyError } from '../errors.js';
import { IkeSaState } from '../ike-sa-state.js';
import { payloadsOfType } from '../message.js';
import type { Payload, PlainPayload } from '../payloads/chain.js';
import {
  checkSelectedProposal,
  ProposalError,
  proposalFromSpec,
  type ProposalSpec,
} from '../proposal.js';
import type { IkeSession } from '../session.js';
import {
  ChildSaNegotiation,
  spiBytes,
  type ChildSaRequestOptions,
} from './child-sa-negotiation.js';
import { suiteFromSelection } from './ike-sa-init.js';

const NONCE_LENGTH = 32;

function checkErrors(payloads: Payload[], exchangeName: string): void {
  const error = payloadsOfType(payloads, PayloadType.NOTIFY).find(
    (n) => n.notifyType < NOTIFY_ERROR_LIMIT,
  );
  if (error !== undefined) {
    throw notifyError(exchangeName, error.notifyType);
  }
}

function requireNonce(payloads: Payload[], exchangeName: string): Uint8Array {
  const [nonce] = payloadsOfType(payloads, PayloadType.NONCE);
  if (nonce === undefined) {
    throw new IkeError('invalid-response', `the ${exchangeName} response has no Nonce`);
  }
  return nonce.data;
}

function sharedSecretFrom(
  exchange: KeyExchange,
  payloads: Payload[],
  exchangeName: string,
): Uint8Array {
  const [ke] = payloadsOfType(payloads, PayloadType.KE);
  if (ke === undefined || ke.group !== exchange.group) {
    throw new IkeError(
      'invalid-response',
      `the ${exchangeName} response has no KE for group ${exchange.group}`,
    );
  }
  try {
    return exchange.computeSharedSecret(ke.data);
  } catch (error) {
    if (error instanceof KeyExchangeError) {
      throw new IkeError('invalid-response', `${exchangeName}: ${error.message}`);
    }
    throw error;
  }
}

/**
 * Creates a CHILD_SA that replaces `old`; the caller then deletes the old one. With a DH group
 * in the ESP proposals, a KE payload gives the new keys perfect forward secrecy.
 */
export async function rekeyChildSa(
  session: IkeSession,
  sa: IkeSaState,
  old: NegotiatedChildSa,
  options: Omit<ChildSaRequestOptions, 'withDh'>,
): Promise<NegotiatedChildSa> {
  const pfsGroup = options.specs[0]?.dhGroups[0] ?? 0;
  const negotiation = new ChildSaNegotiation({ ...options, withDh: pfsGroup !== 0 });
  const nonceI = new Uint8Array(randomBytes(NONCE_LENGTH));
  const exchange = pfsGroup === 0 ? undefined : createKeyExchange(pfsGroup);

  // RFC 7296 section 1.3.3: REKEY_SA names the SA being replaced by our inbound SPI.
  const request: PlainPayload[] = [
    {
      type: 41,
      protocolId: ProtocolId.ESP,
      spi: spiBytes(old.inboundSpi),
      notifyType: NotifyType.REKEY_SA,
      data: new Uint8Array(0),
    },
  ];
  request.push(...negotiation.modePayloads(), negotiation.saPayload(), { type: 40, data: nonceI });
  if (exchange !== undefined) {
    request.push({ type: 34, group: exchange.group, data: exchange.publicValue });
  }
  request.push(...negotiation.selectorPayloads());

  const response = await session.request(ExchangeType.CREATE_CHILD_SA, request);
  checkErrors(response, 'CHILD_SA rekey');
  const nonceR = requireNonce(response, 'CHILD_SA rekey');
  const pfsSharedSecret =
    exchange === undefined ? undefined : sharedSecretFrom(exchange, response, 'CHILD_SA rekey');
  const keyInputs = {
    prf: sa.suite.prf,
    skD: sa.keys.skD,
    nonceI,
    nonceR,
    pfsGroup,
    udpEncapsulation: old.udpEncapsulation,
    lifetimes: old.lifetimes,
    ...(pfsSharedSecret === undefined ? {} : { pfsSharedSecret }),
  };
  const child = negotiation.processResponse(response, keyInputs);
  zeroize(pfsSharedSecret);
  return child;
}

/** Sends the Delete for a CHILD_SA (RFC 7296 section 1.4.1) and waits for the response. */
export async function deleteChildSa(session: IkeSession, child: NegotiatedChildSa): Promise<void> {
  await session.request(ExchangeType.INFORMATIONAL, [
    { type: 42, protocolId: ProtocolId.ESP, spiSize: 4, spis: [spiBytes(child.inboundSpi)] },
  ]);
}

/**
 * Negotiates a new IKE SA over the old one (RFC 7296 section 1.3.2) and returns it. The caller
 * then deletes the old IKE SA and moves to the new one.
 */
export async function rekeyIkeSa(
  session: IkeSession,
  old: IkeSaState,
  specs: ProposalSpec[],
): Promise<IkeSaState> {
  const spiI = new Uint8Array(randomBytes(IKE_SPI_LENGTH));
  let group = old.suite.dhGroup;
  for (let attempt = 0; attempt < 2; attempt++) {
    const exchange = createKeyExchange(group);
    const nonceI = new Uint8Array(randomBytes(NONCE_LENGTH));
    const offered = specs.map((spec, index) =>
      proposalFromSpec(spec, index + 1, spiI, { withDh: true, firstGroup: group }),
    );
    const response = await session.request(ExchangeType.CREATE_CHILD_SA, [
      { type: 33, proposals: offered },
      { type: 40, data: nonceI },
      { type: 34, group, data: exchange.publicValue },
    ]);

    const invalidKe = payloadsOfType(response, PayloadType.NOTIFY).find(
      (n) => n.notifyType === NotifyType.INVALID_KE_PAYLOAD,
    );
    if (invalidKe !== undefined && invalidKe.data.length === 2 && attempt === 0) {
      group = (invalidKe.data[0]! << 8) | invalidKe.data[1]!;
      continue;
    }
    checkErrors(response, 'IKE SA rekey');
    const [sa] = payloadsOfType(response, PayloadType.SA);
    if (sa === undefined) {
      throw new IkeError('invalid-response', 'the IKE SA rekey response has no SA payload');
    }
    let selected;
    try {
      selected = checkSelectedProposal(sa.proposals, offered, IKE_SPI_LENGTH);
    } catch (error) {
      if (error instanceof ProposalError) {
        throw new IkeError('invalid-response', `IKE SA rekey: ${error.message}`);
      }
      throw error;
    }
    if (selected.dhGroup !== group) {
      throw new IkeError('invalid-response', `IKE SA rekey chose DH group ${selected.dhGroup}`);
    }
    const nonceR = requireNonce(response, 'IKE SA rekey');
    const secret = sharedSecretFrom(exchange, response, 'IKE SA rekey');
    const suite = suiteFromSelection(selected);
    // RFC 7296 section 2.18: the old PRF and SK_d seed the new SA, whose own PRF expands.
    const skeyseed = deriveRekeySkeyseed(old.suite.prf, old.keys.skD, secret, nonceI, nonceR);
    const keys = deriveIkeSaKeys(suite.prf, skeyseed, nonceI, nonceR, spiI, selected.spi, {
      integrity: suite.integrity?.keyLength ?? 0,
      encryption: suite.encryptionKeyLength + suite.encryption.saltLength,
    });
    zeroize(skeyseed, secret);
    const rekeyed = new IkeSaState(
      spiI,
      selected.spi,
      suite,
      keys,
      nonceI,
      nonceR,
      old.fragmentation,
      old.fragmentSize,
    );
    // RFC 7296 section 2.18: the new IKE SA counts Message IDs from zero.
    rekeyed.nextRequestId = 0;
    return rekeyed;
  }
  throw new IkeError(
    'no-proposal-chosen',
    'the gateway rejected the DH group of the IKE SA rekey twice',
  );
}
