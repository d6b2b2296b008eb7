/**
 * The transforms that protect IKE messages (RFC 7296 section 3.3.2): encryption for the SK
 * payload and integrity for its ICV.
 */

import { EncryptionTransform, IntegrityTransform } from '../constants.js';
import type { HashName } from './prf.js';

export interface SkEncryption {
  readonly id: number;
  readonly kind: 'cbc' | 'aead';
  /** Cipher name for node:crypto, by key length in bytes. */
  cipherName(keyLength: number): string;
  readonly keyLengths: readonly number[];
  /** Salt length: the salt follows the key in the keying material (RFC 5282 7.1, RFC 7634 3). */
  readonly saltLength: number;
  readonly ivLength: number;
  readonly blockSize: number;
  /** AEAD tag length; for CBC the integrity transform sets the ICV. */
  readonly tagLength: number;
}

export interface SkIntegrity {
  readonly id: number;
  readonly hash: HashName;
  readonly keyLength: number;
  readonly icvLength: number;
}

export const SK_ENCRYPTIONS: Readonly<Record<number, SkEncryption>> = {
  [EncryptionTransform.ENCR_AES_CBC]: {
    id: 12,
    kind: 'cbc',
    cipherName: (length) => `aes-${length * 8}-cbc`,
    keyLengths: [16, 24, 32],
    saltLength: 0,
    ivLength: 16,
    blockSize: 16,
    tagLength: 0,
  },
  [EncryptionTransform.ENCR_AES_GCM_16]: {
    id: 20,
    kind: 'aead',
    cipherName: (length) => `aes-${length * 8}-gcm`,
    keyLengths: [16, 24, 32],
    saltLength: 4,
    ivLength: 8,
    blockSize: 4,
    tagLength: 16,
  },
  [EncryptionTransform.ENCR_CHACHA20_POLY1305]: {
    id: 28,
    kind: 'aead',
    cipherName: () => 'chacha20-poly1305',
    keyLengths: [32],
    saltLength: 4,
    ivLength: 8,
    blockSize: 4,
    tagLength: 16,
  },
};

export const SK_INTEGRITIES: Readonly<Record<number, SkIntegrity>> = {
  [IntegrityTransform.AUTH_HMAC_SHA1_96]: { id: 2, hash: 'sha1', keyLength: 20, icvLength: 12 },
  [IntegrityTransform.AUTH_HMAC_SHA2_256_128]: {
    id: 12,
    hash: 'sha256',
    keyLength: 32,
    icvLength: 16,
  },
  [IntegrityTransform.AUTH_HMAC_SHA2_384_192]: {
    id: 13,
    hash: 'sha384',
    keyLength: 48,
    icvLength: 24,
  },
  [IntegrityTransform.AUTH_HMAC_SHA2_512_256]: {
    id: 14,
    hash: 'sha512',
    keyLength: 64,
    icvLength: 32,
  },
};
