/**
 * The cryptographic half of ESP for each kind of transform: how the IV is made, what the AAD or
 * the ICV input is, and how the payload is sealed and opened. `esp.ts` does the packet layout.
 *
 * - AEAD (AES-GCM, RFC 4106; ChaCha20-Poly1305, RFC 7634): nonce = salt || IV, AAD = SPI || sequence
 *   number (SPI || high || low with ESN), the ICV is the AEAD tag.
 * - GMAC (RFC 4543): the same nonce, nothing is encrypted, and the AAD covers the whole ESP
 *   header, IV and cleartext payload with its trailer.
 * - AES-CBC (RFC 3602) or NULL (RFC 2410), then an HMAC (RFC 2404, RFC 4868) over SPI, sequence
 *   number, IV and ciphertext, followed by the ESN high bits (RFC 4303 section 3.3.2.1).
 */

import { highBits, writeUint32 } from './bytes.js';
import type { AeadCipher, CbcCipher, CryptoProvider, Hmac } from './crypto/provider.js';
import { constantTimeEqual } from './crypto/index.js';
import {
  ENCRYPTION_ALGORITHMS, INTEGRITY_ALGORITHMS, type EncryptionAlgorithm, type IntegrityAlgorithm,
} from './transforms.js';
import type { SaConfig } from './sa-config.js';

export const ESP_HEADER_LENGTH = 8;
/** Pad Length and Next Header (RFC 4303 section 2). */
export const ESP_TRAILER_LENGTH = 2;
const AEAD_TAG_LENGTH = 16;

/** The ESP fields that the ICV or AAD covers, besides the payload. */
export interface EspSequence {
  spi: number;
  /** Full sequence number; the high 32 bits are used only with ESN. */
  seq: number;
  esn: boolean;
}

export interface EspSuite {
  readonly ivLength: number;
  readonly blockSize: number;
  readonly icvLength: number;
  /**
   * Fills `packet` after the ESP header at `espOffset`: IV, sealed payload and ICV. The payload
   * is the concatenation of `plaintext`: the data, then its padding and trailer.
   */
  seal(packet: Uint8Array, espOffset: number, sequence: EspSequence, plaintext: readonly Uint8Array[]): void;
  /**
   * Verifies the ICV of `esp` (ESP header to ICV end) and returns the plaintext payload with its
   * trailer, or null when the ICV does not verify.
   */
  open(esp: Uint8Array, sequence: EspSequence): Uint8Array | null;
  destroy(): void;
}

/** Writes the full sequence number as the 8-byte counter IV. It never repeats within an SA. */
function writeCounterIv(target: Uint8Array, offset: number, seq: number): void {
  writeUint32(target, offset, highBits(seq));
  writeUint32(target, offset + 4, seq >>> 0);
}

/**
 * Writes the AAD of RFC 4106 section 5 into `aad` (12 bytes): SPI and the 32-bit or 64-bit
 * sequence number. Returns the part in use.
 */
function writeAad(aad: Uint8Array, sequence: EspSequence): Uint8Array {
  writeUint32(aad, 0, sequence.spi);
  if (!sequence.esn) {
    writeUint32(aad, 4, sequence.seq >>> 0);
    return aad.subarray(0, 8);
  }
  writeUint32(aad, 4, highBits(sequence.seq));
  writeUint32(aad, 8, sequence.seq >>> 0);
  return aad;
}

/** Copies `parts` one after another into `target` at `offset` and returns the end offset. */
function copyParts(parts: readonly Uint8Array[], target: Uint8Array, offset: number): number {
  let position = offset;
  for (const part of parts) {
    target.set(part, position);
    position += part.length;
  }
  return position;
}

function buildNonce(salt: Uint8Array, iv: Uint8Array): Uint8Array {
  const nonce = new Uint8Array(12);
  nonce.set(salt, 0);
  nonce.set(iv, 4);
  return nonce;
}

class AeadSuite implements EspSuite {
  readonly ivLength = 8;
  readonly icvLength = AEAD_TAG_LENGTH;
  // Scratch buffers: sealing and opening are synchronous, so one packet uses them at a time.
  private readonly nonce = new Uint8Array(12);
  private readonly aad = new Uint8Array(12);

  constructor(
    private readonly cipher: AeadCipher,
    salt: Uint8Array,
    readonly blockSize: number,
  ) {
    this.nonce.set(salt, 0);
  }

  seal(packet: Uint8Array, espOffset: number, sequence: EspSequence, plaintext: readonly Uint8Array[]): void {
    const ivOffset = espOffset + ESP_HEADER_LENGTH;
    writeCounterIv(packet, ivOffset, sequence.seq);
    this.nonce.set(packet.subarray(ivOffset, ivOffset + 8), 4);
    this.cipher.sealInto(this.nonce, writeAad(this.aad, sequence), plaintext, packet, ivOffset + 8);
  }

  open(esp: Uint8Array, sequence: EspSequence): Uint8Array | null {
    const ivOffset = ESP_HEADER_LENGTH;
    this.nonce.set(esp.subarray(ivOffset, ivOffset + 8), 4);
    return this.cipher.open(this.nonce, writeAad(this.aad, sequence), esp.subarray(ivOffset + 8));
  }

  destroy(): void {
    this.cipher.destroy();
    this.nonce.fill(0);
  }
}

/** RFC 4543 section 3.5: AES-GMAC authenticates everything and encrypts nothing. */
class GmacSuite implements EspSuite {
  readonly ivLength = 8;
  readonly icvLength = AEAD_TAG_LENGTH;
  readonly blockSize = 4;
  private static readonly EMPTY = new Uint8Array(0);

  constructor(
    private readonly cipher: AeadCipher,
    private readonly salt: Uint8Array,
  ) {}

  seal(packet: Uint8Array, espOffset: number, sequence: EspSequence, plaintext: readonly Uint8Array[]): void {
    const ivOffset = espOffset + ESP_HEADER_LENGTH;
    writeCounterIv(packet, ivOffset, sequence.seq);
    const aadEnd = copyParts(plaintext, packet, ivOffset + 8);
    const aad = this.buildAad(packet.subarray(espOffset, aadEnd), sequence);
    const nonce = buildNonce(this.salt, packet.subarray(ivOffset, ivOffset + 8));
    const tag = this.cipher.seal(nonce, aad, GmacSuite.EMPTY);
    packet.set(tag, aadEnd);
  }

  open(esp: Uint8Array, sequence: EspSequence): Uint8Array | null {
    const tagOffset = esp.length - AEAD_TAG_LENGTH;
    const aad = this.buildAad(esp.subarray(0, tagOffset), sequence);
    const nonce = buildNonce(this.salt, esp.subarray(ESP_HEADER_LENGTH, ESP_HEADER_LENGTH + 8));
    const result = this.cipher.open(nonce, aad, esp.subarray(tagOffset));
    return result === null ? null : esp.subarray(ESP_HEADER_LENGTH + 8, tagOffset);
  }

  /**
   * RFC 4543 section 5 and RFC 4106 section 5: with ESN, the AAD is SPI, the high 32 bits, the low
   * 32 bits, then the rest of the ESP packet (IV and payload) up to the ICV.
   */
  private buildAad(espUntilIcv: Uint8Array, sequence: EspSequence): Uint8Array {
    if (!sequence.esn) {
      return espUntilIcv;
    }
    const aad = new Uint8Array(espUntilIcv.length + 4);
    aad.set(espUntilIcv.subarray(0, 4), 0);
    writeUint32(aad, 4, highBits(sequence.seq));
    aad.set(espUntilIcv.subarray(4), 8);
    return aad;
  }

  destroy(): void {
    this.cipher.destroy();
    this.salt.fill(0);
  }
}

/** AES-CBC with a random IV (RFC 3602 section 3), or NULL (RFC 2410), then a truncated HMAC. */
class EncryptThenMacSuite implements EspSuite {
  readonly ivLength: number;
  readonly blockSize: number;
  readonly icvLength: number;

  constructor(
    encryption: EncryptionAlgorithm,
    integrity: IntegrityAlgorithm,
    private readonly cbc: CbcCipher | null,
    private readonly hmac: Hmac,
    private readonly provider: CryptoProvider,
  ) {
    this.ivLength = encryption.ivLength;
    this.blockSize = encryption.blockSize;
    this.icvLength = integrity.icvLength;
  }

  seal(packet: Uint8Array, espOffset: number, sequence: EspSequence, plaintext: readonly Uint8Array[]): void {
    const ivOffset = espOffset + ESP_HEADER_LENGTH;
    const payloadOffset = ivOffset + this.ivLength;
    const icvOffset = copyParts(plaintext, packet, payloadOffset);
    if (this.cbc) {
      const iv = this.provider.randomBytes(packet.subarray(ivOffset, payloadOffset));
      packet.set(this.cbc.encrypt(iv, packet.subarray(payloadOffset, icvOffset)), payloadOffset);
    }

    const icv = this.computeIcv(packet.subarray(espOffset, icvOffset), sequence);
    packet.set(icv, icvOffset);
  }

  open(esp: Uint8Array, sequence: EspSequence): Uint8Array | null {
    const icvOffset = esp.length - this.icvLength;
    const expected = this.computeIcv(esp.subarray(0, icvOffset), sequence);
    if (!constantTimeEqual(expected, esp.subarray(icvOffset))) {
      return null;
    }

    const payload = esp.subarray(ESP_HEADER_LENGTH + this.ivLength, icvOffset);
    if (!this.cbc) {
      return payload;
    }
    const iv = esp.subarray(ESP_HEADER_LENGTH, ESP_HEADER_LENGTH + this.ivLength);
    return this.cbc.decrypt(iv, payload);
  }

  /** RFC 4303 section 3.3.2.1: with ESN, the high 32 bits follow the packet in the ICV input only. */
  private computeIcv(espUntilIcv: Uint8Array, sequence: EspSequence): Uint8Array {
    const parts = [espUntilIcv];
    if (sequence.esn) {
      const high = new Uint8Array(4);
      writeUint32(high, 0, highBits(sequence.seq));
      parts.push(high);
    }
    return this.hmac.compute(parts).subarray(0, this.icvLength);
  }

  destroy(): void {
    this.cbc?.destroy();
    this.hmac.destroy();
  }
}

/**
 * Creates the suite for an ESP SA. The key buffers are referenced, not copied, so zeroing them
 * when the SA is deleted also wipes the suite's keys.
 */
export function createEspSuite(config: SaConfig, provider: CryptoProvider): EspSuite {
  const encryption = config.encryption!;
  const algorithm = ENCRYPTION_ALGORITHMS[encryption.name];
  const keyLength = encryption.key.length - algorithm.saltLength;
  const key = encryption.key.subarray(0, keyLength);
  const salt = encryption.key.subarray(keyLength);

  switch (algorithm.kind) {
    case 'aead': {
      const aeadName = algorithm.name === 'ENCR_CHACHA20_POLY1305' ? 'chacha20-poly1305' : 'aes-gcm';
      return new AeadSuite(provider.createAead(aeadName, key), salt, algorithm.blockSize);
    }
    case 'gmac':
      return new GmacSuite(provider.createAead('aes-gcm', key), salt);
    case 'cbc':
    case 'null': {
      const integrity = INTEGRITY_ALGORITHMS[config.integrity!.name];
      const cbc = algorithm.kind === 'cbc' ? provider.createCbc(key) : null;
      const hmac = provider.createHmac(integrity.hash, config.integrity!.key);
      return new EncryptThenMacSuite(algorithm, integrity, cbc, hmac, provider);
    }
  }
}
