/**
 * The keys and counters of an established IKE SA, seen from the initiator, and the sealing of
 * its messages into SK or SKF payloads (RFC 7296 section 3.14, RFC 7383 section 2.5).
 */

import { zeroize } from './bytes.js';
import { IKE_HEADER_LENGTH, PayloadType } from './constants.js';
import type { IkeSaKeys } from './crypto/ike-keys.js';
import { zeroizeIkeSaKeys } from './crypto/ike-keys.js';
import type { SkEncryption, SkIntegrity } from './crypto/ike-transforms.js';
import type { PrfAlgorithm } from './crypto/prf.js';
import { sealEncryptedMessage, type SkDirectionKeys } from './crypto/sk-payload.js';
import type { HeaderFields } from './message.js';
import { encodeSkfHeaderFields } from './payloads/encrypted.js';
import { encodePayloadChain, type PlainPayload } from './payloads/chain.js';

export interface IkeSaSuite {
  encryption: SkEncryption;
  /** Cipher key length in bytes, without the salt. */
  encryptionKeyLength: number;
  integrity?: SkIntegrity;
  prf: PrfAlgorithm;
  dhGroup: number;
}

/** RFC 7383 section 2.5.1 suggests 1280 bytes for IPv6 and at least 576 for IPv4. */
export const DEFAULT_FRAGMENT_SIZE = 1280;
/** The non-ESP marker that precedes IKE on port 4500 (RFC 3948 section 2.2). */
const NON_ESP_MARKER_LENGTH = 4;

export class IkeSaState {
  /** Message ID of our next request; IKE_SA_INIT used 0 (RFC 7296 section 2.2). */
  nextRequestId = 1;
  /** Message ID that the gateway's next request must carry. */
  nextPeerRequestId = 0;
  /** Our response to the gateway's last request, resent if the request repeats (section 2.1). */
  cachedResponse: { messageId: number; datagrams: Uint8Array[] } | undefined;
  deleted = false;

  constructor(
    readonly spiI: Uint8Array,
    readonly spiR: Uint8Array,
    readonly suite: IkeSaSuite,
    readonly keys: IkeSaKeys,
    readonly nonceI: Uint8Array,
    readonly nonceR: Uint8Array,
    readonly fragmentation: boolean,
    readonly fragmentSize = DEFAULT_FRAGMENT_SIZE,
  ) {}

  /** Keys for messages that we send: SK_ei and SK_ai, as the initiator. */
  outboundKeys(): SkDirectionKeys {
    return this.directionKeys(this.keys.skEi, this.keys.skAi);
  }

  inboundKeys(): SkDirectionKeys {
    return this.directionKeys(this.keys.skEr, this.keys.skAr);
  }

  private directionKeys(encryptionKey: Uint8Array, integrityKey: Uint8Array): SkDirectionKeys {
    const keys: SkDirectionKeys = { encryption: this.suite.encryption, encryptionKey };
    if (this.suite.integrity !== undefined) {
      keys.integrity = this.suite.integrity;
      keys.integrityKey = integrityKey;
    }
    return keys;
  }

  headerFields(exchangeType: number, messageId: number, response: boolean): HeaderFields {
    return { spiI: this.spiI, spiR: this.spiR, exchangeType, initiator: true, response, messageId };
  }

  /**
   * Seals a message; returns one datagram, or SKF fragments when fragmentation was negotiated
   * and the message would exceed the fragment size.
   */
  seal(
    exchangeType: number,
    messageId: number,
    response: boolean,
    payloads: PlainPayload[],
  ): Uint8Array[] {
    const fields = this.headerFields(exchangeType, messageId, response);
    const chain = encodePayloadChain(payloads);
    const whole = sealEncryptedMessage(
      {
        fields,
        payloadType: PayloadType.SK,
        innerType: chain.firstType,
        extraHeader: new Uint8Array(0),
        plaintext: chain.bytes,
      },
      this.outboundKeys(),
    );

    // RFC 7383 section 2.5.3: IKE_SA_INIT is never fragmented, and only oversize messages are.
    if (!this.fragmentation || whole.length + NON_ESP_MARKER_LENGTH <= this.fragmentSize) {
      return [whole];
    }
    return this.sealFragments(fields, chain.firstType, chain.bytes);
  }

  private sealFragments(
    fields: HeaderFields,
    firstType: number,
    plaintext: Uint8Array,
  ): Uint8Array[] {
    const { encryption } = this.suite;
    const icvLength =
      encryption.kind === 'aead' ? encryption.tagLength : (this.suite.integrity?.icvLength ?? 0);
    const overhead =
      NON_ESP_MARKER_LENGTH +
      IKE_HEADER_LENGTH +
      4 +
      4 +
      encryption.ivLength +
      icvLength +
      encryption.blockSize;
    const chunkSize = this.fragmentSize - overhead;
    const total = Math.ceil(plaintext.length / chunkSize);
    const datagrams: Uint8Array[] = [];

    for (let index = 0; index < total; index++) {
      const chunk = plaintext.subarray(index * chunkSize, (index + 1) * chunkSize);
      datagrams.push(
        sealEncryptedMessage(
          {
            fields,
            payloadType: PayloadType.SKF,
            innerType: index === 0 ? firstType : 0,
            extraHeader: encodeSkfHeaderFields(index + 1, total),
            plaintext: chunk,
          },
          this.outboundKeys(),
        ),
      );
    }
    return datagrams;
  }

  /** Zeroes every key and nonce; the SA cannot be used afterwards. */
  destroy(): void {
    this.deleted = true;
    zeroizeIkeSaKeys(this.keys);
    zeroize(this.nonceI, this.nonceR);
  }
}
