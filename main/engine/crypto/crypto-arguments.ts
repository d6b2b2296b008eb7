/**
 * Length checks shared by both providers, so that they reject the same inputs with the same
 * errors before any byte reaches a cipher.
 */

import type { HashName } from '../transforms.js';
import { CryptoArgumentError, DestroyedKeyError } from './crypto-errors.js';
import type { AeadAlgorithm } from './provider.js';

/** Length of the AEAD nonce, which ESP builds from the salt and the 8-byte IV (RFC 4106, 7634). */
export const AEAD_NONCE_LENGTH = 12;

/** ICV length of the engine's AEAD transforms, ENCR_AES_GCM_16 and ChaCha20-Poly1305. */
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
    throw new CryptoArgumentError(
      `Invalid AEAD algorithm ${String(algorithm)}: expected aes-gcm or chacha20-poly1305`,
    );
  }

  if (key.length !== CHACHA20_KEY_LENGTH) {
    throw new CryptoArgumentError(
      `Invalid ChaCha20-Poly1305 key length ${key.length}: expected ${CHACHA20_KEY_LENGTH} bytes`,
    );
  }
}

export function checkAesKey(key: Uint8Array): void {
  if (!AES_KEY_LENGTHS.includes(key.length)) {
    throw new CryptoArgumentError(
      `Invalid AES key length ${key.length}: expected 16, 24 or 32 bytes`,
    );
  }
}

export function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== AEAD_NONCE_LENGTH) {
    throw new CryptoArgumentError(
      `Invalid AEAD nonce length ${nonce.length}: expected ${AEAD_NONCE_LENGTH} bytes`,
    );
  }
}

export function checkOutputSpace(output: Uint8Array, offset: number, length: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + length > output.length) {
    throw new CryptoArgumentError(
      `Output of ${output.length} bytes has no room for ${length} bytes at offset ${offset}`,
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

  // ESP pads the payload itself (RFC 3602, RFC 4303), so the cipher never pads.
  if (data.length % AES_BLOCK_LENGTH !== 0) {
    throw new CryptoArgumentError(
      `Invalid AES-CBC data length ${data.length}: expected a multiple of 16 bytes`,
    );
  }
}

export function checkHashName(hash: HashName): void {
  if (!HASH_NAMES.includes(hash)) {
    throw new CryptoArgumentError(`Invalid hash ${String(hash)}: expected one of ${HASH_NAMES}`);
  }
}

/** Returns a private copy of `key` that the owner zeroes in `destroy()`. */
export function copyKey(key: Uint8Array): Buffer {
  // A Buffer of its own, not a slice of Node's shared pool; node:crypto also takes a Buffer
  // key faster than a plain Uint8Array.
  const copy = Buffer.alloc(key.length);
  copy.set(key);
  return copy;
}

/** Returns the key, or throws when the owner was destroyed and the key zeroed. */
export function liveKey(key: Uint8Array | null): Uint8Array {
  if (key === null) {
    throw new DestroyedKeyError('Key already destroyed: create a new cipher object for the SA');
  }

  return key;
}
