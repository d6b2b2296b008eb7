/**
 * CryptoProvider on `node:crypto`: OpenSSL 3 in Node 20, BoringSSL in Electron.
 *
 * This is the per-packet hot path. Each AEAD and HMAC call creates one OpenSSL context, while
 * AES-CBC keeps one context per SA and direction (see NodeCbcCipher). Measured on a 2-core AMD
 * EPYC VM (Node 20.20.2, OpenSSL 3.0.19, best of 5 runs of a timing loop): AES-128-GCM seal
 * of 1400 bytes 5.5 µs, open 4.4 µs. Most of that is the JavaScript side of createCipheriv,
 * update and final, because `openssl speed` encrypts 1408 bytes there in about 0.7 µs.
 */

import {
  createCipheriv,
  createDecipheriv,
  createHmac as createNodeHmac,
  getHashes,
  randomFillSync,
} from 'node:crypto';

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
import { UnsupportedAlgorithmError } from './crypto-errors.js';
import type {
  AeadAlgorithm,
  AeadCipher,
  CbcCipher,
  CryptoProvider,
  Hmac,
  ProviderName,
} from './provider.js';

/** Algorithm names that `supports` and `selectProvider` accept: AEAD, AES-CBC or HMAC hash. */
export type ProviderAlgorithm = AeadAlgorithm | 'aes-cbc' | HashName;

type GcmName = 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm';
type AeadName = GcmName | 'chacha20-poly1305';

/**
 * The subset of Node's CipherGCM and CipherChaCha20Poly1305 that sealing uses. Node needs
 * `plaintextLength` only for CCM, but its typings require it for ChaCha20-Poly1305.
 */
interface AeadEncryption {
  setAAD(aad: Uint8Array, options: { plaintextLength: number }): unknown;
  update(data: Uint8Array): Buffer;
  final(): Buffer;
  getAuthTag(): Buffer;
}

/** The subset of Node's DecipherGCM and DecipherChaCha20Poly1305 that opening uses. */
interface AeadDecryption {
  setAAD(aad: Uint8Array, options: { plaintextLength: number }): unknown;
  setAuthTag(tag: Uint8Array): unknown;
  update(data: Uint8Array): Buffer;
  final(): Buffer;
}

/** The subset of Node's Cipher and Decipher that AES-CBC uses. */
interface BlockCipherRun {
  setAutoPadding(autoPadding: boolean): unknown;
  update(data: Uint8Array): Buffer;
  final(): Buffer;
}

const TAG_OPTIONS = { authTagLength: AEAD_TAG_LENGTH };

/** The AES block, and so the CBC IV, in bytes. */
const AES_BLOCK = 16;

/** Size of the pool that small random requests such as CBC IVs are served from. */
const RANDOM_POOL_BYTES = 4096;

const PROBE_NAMES: Readonly<Record<AeadAlgorithm | 'aes-cbc', readonly string[]>> = {
  'aes-gcm': ['aes-128-gcm', 'aes-192-gcm', 'aes-256-gcm'],
  'chacha20-poly1305': ['chacha20-poly1305'],
  'aes-cbc': ['aes-128-cbc', 'aes-192-cbc', 'aes-256-cbc'],
};

const PROBE_KEY_LENGTHS: Readonly<Record<string, number>> = {
  'aes-128-gcm': 16, 'aes-192-gcm': 24, 'aes-256-gcm': 32, 'chacha20-poly1305': 32,
  'aes-128-cbc': 16, 'aes-192-cbc': 24, 'aes-256-cbc': 32,
};

function aeadName(algorithm: AeadAlgorithm, keyLength: number): AeadName {
  if (algorithm === 'chacha20-poly1305') {
    return 'chacha20-poly1305';
  }

  if (keyLength === 16) {
    return 'aes-128-gcm';
  }

  return keyLength === 24 ? 'aes-192-gcm' : 'aes-256-gcm';
}

function cbcName(keyLength: number): string {
  return `aes-${keyLength * 8}-cbc`;
}

// The branches look alike, but each lets TypeScript pick the typed overload for its name.
function startEncryption(name: AeadName, key: Uint8Array, nonce: Uint8Array): AeadEncryption {
  if (name === 'chacha20-poly1305') {
    return createCipheriv(name, key, nonce, TAG_OPTIONS);
  }

  return createCipheriv(name, key, nonce, TAG_OPTIONS);
}

function startDecryption(name: AeadName, key: Uint8Array, nonce: Uint8Array): AeadDecryption {
  if (name === 'chacha20-poly1305') {
    return createDecipheriv(name, key, nonce, TAG_OPTIONS);
  }

  return createDecipheriv(name, key, nonce, TAG_OPTIONS);
}

/** Tries each cipher once instead of trusting getCiphers(): a listed name that fails is missing. */
function probeCiphers(names: readonly string[]): boolean {
  for (const name of names) {
    const keyLength = PROBE_KEY_LENGTHS[name] ?? 32;
    const ivLength = name.endsWith('-cbc') ? 16 : 12;

    try {
      createCipheriv(name, new Uint8Array(keyLength), new Uint8Array(ivLength)).final();
    } catch {
      return false;
    }
  }

  return true;
}

function probeHash(hash: HashName): boolean {
  if (!getHashes().includes(hash)) {
    return false;
  }

  try {
    createNodeHmac(hash, new Uint8Array(1)).digest();
    return true;
  } catch {
    return false;
  }
}

function totalLength(parts: readonly Uint8Array[]): number {
  let length = 0;
  for (const part of parts) {
    length += part.length;
  }
  return length;
}

class NodeAeadCipher implements AeadCipher {
  #key: Uint8Array | null;
  readonly #algorithm: AeadAlgorithm;

  constructor(algorithm: AeadAlgorithm, key: Uint8Array) {
    this.#algorithm = algorithm;
    this.#key = copyKey(key);
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    checkNonce(nonce);
    const key = liveKey(this.#key);

    const cipher = startEncryption(aeadName(this.#algorithm, key.length), key, nonce);
    cipher.setAAD(aad, { plaintextLength: plaintext.length });
    const ciphertext = cipher.update(plaintext);
    cipher.final();

    const tag = cipher.getAuthTag();
    return Buffer.concat([ciphertext, tag], ciphertext.length + AEAD_TAG_LENGTH);
  }

  sealInto(nonce: Uint8Array, aad: Uint8Array, parts: readonly Uint8Array[], output: Uint8Array, offset: number): number {
    checkNonce(nonce);
    const key = liveKey(this.#key);
    const plaintextLength = totalLength(parts);
    checkOutputSpace(output, offset, plaintextLength + AEAD_TAG_LENGTH);

    const cipher = startEncryption(aeadName(this.#algorithm, key.length), key, nonce);
    cipher.setAAD(aad, { plaintextLength });
    let position = offset;
    for (const part of parts) {
      const chunk = cipher.update(part);
      output.set(chunk, position);
      position += chunk.length;
    }
    const tail = cipher.final();
    output.set(tail, position);
    position += tail.length;

    output.set(cipher.getAuthTag(), position);
    return position + AEAD_TAG_LENGTH - offset;
  }

  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | null {
    checkNonce(nonce);
    checkSealedLength(sealed);
    const key = liveKey(this.#key);
    const tagOffset = sealed.length - AEAD_TAG_LENGTH;

    const decipher = startDecryption(aeadName(this.#algorithm, key.length), key, nonce);
    decipher.setAuthTag(sealed.subarray(tagOffset));
    decipher.setAAD(aad, { plaintextLength: tagOffset });
    const plaintext = decipher.update(sealed.subarray(0, tagOffset));

    // OpenSSL decrypts before it checks the tag, so on a mismatch the plaintext is wiped
    // and never returned. With the lengths checked above, final() throws only on a mismatch.
    try {
      decipher.final();
    } catch {
      plaintext.fill(0);
      return null;
    }

    return plaintext;
  }

  destroy(): void {
    this.#key?.fill(0);
    this.#key = null;
  }
}

/**
 * AES-CBC on one long-lived OpenSSL context per direction, so a packet costs one `update` call
 * instead of a new context with its key schedule. In a timing loop on the 2-vCPU benchmark VM
 * (docs/benchmarks.md) that took a 96-byte encryption from 2.5 µs to 0.9 µs.
 *
 * A CBC context left running after a call treats the last ciphertext block as the next IV.
 * - Encryption feeds `P1 xor IV xor S` as the first block, where S is that running state: the
 *   context computes `E(P1 xor IV)`, so the output is exactly CBC under the caller's IV.
 * - Decryption feeds the IV block first and drops its output: every block after it is then
 *   decrypted against the block before it, which is CBC decryption under that IV.
 */
class NodeCbcCipher implements CbcCipher {
  #key: Uint8Array | null;
  #encryption: BlockCipherRun | null = null;
  #decryption: BlockCipherRun | null = null;
  /** The last ciphertext block that the encryption context produced (its running IV). */
  readonly #state = new Uint8Array(AES_BLOCK);
  /** Plaintext staging for encryption, and IV-plus-ciphertext staging for decryption. */
  #scratch = Buffer.alloc(0);

  constructor(key: Uint8Array) {
    this.#key = copyKey(key);
  }

  encrypt(iv: Uint8Array, plaintext: Uint8Array): Uint8Array {
    checkCbcInput(iv, plaintext);
    const cipher = this.#encryption ?? this.#startEncryption();
    if (plaintext.length === 0) {
      return new Uint8Array(0);
    }

    const input = this.#staging(plaintext.length);
    input.set(plaintext);
    for (let i = 0; i < AES_BLOCK; i++) {
      input[i] = input[i]! ^ iv[i]! ^ this.#state[i]!;
    }
    const ciphertext = cipher.update(input);
    input.fill(0);

    this.#state.set(ciphertext.subarray(ciphertext.length - AES_BLOCK));
    return ciphertext;
  }

  decrypt(iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    checkCbcInput(iv, ciphertext);
    const decipher = this.#decryption ?? this.#startDecryption();
    if (ciphertext.length === 0) {
      return new Uint8Array(0);
    }

    // In ESP the IV sits right before the ciphertext, so the packet is fed without a copy.
    const adjacent = iv.buffer === ciphertext.buffer && iv.byteOffset + AES_BLOCK === ciphertext.byteOffset;
    let input: Uint8Array;
    if (adjacent) {
      input = new Uint8Array(iv.buffer, iv.byteOffset, AES_BLOCK + ciphertext.length);
    } else {
      input = this.#staging(AES_BLOCK + ciphertext.length);
      input.set(iv);
      input.set(ciphertext, AES_BLOCK);
    }

    const output = decipher.update(input);
    output.fill(0, 0, AES_BLOCK);
    return output.subarray(AES_BLOCK);
  }

  destroy(): void {
    // final() frees the OpenSSL contexts, and with them the key schedules.
    for (const context of [this.#encryption, this.#decryption]) {
      try {
        context?.final();
      } catch {
        // A context that cannot finish is released by the garbage collector.
      }
    }
    this.#encryption = null;
    this.#decryption = null;
    this.#state.fill(0);
    this.#scratch.fill(0);
    this.#key?.fill(0);
    this.#key = null;
  }

  #startEncryption(): BlockCipherRun {
    const key = liveKey(this.#key);
    const cipher = createCipheriv(cbcName(key.length), key, this.#state);
    cipher.setAutoPadding(false);
    this.#encryption = cipher;
    return cipher;
  }

  #startDecryption(): BlockCipherRun {
    const key = liveKey(this.#key);
    const decipher = createDecipheriv(cbcName(key.length), key, new Uint8Array(AES_BLOCK));
    decipher.setAutoPadding(false);
    this.#decryption = decipher;
    return decipher;
  }

  /** Returns `length` bytes of the staging buffer, growing it to the largest packet seen. */
  #staging(length: number): Buffer {
    if (this.#scratch.length < length) {
      this.#scratch.fill(0);
      this.#scratch = Buffer.alloc(Math.max(length, 2048));
    }
    return this.#scratch.subarray(0, length);
  }
}

class NodeHmac implements Hmac {
  #key: Uint8Array | null;
  readonly #hash: HashName;

  constructor(hash: HashName, key: Uint8Array) {
    this.#hash = hash;
    this.#key = copyKey(key);
  }

  compute(parts: readonly Uint8Array[]): Uint8Array {
    const hmac = createNodeHmac(this.#hash, liveKey(this.#key));

    for (const part of parts) {
      hmac.update(part);
    }

    return hmac.digest();
  }

  destroy(): void {
    this.#key?.fill(0);
    this.#key = null;
  }
}

export class NodeCryptoProvider implements CryptoProvider {
  readonly name: ProviderName = 'node';
  readonly #randomPool = new Uint8Array(RANDOM_POOL_BYTES);
  #randomOffset = RANDOM_POOL_BYTES;
  readonly #support = new Map<ProviderAlgorithm, boolean>();

  /** Probes the runtime once per algorithm and caches the result. */
  supports(algorithm: ProviderAlgorithm): boolean {
    let supported = this.#support.get(algorithm);

    if (supported === undefined) {
      supported = algorithm in PROBE_NAMES
        ? probeCiphers(PROBE_NAMES[algorithm as keyof typeof PROBE_NAMES])
        : probeHash(algorithm as HashName);
      this.#support.set(algorithm, supported);
    }

    return supported;
  }

  supportsAead(algorithm: AeadAlgorithm): boolean {
    return this.supports(algorithm);
  }

  createAead(algorithm: AeadAlgorithm, key: Uint8Array): AeadCipher {
    checkAeadKey(algorithm, key);
    this.#requireSupport(algorithm);
    return new NodeAeadCipher(algorithm, key);
  }

  createCbc(key: Uint8Array): CbcCipher {
    checkAesKey(key);
    this.#requireSupport('aes-cbc');
    return new NodeCbcCipher(key);
  }

  createHmac(hash: HashName, key: Uint8Array): Hmac {
    checkHashName(hash);
    this.#requireSupport(hash);
    return new NodeHmac(hash, key);
  }

  /**
   * Fills `target` from a pool that one `randomFillSync` call refills: a call per 16-byte CBC
   * IV costs about twenty times more than copying from the pool. Bytes are never handed out twice.
   */
  randomBytes(target: Uint8Array): Uint8Array {
    if (target.length > RANDOM_POOL_BYTES) {
      return randomFillSync(target);
    }
    if (this.#randomOffset + target.length > RANDOM_POOL_BYTES) {
      randomFillSync(this.#randomPool);
      this.#randomOffset = 0;
    }
    target.set(this.#randomPool.subarray(this.#randomOffset, this.#randomOffset + target.length));
    // The bytes handed out are wiped from the pool, so no later reader of memory finds them.
    this.#randomPool.fill(0, this.#randomOffset, this.#randomOffset + target.length);
    this.#randomOffset += target.length;
    return target;
  }

  #requireSupport(algorithm: ProviderAlgorithm): void {
    if (!this.supports(algorithm)) {
      throw new UnsupportedAlgorithmError(
        `node:crypto in this runtime lacks ${algorithm}: use the noble provider`,
      );
    }
  }
}

export const nodeProvider = new NodeCryptoProvider();
