/**
 * Cross-checks the two providers: node:crypto (OpenSSL) and noble are independent
 * implementations, so on random keys, nonces, AAD and lengths they must produce the same
 * bytes, and each must open what the other sealed. The generator has a fixed seed, so a
 * failure reproduces.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  constantTimeEqual,
  nobleProvider,
  nodeProvider,
  selectProvider,
} from '../../main/engine/crypto/index.js';
import type { AeadAlgorithm, CryptoProvider } from '../../main/engine/crypto/index.js';
import type { HashName } from '../../main/engine/transforms.js';
import { toHex } from './crypto-vector-files.js';

const SEED = 0x1f2e3d4c;
const RANDOM_CASES = 40;
const MAX_LENGTH = 2000;

/** Lengths around the AES block and the 64-byte ChaCha20 block, plus the maximum. */
const EDGE_LENGTHS = [0, 1, 15, 16, 17, 63, 64, 65, MAX_LENGTH];

const AEAD_KEYS: readonly { algorithm: AeadAlgorithm; keyLength: number }[] = [
  { algorithm: 'aes-gcm', keyLength: 16 },
  { algorithm: 'aes-gcm', keyLength: 24 },
  { algorithm: 'aes-gcm', keyLength: 32 },
  { algorithm: 'chacha20-poly1305', keyLength: 32 },
];

const HASHES: readonly HashName[] = ['sha1', 'sha256', 'sha384', 'sha512'];

/** Deterministic xorshift32 generator for test data. It is not a source of real keys. */
class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0 || 1;
  }

  nextUint32(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state;
  }

  /** Returns an integer in [0, maximum]. */
  integer(maximum: number): number {
    return this.nextUint32() % (maximum + 1);
  }

  bytes(length: number): Uint8Array {
    const bytes = new Uint8Array(length);

    for (let i = 0; i < length; i++) {
      bytes[i] = this.nextUint32() & 0xff;
    }

    return bytes;
  }
}

function flipRandomBit(random: SeededRandom, bytes: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const index = random.integer(copy.length - 1);
  copy[index] = (copy[index] ?? 0) ^ (1 << random.integer(7));
  return copy;
}

function splitIntoParts(random: SeededRandom, data: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let offset = 0;

  for (let count = random.integer(3); count > 0; count--) {
    const end = offset + random.integer(data.length - offset);
    parts.push(data.subarray(offset, end));
    offset = end;
  }

  parts.push(data.subarray(offset));
  return parts;
}

function aeadLengths(random: SeededRandom): number[] {
  const lengths = [...EDGE_LENGTHS];

  for (let i = 0; i < RANDOM_CASES; i++) {
    lengths.push(random.integer(MAX_LENGTH));
  }

  return lengths;
}

describe('AEAD node and noble agree', () => {
  for (const { algorithm, keyLength } of AEAD_KEYS) {
    test(`${algorithm} ${keyLength * 8}-bit key`, () => {
      const random = new SeededRandom(SEED + keyLength);

      for (const length of aeadLengths(random)) {
        const key = random.bytes(keyLength);
        const nonce = random.bytes(12);
        const aad = random.bytes(random.integer(24));
        const plaintext = random.bytes(length);
        const node = nodeProvider.createAead(algorithm, key);
        const noble = nobleProvider.createAead(algorithm, key);
        const context = `length ${length}, AAD length ${aad.length}`;

        const nodeSealed = node.seal(nonce, aad, plaintext);
        const nobleSealed = noble.seal(nonce, aad, plaintext);
        assert.equal(nodeSealed.length, length + 16, context);
        assert.equal(toHex(nodeSealed), toHex(nobleSealed), context);

        const openedByNode = node.open(nonce, aad, nobleSealed);
        const openedByNoble = noble.open(nonce, aad, nodeSealed);
        assert.ok(openedByNode, context);
        assert.ok(openedByNoble, context);
        assert.equal(toHex(openedByNode), toHex(plaintext), context);
        assert.equal(toHex(openedByNoble), toHex(plaintext), context);

        const tampered = flipRandomBit(random, nodeSealed);
        assert.equal(node.open(nonce, aad, tampered), null, context);
        assert.equal(noble.open(nonce, aad, tampered), null, context);
      }
    });
  }
});

describe('AES-CBC node and noble agree', () => {
  for (const keyLength of [16, 24, 32]) {
    test(`AES-CBC ${keyLength * 8}-bit key`, () => {
      const random = new SeededRandom(SEED ^ keyLength);
      const blockCounts = [0, 1, 2, MAX_LENGTH >> 4];

      for (let i = 0; i < RANDOM_CASES; i++) {
        blockCounts.push(random.integer(MAX_LENGTH >> 4));
      }

      for (const blocks of blockCounts) {
        const key = random.bytes(keyLength);
        const iv = random.bytes(16);
        const plaintext = random.bytes(blocks * 16);
        const node = nodeProvider.createCbc(key);
        const noble = nobleProvider.createCbc(key);
        const context = `${blocks} blocks`;

        const nodeCiphertext = node.encrypt(iv, plaintext);
        const nobleCiphertext = noble.encrypt(iv, plaintext);
        assert.equal(nodeCiphertext.length, plaintext.length, context);
        assert.equal(toHex(nodeCiphertext), toHex(nobleCiphertext), context);

        assert.equal(toHex(node.decrypt(iv, nobleCiphertext)), toHex(plaintext), context);
        assert.equal(toHex(noble.decrypt(iv, nodeCiphertext)), toHex(plaintext), context);
      }
    });
  }
});

describe('AES-CBC node keeps one context per SA', () => {
  // The node provider runs every packet of an SA through the same OpenSSL context, so each
  // call must still be plain CBC under its own IV, whatever the calls before it were.
  test('packet sequence on one cipher matches noble', () => {
    const random = new SeededRandom(SEED ^ 0xcbc);
    const key = random.bytes(16);
    const node = nodeProvider.createCbc(key);
    const noble = nobleProvider.createCbc(key);

    for (let i = 0; i < RANDOM_CASES * 3; i++) {
      const iv = random.bytes(16);
      const plaintext = random.bytes(random.integer(MAX_LENGTH >> 4) * 16);
      const context = `packet ${i}, ${plaintext.length} bytes`;

      const ciphertext = node.encrypt(iv, plaintext);
      assert.equal(toHex(ciphertext), toHex(noble.encrypt(iv, plaintext)), context);

      // As in an ESP packet: the IV directly before the ciphertext in one buffer.
      const packet = new Uint8Array(8 + 16 + ciphertext.length);
      packet.set(iv, 8);
      packet.set(ciphertext, 24);
      const adjacent = node.decrypt(packet.subarray(8, 24), packet.subarray(24));
      assert.equal(toHex(adjacent), toHex(plaintext), `${context}, IV before the ciphertext`);

      const apart = node.decrypt(new Uint8Array(iv), new Uint8Array(ciphertext));
      assert.equal(toHex(apart), toHex(plaintext), `${context}, IV in its own buffer`);
      assert.equal(toHex(packet.subarray(24)), toHex(ciphertext), `${context}, input left intact`);
    }
  });

  test('destroyed cipher rejects calls', () => {
    const node = nodeProvider.createCbc(new Uint8Array(16).fill(1));
    node.encrypt(new Uint8Array(16), new Uint8Array(32));
    node.destroy();
    assert.throws(() => node.encrypt(new Uint8Array(16), new Uint8Array(32)));
    assert.throws(() => node.decrypt(new Uint8Array(16), new Uint8Array(32)));
  });
});

describe('HMAC node and noble agree', () => {
  for (const hash of HASHES) {
    test(`HMAC ${hash}`, () => {
      const random = new SeededRandom(SEED + HASHES.indexOf(hash));

      for (let i = 0; i < RANDOM_CASES; i++) {
        // Keys up to 200 bytes cover the hashing of keys longer than the 64- or 128-byte block.
        const key = random.bytes(random.integer(200));
        const data = random.bytes(random.integer(MAX_LENGTH));
        const parts = splitIntoParts(random, data);
        const node = nodeProvider.createHmac(hash, key);
        const noble = nobleProvider.createHmac(hash, key);
        const context = `key length ${key.length}, data length ${data.length}`;

        const nodeMac = node.compute(parts);
        assert.equal(toHex(nodeMac), toHex(noble.compute(parts)), context);
        assert.equal(toHex(nodeMac), toHex(noble.compute([data])), context);
        assert.equal(toHex(nodeMac), toHex(node.compute([data])), context);
      }
    });
  }
});

describe('provider random bytes', () => {
  for (const provider of [nodeProvider, nobleProvider] as CryptoProvider[]) {
    test(`${provider.name} fills target in place`, () => {
      // 70000 bytes is more than one 65536-byte getRandomValues call.
      const buffer = new Uint8Array(70010);
      const target = buffer.subarray(5, 70005);

      assert.equal(provider.randomBytes(target), target);
      assert.ok(target.subarray(65536).some((byte) => byte !== 0));
      assert.ok(target.subarray(0, 4464).some((byte) => byte !== 0));
      assert.deepEqual([...buffer.subarray(0, 5)], [0, 0, 0, 0, 0]);
      assert.deepEqual([...buffer.subarray(70005)], [0, 0, 0, 0, 0]);
    });
  }
});

describe('provider selection', () => {
  test('node supports every AEAD here', () => {
    assert.equal(nodeProvider.supportsAead('aes-gcm'), true);
    assert.equal(nodeProvider.supportsAead('chacha20-poly1305'), true);
  });

  test('noble supports every AEAD', () => {
    assert.equal(nobleProvider.supportsAead('aes-gcm'), true);
    assert.equal(nobleProvider.supportsAead('chacha20-poly1305'), true);
  });

  test('selectProvider prefers node', () => {
    for (const algorithm of ['aes-gcm', 'chacha20-poly1305', 'aes-cbc', ...HASHES] as const) {
      assert.equal(selectProvider(algorithm).name, 'node', algorithm);
      assert.equal(selectProvider(algorithm, 'node').name, 'node', algorithm);
    }
  });

  test('selectProvider honours noble preference', () => {
    assert.equal(selectProvider('aes-gcm', 'noble').name, 'noble');
    assert.equal(selectProvider('sha256', 'noble').name, 'noble');
  });
});

describe('constantTimeEqual', () => {
  test('equal arrays', () => {
    assert.equal(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3)), true);
  });

  test('empty arrays', () => {
    assert.equal(constantTimeEqual(new Uint8Array(0), new Uint8Array(0)), true);
  });

  test('last byte differs', () => {
    assert.equal(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4)), false);
  });

  test('first byte differs', () => {
    assert.equal(constantTimeEqual(Uint8Array.of(0, 2, 3), Uint8Array.of(1, 2, 3)), false);
  });

  test('lengths differ', () => {
    assert.equal(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3)), false);
  });

  test('subarray views compare contents', () => {
    const backing = Uint8Array.of(9, 1, 2, 3, 9);
    assert.equal(constantTimeEqual(backing.subarray(1, 4), Uint8Array.of(1, 2, 3)), true);
  });
});
