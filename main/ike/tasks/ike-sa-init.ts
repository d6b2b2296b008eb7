/**
 * The IKE_SA_INIT exchange as initiator (RFC 7296 section 1.2): proposals, KE, nonce, NAT
 * detection (section 2.23), fragmentation support (RFC 7383) and signature hash algorithms
 * (RFC 7427), with the COOKIE (section 2.6) and INVALID_KE_PAYLOAD (section 1.2) retries.
 */

import { createHash, randomBytes } from 'node:crypto';
import { bytesEqual, concatBytes, uint16Bytes, zeroize } from '../bytes.js';
import {
  ExchangeType,
  IKE_SPI_LENGTH,
  NOTIFY_ERROR_LIMIT,
  NotifyType,
  PayloadType,
  SignatureHash,
} from '../constants.js';
import { deriveIkeSaKeys, deriveSkeyseed } from '../crypto/ike-keys.js';
import { SK_ENCRYPTIONS, SK_INTEGRITIES } from '../crypto/ike-transforms.js';
import { createKeyExchange, KeyExchangeError, type KeyExchange } from '../crypto/key-exchange.js';
import { PRF_ALGORITHMS } from '../crypto/prf.js';
import { IkeError, notifyError } from '../errors.js';
import { IkeSaState, type IkeSaSuite } from '../ike-sa-state.js';
import { encodeMessage, payloadsOfType, type IkeMessage } from '../message.js';
import type { PlainPayload } from '../payloads/chain.js';
import { notify, type NotifyPayload } from '../payloads/notify.js';
import type { Proposal } from '../payloads/security-association.js';
import {
  checkSelectedProposal,
  ProposalError,
  proposalFromSpec,
  type ProposalSpec,
  type SelectedTransforms,
} from '../proposal.js';
import type { IkeEndpoint, IkeLogger } from '../transport.js';

/** The most COOKIE or INVALID_KE_PAYLOAD retries before giving up. */
const MAX_RETRIES = 3;
const NONCE_LENGTH = 32;

export interface IkeSaInitResult {
  sa: IkeSaState;
  /** The request and response bytes that AUTH signs (RFC 7296 section 2.15). */
  requestBytes: Uint8Array;
  responseBytes: Uint8Array;
  /** True when a NAT changed our address (local) or the gateway's (remote), section 2.23. */
  natLocal: boolean;
  natRemote: boolean;
  peerSignatureHashes: number[];
}

export interface IkeSaInitOptions {
  specs: ProposalSpec[];
  spiI: Uint8Array;
  local: IkeEndpoint;
  remote: IkeEndpoint;
  forceUdpEncapsulation: boolean;
  fragmentSize: number;
  logger: IkeLogger;
}

export class IkeSaInitTask {
  private group: number;
  private keyExchange: KeyExchange;
  private readonly nonceI: Uint8Array = new Uint8Array(randomBytes(NONCE_LENGTH));
  private cookie: Uint8Array | undefined;
  private retries = 0;
  private offered: Proposal[] = [];
  private lastRequest: Uint8Array = new Uint8Array(0);

  constructor(private readonly options: IkeSaInitOptions) {
    const first = options.specs[0]?.dhGroups[0];
    if (first === undefined) {
      throw new ProposalError('no IKE proposal with a DH group');
    }
    this.group = first;
    this.keyExchange = createKeyExchange(first);
  }

  buildRequest(): Uint8Array {
    const { spiI, specs } = this.options;
    this.offered = specs.map((spec, index) =>
      proposalFromSpec(spec, index + 1, new Uint8Array(0), {
        withDh: true,
        firstGroup: this.group,
      }),
    );
    const spiR = new Uint8Array(IKE_SPI_LENGTH);
    const payloads: PlainPayload[] = [];

    // RFC 7296 section 2.6: the cookie notify comes first.
    if (this.cookie !== undefined) {
      payloads.push(notify(NotifyType.COOKIE, this.cookie));
    }
    payloads.push(
      { type: 33, proposals: this.offered },
      { type: 34, group: this.group, data: this.keyExchange.publicValue },
      { type: 40, data: this.nonceI },
      notify(NotifyType.NAT_DETECTION_SOURCE_IP, this.sourceHash(spiR)),
      notify(NotifyType.NAT_DETECTION_DESTINATION_IP, natHash(spiI, spiR, this.options.remote)),
      notify(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED),
      notify(
        NotifyType.SIGNATURE_HASH_ALGORITHMS,
        concatBytes(
          uint16Bytes(SignatureHash.SHA2_256),
          uint16Bytes(SignatureHash.SHA2_384),
          uint16Bytes(SignatureHash.SHA2_512),
        ),
      ),
    );
    this.lastRequest = encodeMessage(
      {
        spiI,
        spiR,
        exchangeType: ExchangeType.IKE_SA_INIT,
        initiator: true,
        response: false,
        messageId: 0,
      },
      payloads,
    );
    return this.lastRequest;
  }

  private sourceHash(spiR: Uint8Array): Uint8Array {
    if (this.options.forceUdpEncapsulation) {
      // A hash that cannot match makes the gateway see a NAT in front of us (RFC 7296 section
      // 2.23 allows faking this), so both sides encapsulate ESP in UDP.
      return new Uint8Array(randomBytes(20));
    }
    return natHash(this.options.spiI, spiR, this.options.local);
  }

  /** Returns 'retry' when the request must be rebuilt and sent again, else the result. */
  processResponse(message: IkeMessage): 'retry' | IkeSaInitResult {
    const notifies = payloadsOfType(message.payloads, PayloadType.NOTIFY);
    const retry = this.checkRetryNotifies(notifies);
    if (retry) {
      return 'retry';
    }
    const error = notifies.find((n) => n.notifyType < NOTIFY_ERROR_LIMIT);
    if (error !== undefined) {
      throw notifyError('IKE_SA_INIT', error.notifyType);
    }

    const spiR = message.header.spiR;
    if (spiR.every((byte) => byte === 0)) {
      throw new IkeError('invalid-response', 'IKE_SA_INIT response has a zero responder SPI');
    }
    const [sa] = payloadsOfType(message.payloads, PayloadType.SA);
    const [ke] = payloadsOfType(message.payloads, PayloadType.KE);
    const [nonce] = payloadsOfType(message.payloads, PayloadType.NONCE);
    if (sa === undefined || ke === undefined || nonce === undefined) {
      throw new IkeError('invalid-response', 'IKE_SA_INIT response lacks SA, KE or Nonce');
    }
    const selected = this.checkProposal(sa.proposals);
    if (ke.group !== this.group || selected.dhGroup !== this.group) {
      throw new IkeError(
        'invalid-response',
        `the responder used DH group ${ke.group} and ` +
          `chose ${selected.dhGroup}, but our KE payload is for group ${this.group}`,
      );
    }

    const suite = suiteFromSelection(selected);
    const sharedSecret = this.computeSharedSecret(ke.data);
    const keys = this.deriveKeys(suite, nonce.data, sharedSecret, spiR);
    zeroize(sharedSecret);

    const has = (type: number) => notifies.some((n) => n.notifyType === type);
    const natLocal = !this.hashMatches(
      notifies,
      NotifyType.NAT_DETECTION_DESTINATION_IP,
      natHash(this.options.spiI, spiR, this.options.local),
    );
    const natRemote = !this.hashMatches(
      notifies,
      NotifyType.NAT_DETECTION_SOURCE_IP,
      natHash(this.options.spiI, spiR, this.options.remote),
    );
    const hashes = notifies.find((n) => n.notifyType === NotifyType.SIGNATURE_HASH_ALGORITHMS);
    const natSupported = has(NotifyType.NAT_DETECTION_SOURCE_IP);

    return {
      sa: new IkeSaState(
        this.options.spiI,
        spiR,
        suite,
        keys,
        this.nonceI,
        nonce.data,
        has(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED),
        this.options.fragmentSize,
      ),
      requestBytes: this.lastRequest,
      responseBytes: message.raw,
      natLocal: natSupported && (natLocal || this.options.forceUdpEncapsulation),
      natRemote: natSupported && natRemote,
      peerSignatureHashes: hashes === undefined ? [] : parseHashList(hashes.data),
    };
  }

  private checkRetryNotifies(notifies: NotifyPayload[]): boolean {
    const cookie = notifies.find((n) => n.notifyType === NotifyType.COOKIE);
    const invalidKe = notifies.find((n) => n.notifyType === NotifyType.INVALID_KE_PAYLOAD);
    if (cookie === undefined && invalidKe === undefined) {
      return false;
    }
    if (++this.retries > MAX_RETRIES) {
      throw new IkeError(
        'invalid-response',
        `IKE_SA_INIT still rejected after ${MAX_RETRIES} retries`,
      );
    }
    if (cookie !== undefined) {
      // RFC 7296 section 2.6: the cookie has 1 to 64 bytes.
      if (cookie.data.length < 1 || cookie.data.length > 64) {
        throw new IkeError('invalid-response', `COOKIE of ${cookie.data.length} bytes`);
      }
      this.cookie = cookie.data;
      this.options.logger.info('the gateway requested a cookie, retrying IKE_SA_INIT');
      return true;
    }
    const group =
      invalidKe!.data.length === 2 ? (invalidKe!.data[0]! << 8) | invalidKe!.data[1]! : -1;
    const offered = this.options.specs.some((spec) => spec.dhGroups.includes(group));
    // Section 1.2: retry with the group the responder names, if it is one that we offered.
    if (!offered || group === this.group) {
      throw new IkeError(
        'no-proposal-chosen',
        `the gateway requires DH group ${group}, which the profile does not offer`,
        NotifyType.INVALID_KE_PAYLOAD,
      );
    }
    this.options.logger.info(`the gateway requested DH group ${group}, retrying IKE_SA_INIT`);
    this.group = group;
    this.keyExchange = createKeyExchange(group);
    return true;
  }

  private checkProposal(proposals: Proposal[]): SelectedTransforms {
    try {
      return checkSelectedProposal(proposals, this.offered, 0);
    } catch (error) {
      if (error instanceof ProposalError) {
        throw new IkeError('invalid-response', `IKE_SA_INIT: ${error.message}`);
      }
      throw error;
    }
  }

  private computeSharedSecret(peerValue: Uint8Array): Uint8Array {
    try {
      return this.keyExchange.computeSharedSecret(peerValue);
    } catch (error) {
      if (error instanceof KeyExchangeError) {
        throw new IkeError('invalid-response', `IKE_SA_INIT: ${error.message}`);
      }
      throw error;
    }
  }

  private deriveKeys(suite: IkeSaSuite, nonceR: Uint8Array, secret: Uint8Array, spiR: Uint8Array) {
    const skeyseed = deriveSkeyseed(suite.prf, this.nonceI, nonceR, secret);
    const keys = deriveIkeSaKeys(
      suite.prf,
      skeyseed,
      this.nonceI,
      nonceR,
      this.options.spiI,
      spiR,
      {
        integrity: suite.integrity?.keyLength ?? 0,
        encryption: suite.encryptionKeyLength + suite.encryption.saltLength,
      },
    );
    zeroize(skeyseed);
    return keys;
  }

  private hashMatches(notifies: NotifyPayload[], type: number, expected: Uint8Array): boolean {
    const received = notifies.filter((n) => n.notifyType === type);
    // RFC 7296 section 2.23: there may be several source hashes; any match counts.
    return received.length === 0 || received.some((n) => bytesEqual(n.data, expected));
  }
}

/** SHA-1(SPIi | SPIr | IP address | port), RFC 7296 section 2.23. */
export function natHash(spiI: Uint8Array, spiR: Uint8Array, endpoint: IkeEndpoint): Uint8Array {
  return new Uint8Array(
    createHash('sha1')
      .update(spiI)
      .update(spiR)
      .update(endpoint.address)
      .update(uint16Bytes(endpoint.port))
      .digest(),
  );
}

function parseHashList(data: Uint8Array): number[] {
  const hashes: number[] = [];
  for (let i = 0; i + 1 < data.length; i += 2) {
    hashes.push((data[i]! << 8) | data[i + 1]!);
  }
  return hashes;
}

export function suiteFromSelection(selected: SelectedTransforms): IkeSaSuite {
  const encryption = SK_ENCRYPTIONS[selected.encryption.id];
  const prf = PRF_ALGORITHMS[selected.prf];
  const integrity = SK_INTEGRITIES[selected.integrity];
  if (encryption === undefined || prf === undefined) {
    throw new IkeError('invalid-response', 'the responder chose an unsupported IKE transform');
  }
  const keyLength = selected.encryption.keyBits / 8 || encryption.keyLengths[0]!;
  if (!encryption.keyLengths.includes(keyLength)) {
    throw new IkeError('invalid-response', `IKE encryption key length ${keyLength * 8} bits`);
  }
  if (encryption.kind === 'cbc' && integrity === undefined) {
    throw new IkeError('invalid-response', 'the responder chose CBC without integrity');
  }
  const suite: IkeSaSuite = {
    encryption,
    encryptionKeyLength: keyLength,
    prf,
    dhGroup: selected.dhGroup,
  };
  if (encryption.kind === 'cbc') {
    suite.integrity = integrity;
  }
  return suite;
}
