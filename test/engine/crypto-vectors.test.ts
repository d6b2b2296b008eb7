/**
 * Published test vectors, run against both crypto providers. The expected bytes come from
 * the RFCs and the GCM specification (see the "source" field of each file in test/vectors).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  CryptoArgumentError,
  DestroyedKeyError,
  nobleProvider,
  nodeProvider,
} from '../../main/engine/crypto/index.js';
import type { AeadCipher, CryptoProvider } from '../../main/engine/crypto/index.js';
import {
  fromHex,
  loadVectors,
  toHex,
  type CbcVector,
  type ChaChaVector,
  type EspAeadVector,
  type EspCbcVector,
  type GcmVector,
  type HmacVector,
  type Rfc4868File,
  type VectorFile,
} from './crypto-vector-files.js';

const rfc4231 = loadVectors<VectorFile<HmacVector>>('rfc4231-hmac-sha2.json');
const rfc2202 = loadVectors<VectorFile<HmacVector>>('rfc2202-hmac-sha1.json');
const rfc4868 = loadVectors<Rfc4868File>('rfc4868-hmac-sha2.json');
const rfc3602 = loadVectors<VectorFile<CbcVector>>('rfc3602-aes-cbc.json');
const rfc3602Esp = loadVectors<VectorFile<EspCbcVector>>('rfc3602-esp.json');
const gcmSpec = loadVectors<VectorFile<GcmVector>>('gcm-spec-aes-gcm.json');
const rfc8439 = loadVectors<VectorFile<ChaChaVector>>('rfc8439-chacha20-poly1305.json');
const rfc7634Esp = loadVectors<VectorFile<EspAeadVector>>('rfc7634-esp.json');
const gcmEsp = loadVectors<VectorFile<EspAeadVector>>('gcm-esp.json');

const HASH_OUTPUT_LENGTHS = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 } as const;

function computeMac(provider: CryptoProvider, vector: HmacVector): Uint8Array {
  const hmac = provider.createHmac(vector.hash, fromHex(vector.key));
  const mac = hmac.compute([fromHex(vector.data)]);
  hmac.destroy();
  return mac;
}

function withFlippedBit(bytes: Uint8Array, index: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

function gcmCipher(provider: CryptoProvider, vector: GcmVector): AeadCipher {
  return provider.createAead('aes-gcm', fromHex(vector.key));
}

function hmacSuite(provider: CryptoProvider): void {
  describe(`${provider.name} HMAC vectors`, () => {
    for (const vector of rfc4231.cases) {
      test(`RFC 4231 ${vector.name}`, () => {
        const mac = computeMac(provider, vector);
        assert.equal(mac.length, HASH_OUTPUT_LENGTHS[vector.hash]);
        assert.equal(toHex(mac.subarray(0, vector.mac.length / 2)), vector.mac);
      });
    }

    for (const vector of rfc2202.cases) {
      test(`RFC 2202 ${vector.name}`, () => {
        const mac = computeMac(provider, vector);
        assert.equal(toHex(mac), vector.mac);

        if (vector.mac96 !== undefined) {
          assert.equal(toHex(mac.subarray(0, 12)), vector.mac96);
        }
      });
    }

    for (const vector of rfc4868.prf) {
      test(`RFC 4868 ${vector.name}`, () => {
        assert.equal(toHex(computeMac(provider, vector)), vector.mac);
      });
    }

    for (const vector of rfc4868.auth) {
      test(`RFC 4868 ${vector.name}`, () => {
        const mac = computeMac(provider, vector);
        assert.equal(toHex(mac), vector.mac);
        assert.equal(toHex(mac.subarray(0, (vector.icv ?? '').length / 2)), vector.icv);
      });
    }

    test('HMAC over split parts', () => {
      const vector = rfc4231.cases.find((candidate) => candidate.name === 'Test Case 7 SHA512');
      assert.ok(vector);
      const data = fromHex(vector.data);
      const hmac = provider.createHmac('sha512', fromHex(vector.key));

      const empty = new Uint8Array(0);
      const parts = [data.subarray(0, 1), empty, data.subarray(1, 100), data.subarray(100)];
      assert.equal(toHex(hmac.compute(parts)), vector.mac);
      assert.equal(toHex(hmac.compute([data])), vector.mac);
    });

    test('HMAC after destroy throws', () => {
      const hmac = provider.createHmac('sha256', new Uint8Array(32));
      hmac.destroy();
      assert.throws(() => hmac.compute([new Uint8Array(1)]), DestroyedKeyError);
    });
  });
}

function cbcSuite(provider: CryptoProvider): void {
  describe(`${provider.name} AES-CBC vectors`, () => {
    for (const vector of rfc3602.cases) {
      test(`RFC 3602 ${vector.name}`, () => {
        const cbc = provider.createCbc(fromHex(vector.key));
        const iv = fromHex(vector.iv);

        assert.equal(toHex(cbc.encrypt(iv, fromHex(vector.plaintext))), vector.ciphertext);
        assert.equal(toHex(cbc.decrypt(iv, fromHex(vector.ciphertext))), vector.plaintext);
      });
    }

    for (const vector of rfc3602Esp.cases) {
      test(`RFC 3602 ESP ${vector.name} payload`, () => {
        const cbc = provider.createCbc(fromHex(vector.key));
        const iv = fromHex(vector.iv);

        assert.equal(toHex(cbc.decrypt(iv, fromHex(vector.encryptedData))), vector.preEncryption);
        assert.equal(toHex(cbc.encrypt(iv, fromHex(vector.preEncryption))), vector.encryptedData);
      });
    }

    test('CBC unaligned data throws', () => {
      const cbc = provider.createCbc(new Uint8Array(16));
      assert.throws(() => cbc.encrypt(new Uint8Array(16), new Uint8Array(17)), CryptoArgumentError);
      assert.throws(() => cbc.decrypt(new Uint8Array(16), new Uint8Array(15)), CryptoArgumentError);
    });

    test('CBC wrong IV length throws', () => {
      const cbc = provider.createCbc(new Uint8Array(16));
      assert.throws(() => cbc.encrypt(new Uint8Array(12), new Uint8Array(16)), CryptoArgumentError);
    });

    test('CBC wrong key length throws', () => {
      assert.throws(() => provider.createCbc(new Uint8Array(20)), CryptoArgumentError);
    });
  });
}

function gcmSuite(provider: CryptoProvider): void {
  const standardNonce = gcmSpec.cases.filter((vector) => vector.iv.length === 24);
  const otherNonce = gcmSpec.cases.filter((vector) => vector.iv.length !== 24);

  describe(`${provider.name} AES-GCM vectors`, () => {
    for (const vector of standardNonce) {
      test(`GCM spec ${vector.name} AES-${vector.keyBits}`, () => {
        const aead = gcmCipher(provider, vector);
        const nonce = fromHex(vector.iv);
        const aad = fromHex(vector.aad);

        const sealed = aead.seal(nonce, aad, fromHex(vector.plaintext));
        assert.equal(toHex(sealed), vector.ciphertext + vector.tag);

        const opened = aead.open(nonce, aad, fromHex(vector.ciphertext + vector.tag));
        assert.ok(opened);
        assert.equal(toHex(opened), vector.plaintext);
      });
    }

    for (const vector of otherNonce) {
      test(`GCM spec ${vector.name} nonce rejected`, () => {
        const aead = gcmCipher(provider, vector);
        const nonce = fromHex(vector.iv);
        const aad = fromHex(vector.aad);
        const sealed = fromHex(vector.ciphertext + vector.tag);

        assert.throws(() => aead.seal(nonce, aad, fromHex(vector.plaintext)), CryptoArgumentError);
        assert.throws(() => aead.open(nonce, aad, sealed), CryptoArgumentError);
      });
    }

    for (const vector of gcmEsp.cases) {
      test(`GCM ESP ${vector.name}`, () => {
        const aead = provider.createAead('aes-gcm', fromHex(vector.key));
        const nonce = fromHex(vector.nonce);
        const aad = fromHex(vector.aad);

        const sealed = aead.seal(nonce, aad, fromHex(vector.plaintext));
        assert.equal(toHex(sealed), vector.ciphertext + vector.icv);

        const opened = aead.open(nonce, aad, fromHex(vector.ciphertext + vector.icv));
        assert.ok(opened);
        assert.equal(toHex(opened), vector.plaintext);
      });
    }

    test('GCM wrong key length throws', () => {
      assert.throws(() => provider.createAead('aes-gcm', new Uint8Array(20)), CryptoArgumentError);
    });
  });
}

function chachaSuite(provider: CryptoProvider): void {
  describe(`${provider.name} ChaCha20-Poly1305 vectors`, () => {
    for (const vector of rfc8439.cases) {
      test(`RFC 8439 ${vector.name}`, () => {
        const aead = provider.createAead('chacha20-poly1305', fromHex(vector.key));
        const nonce = fromHex(vector.nonce);
        const aad = fromHex(vector.aad);

        const sealed = aead.seal(nonce, aad, fromHex(vector.plaintext));
        assert.equal(toHex(sealed), vector.ciphertext + vector.tag);

        const opened = aead.open(nonce, aad, fromHex(vector.ciphertext + vector.tag));
        assert.ok(opened);
        assert.equal(toHex(opened), vector.plaintext);
      });
    }

    for (const vector of rfc7634Esp.cases) {
      test(`RFC 7634 ${vector.name} ESP payload`, () => {
        const aead = provider.createAead('chacha20-poly1305', fromHex(vector.key));
        const nonce = fromHex(vector.nonce);
        const aad = fromHex(vector.aad);

        const sealed = aead.seal(nonce, aad, fromHex(vector.plaintext));
        assert.equal(toHex(sealed), vector.ciphertext + vector.icv);

        const opened = aead.open(nonce, aad, fromHex(vector.ciphertext + vector.icv));
        assert.ok(opened);
        assert.equal(toHex(opened), vector.plaintext);
      });
    }

    test('ChaCha20 wrong key length throws', () => {
      const key = new Uint8Array(16);
      assert.throws(() => provider.createAead('chacha20-poly1305', key), CryptoArgumentError);
    });
  });
}

function rejectionSuite(provider: CryptoProvider): void {
  const gcmVector = gcmSpec.cases.find((vector) => vector.name === 'Test Case 4');
  const chachaVector = rfc8439.cases[0];
  assert.ok(gcmVector);
  assert.ok(chachaVector);

  const cases = [
    { label: 'GCM', algorithm: 'aes-gcm', ...gcmVector, nonce: gcmVector.iv },
    { label: 'ChaCha20', algorithm: 'chacha20-poly1305', ...chachaVector },
  ] as const;

  describe(`${provider.name} AEAD rejection`, () => {
    for (const vector of cases) {
      const sealed = fromHex(vector.ciphertext + vector.tag);
      const nonce = fromHex(vector.nonce);
      const aad = fromHex(vector.aad);
      const open = (n: Uint8Array, a: Uint8Array, s: Uint8Array): Uint8Array | null =>
        provider.createAead(vector.algorithm, fromHex(vector.key)).open(n, a, s);

      test(`${vector.label} tag mismatch returns null`, () => {
        assert.equal(open(nonce, aad, withFlippedBit(sealed, sealed.length - 1)), null);
      });

      test(`${vector.label} altered ciphertext returns null`, () => {
        assert.equal(open(nonce, aad, withFlippedBit(sealed, 0)), null);
      });

      test(`${vector.label} altered AAD returns null`, () => {
        assert.equal(open(nonce, withFlippedBit(aad, 0), sealed), null);
      });

      test(`${vector.label} altered nonce returns null`, () => {
        assert.equal(open(withFlippedBit(nonce, 11), aad, sealed), null);
      });

      test(`${vector.label} truncated input returns null`, () => {
        assert.equal(open(nonce, aad, sealed.subarray(0, sealed.length - 1)), null);
      });

      test(`${vector.label} wrong nonce length throws`, () => {
        const aead = provider.createAead(vector.algorithm, fromHex(vector.key));
        for (const length of [0, 8, 11, 13, 16]) {
          const wrong = new Uint8Array(length);
          assert.throws(() => aead.seal(wrong, aad, new Uint8Array(4)), CryptoArgumentError);
          assert.throws(() => aead.open(wrong, aad, sealed), CryptoArgumentError);
        }
      });

      test(`${vector.label} sealed shorter than tag throws`, () => {
        const aead = provider.createAead(vector.algorithm, fromHex(vector.key));
        assert.throws(() => aead.open(nonce, aad, new Uint8Array(15)), CryptoArgumentError);
      });

      test(`${vector.label} after destroy throws`, () => {
        const aead = provider.createAead(vector.algorithm, fromHex(vector.key));
        aead.destroy();
        assert.throws(() => aead.seal(nonce, aad, new Uint8Array(4)), DestroyedKeyError);
        assert.throws(() => aead.open(nonce, aad, sealed), DestroyedKeyError);
      });
    }

    test('caller zeroing key keeps cipher', () => {
      const key = fromHex(chachaVector.key);
      const aead = provider.createAead('chacha20-poly1305', key);
      key.fill(0);

      const plaintext = fromHex(chachaVector.plaintext);
      const sealed = aead.seal(fromHex(chachaVector.nonce), fromHex(chachaVector.aad), plaintext);
      assert.equal(toHex(sealed), chachaVector.ciphertext + chachaVector.tag);
    });
  });
}

/** Runs the whole vector suite against one provider. Every provider must pass all of it. */
function vectorSuite(provider: CryptoProvider): void {
  hmacSuite(provider);
  cbcSuite(provider);
  gcmSuite(provider);
  chachaSuite(provider);
  rejectionSuite(provider);
}

for (const provider of [nodeProvider, nobleProvider]) {
  vectorSuite(provider);
}
