/**
 * Length checks shared by both providers, so that they reject the same inputs with the same
 * errors before any byte reaches a cipher.
 */

import type { HashName } from '../transforms.js';
import { CryptoArgumentError, DestroyedKeyError } from './crypto-errors.js';
import type { AeadAlgorithm } from './provider.js';

/** The 96-bit AEAD nonce: salt and IV for ESP (RFC 4106 section 4, RFC 7634 section 2). */
export const AEAD_NONCE_LENGTH = 12;

/** Every AEAD transform that the engine runs has a 16-byte ICV (RFC 4106 section 6). */
export const AEAD_TAG_LENGTH = 16;

export const AES_BLOCK_LENGTH = 16;

const AES_KEY_LENGTHS: readonly number[] = [16, 24, 32];
const CHACHA20_KEY_LENGTH = 32;
const HASH_NAMES: readonly string[] = ['sha1', 'sha256', 'sha384', 'sha512'];

export function checkAeadKey(algorithm: AeadAlgorithm, key: Uint8Array): void {
  if (algorithm === 'aes-gcm') {
    checkAesKey(key);
    return;
  }

  if (algorithm !== 'chacha20-poly1305') {
    throw new CryptoArgumentError(`Unknown AEAD algorithm ${String(algorithm)}`);
  }

  if (key.length !== CHACHA20_KEY_LENGTH) {
    throw new CryptoArgumentError(
      `Invalid ChaCha20-Poly1305 key length ${key.length}: expected ${CHACHA20_KEY_LENGTH} bytes`,
    );
  }
}

export function checkAesKey(key: Uint8Array): void {
  if (!AES_KEY_LENGTHS.includes(key.length)) {
    throw new CryptoArgumentError(`Invalid AES key length ${key.length}: expected 16, 24 or 32 bytes`);
  }
}

export function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== AEAD_NONCE_LENGTH) {
    throw new CryptoArgumentError(
      `Invalid AEAD nonce length ${nonce.length}: expected ${AEAD_NONCE_LENGTH} bytes`,
    );
  }
}

export function checkSealedLength(sealed: Uint8Array): void {
  if (sealed.length < AEAD_TAG_LENGTH) {
    throw new CryptoArgumentError(
      `Sealed data of ${sealed.length} bytes is shorter than the ${AEAD_TAG_LENGTH}-byte tag`,
    );
  }
}

export function checkCbcInput(iv: Uint8Array, data: Uint8Array): void {
  if (iv.length !== AES_BLOCK_LENGTH) {
    throw new CryptoArgumentError(`Invalid AES-CBC IV length ${iv.length}: expected 16 bytes`);
  }

  // RFC 3602 section 2.4: ESP pads the payload itself, so the cipher never pads.
  if (data.length % AES_BLOCK_LENGTH !== 0) {
    throw new CryptoArgumentError(
      `Invalid AES-CBC data length ${data.length}: expected a multiple of 16 bytes`,
    );
  }
}

export function checkHashName(hash: HashName): void {
  if (!HASH_NAMES.includes(hash)) {
    throw new CryptoArgumentError(`Unknown hash ${String(hash)}: expected one of ${HASH_NAMES}`);
  }
}

/** Returns a private copy of `key` that the owner zeroes in `destroy()`. */
export function copyKey(key: Uint8Array): Uint8Array {
  return new Uint8Array(key);
}

/** Returns the key, or throws when the owner was destroyed and the key zeroed. */
export function liveKey(key: Uint8Array | null): Uint8Array {
  if (key === null) {
    throw new DestroyedKeyError('The key was destroyed; create a new cipher for the SA');
  }

  return key;
}
