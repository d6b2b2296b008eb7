/**
 * CryptoProvider on @noble/ciphers and @noble/hashes (version 2), in pure TypeScript.
 * It runs wherever node:crypto lacks an algorithm, and it is the second, independent
 * implementation that the provider tests compare node:crypto against.
 */

import { createRequire } from 'node:module';

import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';

import type { HashName } from '../transforms.js';
import {
  AEAD_TAG_LENGTH,
  checkAeadKey,
  checkAesKey,
  checkCbcInput,
  checkHashName,
  checkNonce,
  checkOutputSpace,
  checkSealedLength,
  copyKey,
  liveKey,
} from './crypto-arguments.js';
import { DestroyedKeyError } from './crypto-errors.js';
import type {
  AeadAlgorithm,
  AeadCipher,
  CbcCipher,
  CryptoProvider,
  Hmac,
  ProviderName,
} from './provider.js';

type NobleAes = typeof import('@noble/ciphers/aes.js');

let nobleAes: NobleAes | undefined;

/**
 * Loads noble's AES on first use. Its module computes lookup tables when it loads, about 8 ms
 * of every start, and node:crypto has AES wherever Lupina runs, so most processes never need
 * it. The module is ECMAScript-only, so this synchronous load needs require() of ES modules,
 * which Node.js has from 20.19 (package.json "engines").
 */
function loadNobleAes(): NobleAes {
  nobleAes ??= createRequire(import.meta.url)('@noble/ciphers/aes.js') as NobleAes;
  return nobleAes;
}

type NobleHmacState = ReturnType<typeof hmac.create>;

const HASHES = { sha1, sha256, sha384, sha512 } as const;

/** Web Crypto getRandomValues fills at most 65536 bytes per call. */
const MAX_RANDOM_CHUNK = 65536;

/**
 * Recognizes the tag mismatch error of @noble/ciphers 2.x ("aes-gcm: invalid tag" and
 * "invalid tag" for ChaCha20-Poly1305). Both check the tag before they decrypt anything.
 */
function isTagMismatch(error: unknown): boolean {
  return error instanceof Error && error.message.endsWith('invalid tag');
}

class NobleAeadCipher implements AeadCipher {
  #key: Uint8Array | null;
  readonly #construct: NobleAes['gcm'] | typeof chacha20poly1305;

  constructor(algorithm: AeadAlgorithm, key: Uint8Array) {
    this.#construct = algorithm === 'aes-gcm' ? loadNobleAes().gcm : chacha20poly1305;
    this.#key = copyKey(key);
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    // @noble's gcm accepts any nonce length, so the 96-bit rule is enforced here.
    checkNonce(nonce);
    return this.#construct(liveKey(this.#key), nonce, aad).encrypt(plaintext);
  }

  sealInto(nonce: Uint8Array, aad: Uint8Array, parts: readonly Uint8Array[], output: Uint8Array, offset: number): number {
    const plaintext = parts.length === 1 ? parts[0]! : concatBytes(...parts);
    checkOutputSpace(output, offset, plaintext.length + AEAD_TAG_LENGTH);
    const sealed = this.seal(nonce, aad, plaintext);
    output.set(sealed, offset);
    return sealed.length;
  }

  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | null {
    checkNonce(nonce);
    checkSealedLength(sealed);
    const cipher = this.#construct(liveKey(this.#key), nonce, aad);

    try {
      return cipher.decrypt(sealed);
    } catch (error) {
      if (isTagMismatch(error)) {
        return null;
      }

      throw error;
    }
  }

  destroy(): void {
    this.#key?.fill(0);
    this.#key = null;
  }
}

class NobleCbcCipher implements CbcCipher {
  #key: Uint8Array | null;

  constructor(key: Uint8Array) {
    this.#key = copyKey(key);
  }

  encrypt(iv: Uint8Array, plaintext: Uint8Array): Uint8Array {
    checkCbcInput(iv, plaintext);
    return loadNobleAes().cbc(liveKey(this.#key), iv, { disablePadding: true }).encrypt(plaintext);
  }

  decrypt(iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    checkCbcInput(iv, ciphertext);
    return loadNobleAes().cbc(liveKey(this.#key), iv, { disablePadding: true }).decrypt(ciphertext);
  }

  destroy(): void {
    this.#key?.fill(0);
    this.#key = null;
  }
}

/**
 * Keeps the HMAC state after the key is absorbed, and clones it for each message, so the
 * key is hashed once per SA. The state, not a key copy, is what `destroy()` zeroes.
 */
class NobleHmac implements Hmac {
  #keyed: NobleHmacState | null;

  constructor(hash: HashName, key: Uint8Array) {
    this.#keyed = hmac.create(HASHES[hash], key);
  }

  compute(parts: readonly Uint8Array[]): Uint8Array {
    if (this.#keyed === null) {
      throw new DestroyedKeyError('Key already destroyed: create a new HMAC object for the SA');
    }

    const state = this.#keyed.clone();

    for (const part of parts) {
      state.update(part);
    }

    const mac = state.digest();
    state.destroy();
    return mac;
  }

  destroy(): void {
    this.#keyed?.destroy();
    this.#keyed = null;
  }
}

export class NobleCryptoProvider implements CryptoProvider {
  readonly name: ProviderName = 'noble';

  /** Always true: the algorithms are part of the package, not of the runtime. */
  supportsAead(_algorithm: AeadAlgorithm): boolean {
    return true;
  }

  createAead(algorithm: AeadAlgorithm, key: Uint8Array): AeadCipher {
    checkAeadKey(algorithm, key);
    return new NobleAeadCipher(algorithm, key);
  }

  createCbc(key: Uint8Array): CbcCipher {
    checkAesKey(key);
    return new NobleCbcCipher(key);
  }

  createHmac(hash: HashName, key: Uint8Array): Hmac {
    checkHashName(hash);
    return new NobleHmac(hash, key);
  }

  randomBytes(target: Uint8Array): Uint8Array {
    for (let offset = 0; offset < target.length; offset += MAX_RANDOM_CHUNK) {
      globalThis.crypto.getRandomValues(target.subarray(offset, offset + MAX_RANDOM_CHUNK));
    }

    return target;
  }
}

export const nobleProvider = new NobleCryptoProvider();
