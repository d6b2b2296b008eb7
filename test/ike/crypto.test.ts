/**
 * IKE crypto: published vectors (RFC 5903 section 8, RFC 7748 sections 5.2 and 6.1, RFC 4231
 * for HMAC-SHA2), public value checks (RFC 6989), and prf+, key derivation and the SK payload
 * checked against Python's hmac and pyca/cryptography as independent implementations.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { getDiffieHellman } from 'node:crypto';
import { describe, it } from 'node:test';
import { fromHex, toHex } from '../../main/ike/bytes.js';
import {
  deriveChildSaKeys,
  deriveIkeSaKeys,
  deriveSkeyseed,
} from '../../main/ike/crypto/ike-keys.js';
import { SK_ENCRYPTIONS, SK_INTEGRITIES } from '../../main/ike/crypto/ike-transforms.js';
import {
  createKeyExchange,
  ecpWithPrivateKey,
  KeyExchangeError,
  x25519WithPrivateKey,
} from '../../main/ike/crypto/key-exchange.js';
import { PRF_ALGORITHMS, prf, prfPlus } from '../../main/ike/crypto/prf.js';
import { openEncryptedPayload, sealEncryptedMessage } from '../../main/ike/crypto/sk-payload.js';
import { parseMessage } from '../../main/ike/message.js';

const hasPython = spawnSync('/usr/bin/python3', ['-c', 'import cryptography']).status === 0;

function python(script: string, input: object): string {
  const result = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(input) });
  assert.equal(result.status, 0, result.stderr.toString());
  return result.stdout.toString().trim();
}

describe('ECP groups (RFC 5903 section 8)', () => {
  it('group 19 vector', () => {
    const i = fromHex('C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433');
    const gr = fromHex(
      'D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63' +
        '56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB',
    );
    const { publicValue, sharedSecret } = ecpWithPrivateKey(19, i, gr);
    assert.equal(
      toHex(publicValue),
      (
        'DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180' +
        '5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3'
      ).toLowerCase(),
    );
    assert.equal(
      toHex(sharedSecret),
      'd6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de',
    );
  });

  it('group 20 vector', () => {
    const i = fromHex(
      '099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655' +
        'E35B538041E649EE3FAEF896783AB194',
    );
    const gr = fromHex(
      'E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D' +
        '0D1AC43A0336DEF96FDA41D0774A3571DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416DD5F' +
        '0C68759DD1FFF83FA40142209DFF5EAAD96DB9E6386C',
    );
    const { publicValue, sharedSecret } = ecpWithPrivateKey(20, i, gr);
    assert.equal(
      toHex(publicValue),
      (
        '667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6' +
        'DE3AC808ACB4BDB4C88732AEE95F41AA' +
        '9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38E' +
        'EB9FCFF3C2C947DAE69B4C634573A81C'
      ).toLowerCase(),
    );
    assert.equal(
      toHex(sharedSecret),
      (
        '11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4' +
        'D603135569B9E9D09CF5D4A270F59746'
      ).toLowerCase(),
    );
  });

  it('rejects point off the curve', () => {
    const exchange = createKeyExchange(19);
    const peer = createKeyExchange(19).publicValue.slice();
    peer[63]! ^= 1;
    assert.throws(() => exchange.computeSharedSecret(peer), KeyExchangeError);
  });

  it('rejects wrong KE length', () => {
    const exchange = createKeyExchange(20);
    assert.throws(() => exchange.computeSharedSecret(new Uint8Array(64)), /expected 96/);
  });

  it('both sides agree', () => {
    const a = createKeyExchange(19);
    const b = createKeyExchange(19);
    assert.equal(
      toHex(a.computeSharedSecret(b.publicValue)),
      toHex(b.computeSharedSecret(a.publicValue)),
    );
  });
});

describe('X25519 (RFC 7748)', () => {
  it('section 5.2 vector', () => {
    const scalar = fromHex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4');
    const u = fromHex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c');
    assert.equal(
      toHex(x25519WithPrivateKey(scalar, u)),
      'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
    );
  });

  it('section 6.1 shared secret', () => {
    const alice = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bobPublic = fromHex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    assert.equal(
      toHex(x25519WithPrivateKey(alice, bobPublic)),
      '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
    );
  });

  it('rejects low-order point', () => {
    const exchange = createKeyExchange(31);
    assert.throws(() => exchange.computeSharedSecret(new Uint8Array(32)), KeyExchangeError);
  });

  it('both sides agree', () => {
    const a = createKeyExchange(31);
    const b = createKeyExchange(31);
    assert.equal(a.publicValue.length, 32);
    assert.equal(
      toHex(a.computeSharedSecret(b.publicValue)),
      toHex(b.computeSharedSecret(a.publicValue)),
    );
  });
});

describe('MODP groups (RFC 3526, RFC 6989)', () => {
  const prime = fromHex(getDiffieHellman('modp14').getPrime('hex'));

  it('rejects 1 and p-1', () => {
    const exchange = createKeyExchange(14);
    const one = new Uint8Array(256);
    one[255] = 1;
    const pMinusOne = prime.slice();
    pMinusOne[255]! -= 1;
    assert.throws(() => exchange.computeSharedSecret(one), /1 < y < p-1/);
    assert.throws(() => exchange.computeSharedSecret(pMinusOne), /1 < y < p-1/);
    assert.throws(() => exchange.computeSharedSecret(prime), /1 < y < p-1/);
  });

  it('group 15 sides agree', () => {
    const a = createKeyExchange(15);
    const b = createKeyExchange(15);
    assert.equal(a.publicValue.length, 384);
    const secret = a.computeSharedSecret(b.publicValue);
    assert.equal(secret.length, 384);
    assert.equal(toHex(secret), toHex(b.computeSharedSecret(a.publicValue)));
  });
});

describe('PRF (RFC 4868 via RFC 4231 vectors)', () => {
  // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
  const key = new TextEncoder().encode('Jefe');
  const data = new TextEncoder().encode('what do ya want for nothing?');

  it('HMAC-SHA-256 test case 2', () => {
    assert.equal(
      toHex(prf(PRF_ALGORITHMS[5]!, key, data)),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('HMAC-SHA-384 test case 2', () => {
    assert.equal(
      toHex(prf(PRF_ALGORITHMS[6]!, key, data)),
      'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e' +
        '8e2240ca5e69e2c78b3239ecfab21649',
    );
  });

  it('HMAC-SHA-512 test case 2', () => {
    assert.equal(
      toHex(prf(PRF_ALGORITHMS[7]!, key, data)),
      '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554' +
        '9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
    );
  });
});

const PYTHON_PRF_PLUS = `
import hmac, hashlib, json, sys
a = json.load(sys.stdin)
key, seed = bytes.fromhex(a['key']), bytes.fromhex(a['seed'])
out, t, n = b'', b'', 1
while len(out) < a['length']:
    t = hmac.new(key, t + seed + bytes([n]), a['hash']).digest()
    out += t
    n += 1
print(out[:a['length']].hex())
`;

describe('prf+ and key derivation', () => {
  it('prf+ matches Python hmac', () => {
    const key = fromHex('0f'.repeat(48));
    const seed = fromHex('a1b2c3'.repeat(30));
    for (const [id, hash] of [
      [5, 'sha256'],
      [6, 'sha384'],
      [7, 'sha512'],
    ] as const) {
      const ours = prfPlus(PRF_ALGORITHMS[id]!, key, seed, 250);
      const theirs = python(PYTHON_PRF_PLUS, {
        key: toHex(key),
        seed: toHex(seed),
        length: 250,
        hash,
      });
      assert.equal(toHex(ours), theirs, hash);
    }
  });

  it('prf+ refuses 256 blocks', () => {
    assert.throws(() =>
      prfPlus(PRF_ALGORITHMS[5]!, new Uint8Array(32), new Uint8Array(0), 256 * 32),
    );
  });

  it('IKE keys split in order', () => {
    const algorithm = PRF_ALGORITHMS[5]!;
    const ni = fromHex('01'.repeat(32));
    const nr = fromHex('02'.repeat(32));
    const spiI = fromHex('0102030405060708');
    const spiR = fromHex('1112131415161718');
    const secret = fromHex('03'.repeat(32));
    const skeyseed = deriveSkeyseed(algorithm, ni, nr, secret);
    // RFC 7296 section 2.14: SKEYSEED = prf(Ni | Nr, g^ir).
    assert.equal(toHex(skeyseed), toHex(prf(algorithm, new Uint8Array([...ni, ...nr]), secret)));
    const keys = deriveIkeSaKeys(algorithm, skeyseed, ni, nr, spiI, spiR, {
      integrity: 32,
      encryption: 16,
    });
    const stream = python(PYTHON_PRF_PLUS, {
      key: toHex(skeyseed),
      seed: toHex(new Uint8Array([...ni, ...nr, ...spiI, ...spiR])),
      length: 32 * 3 + 32 * 2 + 16 * 2,
      hash: 'sha256',
    });
    const expected = [32, 32, 32, 16, 16, 32, 32];
    const names = ['skD', 'skAi', 'skAr', 'skEi', 'skEr', 'skPi', 'skPr'] as const;
    let offset = 0;
    names.forEach((name, index) => {
      const length = expected[index]!;
      assert.equal(toHex(keys[name]), stream.slice(offset * 2, (offset + length) * 2), name);
      offset += length;
    });
  });

  it('KEYMAT with PFS prepends g^ir', () => {
    const algorithm = PRF_ALGORITHMS[6]!;
    const skD = fromHex('05'.repeat(48));
    const ni = fromHex('06'.repeat(32));
    const nr = fromHex('07'.repeat(32));
    const pfs = fromHex('08'.repeat(48));
    const keys = deriveChildSaKeys(algorithm, skD, ni, nr, { encryption: 20, integrity: 0 }, pfs);
    const stream = python(PYTHON_PRF_PLUS, {
      key: toHex(skD),
      seed: toHex(new Uint8Array([...pfs, ...ni, ...nr])),
      length: 40,
      hash: 'sha384',
    });
    assert.equal(toHex(keys.encryptionI), stream.slice(0, 40));
    assert.equal(toHex(keys.encryptionR), stream.slice(40, 80));
    assert.equal(keys.integrityI.length, 0);
  });
});

const PYTHON_OPEN = `
import json, sys, hmac, hashlib
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
a = json.load(sys.stdin)
msg, key = bytes.fromhex(a['message']), bytes.fromhex(a['key'])
body = 28 + 4
if a['kind'] == 'cbc':
    ikey = bytes.fromhex(a['integrityKey'])
    icv = msg[-16:]
    assert hmac.compare_digest(hmac.new(ikey, msg[:-16], hashlib.sha256).digest()[:16], icv)
    iv, ct = msg[body:body + 16], msg[body + 16:-16]
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    plain = d.update(ct) + d.finalize()
else:
    salt, iv = key[-4:], msg[body:body + 8]
    aead = AESGCM(key[:-4]) if a['kind'] == 'gcm' else ChaCha20Poly1305(key[:-4])
    plain = aead.decrypt(salt + iv, msg[body + 8:], msg[:body])
pad = plain[-1]
print(plain[:len(plain) - pad - 1].hex())
`;

describe('SK payload', { skip: hasPython ? false : 'needs python3-cryptography' }, () => {
  const fields = {
    spiI: fromHex('0102030405060708'),
    spiR: fromHex('1112131415161718'),
    exchangeType: 35,
    initiator: true,
    response: false,
    messageId: 1,
  };
  const plaintext = fromHex(
    '2900000c' + '01000000c0000201'.slice(0, 16) + '00000014' + '44'.repeat(16),
  );
  const cases = [
    { name: 'AES-GCM-16', kind: 'gcm', id: 20, key: fromHex('10'.repeat(32) + 'a1a2a3a4') },
    {
      name: 'ChaCha20-Poly1305',
      kind: 'chacha',
      id: 28,
      key: fromHex('20'.repeat(32) + 'b1b2b3b4'),
    },
    { name: 'AES-CBC HMAC-SHA-256', kind: 'cbc', id: 12, key: fromHex('30'.repeat(16)) },
  ];

  for (const testCase of cases) {
    it(`${testCase.name} opens in pyca`, () => {
      const keys = {
        encryption: SK_ENCRYPTIONS[testCase.id]!,
        encryptionKey: testCase.key,
        ...(testCase.kind === 'cbc'
          ? { integrity: SK_INTEGRITIES[12]!, integrityKey: fromHex('40'.repeat(32)) }
          : {}),
      };
      const sealed = sealEncryptedMessage(
        {
          fields,
          payloadType: 46,
          innerType: 35,
          extraHeader: new Uint8Array(0),
          plaintext,
        },
        keys,
      );
      const parsed = parseMessage(sealed);
      assert.equal(parsed.ok, true);
      const theirs = python(PYTHON_OPEN, {
        message: toHex(sealed),
        key: toHex(testCase.key),
        kind: testCase.kind,
        integrityKey: '40'.repeat(32),
      });
      assert.equal(theirs, toHex(plaintext));

      const opened = openEncryptedPayload(sealed, 32, keys);
      assert.equal(opened.ok, true);
      assert.equal(opened.ok && toHex(opened.plaintext), toHex(plaintext));

      const tampered = sealed.slice();
      tampered[tampered.length - 20]! ^= 0x01;
      const rejected = openEncryptedPayload(tampered, 32, keys);
      assert.equal(rejected.ok, false);
    });
  }

  it('header change fails ICV', () => {
    const keys = { encryption: SK_ENCRYPTIONS[20]!, encryptionKey: cases[0]!.key };
    const sealed = sealEncryptedMessage(
      {
        fields,
        payloadType: 46,
        innerType: 35,
        extraHeader: new Uint8Array(0),
        plaintext,
      },
      keys,
    );
    sealed[23] = 2; // Message ID
    const opened = openEncryptedPayload(sealed, 32, keys);
    assert.equal(opened.ok, false);
  });
});
