/**
 * The cipher and MAC primitives that ESP and AH need, behind one interface so that
 * `node:crypto` (fast, OpenSSL) and noble (portable, pure TypeScript) are interchangeable.
 *
 * Every object keeps a reference to the key bytes it was created with, or a copy that
 * `destroy()` zeroes. Callers zero their own key buffers when an SA is deleted.
 */

import type { HashName } from '../transforms.js';

export type ProviderName = 'node' | 'noble';

export type AeadAlgorithm = 'aes-gcm' | 'chacha20-poly1305';

/** An AEAD cipher with a 16-byte tag: AES-GCM (RFC 4106, 4543) or ChaCha20-Poly1305 (RFC 7634). */
export interface AeadCipher {
  /** Encrypts `plaintext` and returns the ciphertext followed by the 16-byte tag. */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /**
   * Encrypts the concatenation of `parts` into `output` at `offset`, followed by the 16-byte
   * tag, and returns the bytes written. Saves the copies of `seal` on the packet path.
   */
  sealInto(nonce: Uint8Array, aad: Uint8Array, parts: readonly Uint8Array[], output: Uint8Array, offset: number): number;
  /**
   * Verifies the tag at the end of `sealed` in constant time and returns the plaintext,
   * or null when the tag does not match. Throws only on wrong argument lengths.
   */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | null;
  destroy(): void;
}

/** AES in CBC mode without padding: the data length must be a multiple of 16 (RFC 3602). */
export interface CbcCipher {
  encrypt(iv: Uint8Array, plaintext: Uint8Array): Uint8Array;
  decrypt(iv: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  destroy(): void;
}

/** HMAC with a fixed key (RFC 2104). */
export interface Hmac {
  /** Returns the full, untruncated MAC of the concatenation of `parts`. */
  compute(parts: readonly Uint8Array[]): Uint8Array;
  destroy(): void;
}

export interface CryptoProvider {
  readonly name: ProviderName;
  /** False when the runtime lacks the algorithm, for example ChaCha20-Poly1305 in some BoringSSL builds. */
  supportsAead(algorithm: AeadAlgorithm): boolean;
  createAead(algorithm: AeadAlgorithm, key: Uint8Array): AeadCipher;
  createCbc(key: Uint8Array): CbcCipher;
  createHmac(hash: HashName, key: Uint8Array): Hmac;
  /** Fills `target` with cryptographically secure random bytes and returns it. */
  randomBytes(target: Uint8Array): Uint8Array;
}
