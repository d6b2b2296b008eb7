/**
 * Authentication pieces: RFC 7427 AlgorithmIdentifiers, signatures, the PSK AUTH value, and
 * the gateway certificate checks, with certificates made by pyca/cryptography.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { fromHex, toHex } from '../../main/ike/bytes.js';
import {
  CertificateError,
  checkCertificateIdentity,
  verifyCertificateChain,
} from '../../main/ike/auth/certificate-chain.js';
import { certificateSubjectDer } from '../../main/ike/auth/der.js';
import {
  createSignatureAuthData,
  SignatureError,
  verifySignatureAuthData,
} from '../../main/ike/auth/digital-signature.js';
import { pskAuthValue } from '../../main/ike/auth/signed-octets.js';
import {
  decodeAlgorithmIdentifier,
  encodeAlgorithmIdentifier,
} from '../../main/ike/auth/signature-algorithms.js';
import { PRF_ALGORITHMS } from '../../main/ike/crypto/prf.js';
import { parseIdentity } from '../../main/ike/identity.js';

const hasPython = spawnSync('/usr/bin/python3', ['-c', 'import cryptography']).status === 0;
const skip = hasPython ? false : 'needs python3-cryptography';

describe('RFC 7427 AlgorithmIdentifier', () => {
  // DER from RFC 7427 appendix A.
  it('encodes sha256WithRSAEncryption', () => {
    assert.equal(
      toHex(encodeAlgorithmIdentifier({ kind: 'rsa-pkcs1', hash: 'sha256' })),
      '300d06092a864886f70d01010b0500',
    );
  });

  it('encodes ecdsa-with-SHA384', () => {
    assert.equal(
      toHex(encodeAlgorithmIdentifier({ kind: 'ecdsa', hash: 'sha384' })),
      '300a06082a8648ce3d040303',
    );
  });

  it('decodes PSS parameters', () => {
    const der = encodeAlgorithmIdentifier({ kind: 'rsa-pss', hash: 'sha384', saltLength: 48 });
    assert.deepEqual(decodeAlgorithmIdentifier(der), {
      kind: 'rsa-pss',
      hash: 'sha384',
      saltLength: 48,
    });
  });

  it('rejects unknown and truncated', () => {
    assert.equal(decodeAlgorithmIdentifier(fromHex('300d06092a864886f70d0101050500')), undefined);
    assert.equal(decodeAlgorithmIdentifier(fromHex('300d06092a86')), undefined);
    assert.equal(decodeAlgorithmIdentifier(new Uint8Array(0)), undefined);
  });
});

describe('DER reader on random input', () => {
  it('returns undefined instead of throwing', () => {
    let state = 7;
    const next = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state >>> 24;
    };
    const valid = encodeAlgorithmIdentifier({ kind: 'rsa-pss', hash: 'sha256', saltLength: 32 });
    for (let i = 0; i < 20_000; i++) {
      const input =
        i % 2 === 0
          ? new Uint8Array(next() % 80).map(() => next())
          : valid.map((byte) => (next() < 8 ? next() : byte));
      assert.doesNotThrow(() => decodeAlgorithmIdentifier(input));
      assert.doesNotThrow(() => certificateSubjectDer(input));
    }
  });
});

describe('PSK AUTH value', () => {
  it('matches Python hmac', () => {
    const secret = new TextEncoder().encode('lupina');
    const octets = fromHex('aa'.repeat(100));
    const ours = pskAuthValue(PRF_ALGORITHMS[6]!, secret, octets);
    const script =
      'import hmac,hashlib\n' +
      'k=hmac.new(b"lupina",b"Key Pad for IKEv2",hashlib.sha384).digest()\n' +
      'print(hmac.new(k,bytes([0xaa])*100,hashlib.sha384).hexdigest())';
    const theirs = spawnSync('/usr/bin/python3', ['-c', script]).stdout.toString().trim();
    assert.equal(toHex(ours), theirs);
  });
});

const MAKE_CERTS = `
import datetime, json
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
now = datetime.datetime.now(datetime.timezone.utc)
day = datetime.timedelta(days=1)
def name(cn): return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'Lupina Test'),
                                x509.NameAttribute(NameOID.COMMON_NAME, cn)])
def cert(subject, key, issuer, issuer_key, ca, san=None, start=now - day, end=now + day):
    b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(start).not_valid_after(end)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san: b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return b.sign(issuer_key, hashes.SHA256())
pem = lambda c: c.public_bytes(serialization.Encoding.PEM).decode()
der = lambda c: c.public_bytes(serialization.Encoding.DER).hex()
ca_key = ec.generate_private_key(ec.SECP256R1())
int_key = ec.generate_private_key(ec.SECP256R1())
other_key = ec.generate_private_key(ec.SECP256R1())
leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ca = cert('Test CA', ca_key, 'Test CA', ca_key, True)
other = cert('Other CA', other_key, 'Other CA', other_key, True)
inter = cert('Intermediate', int_key, 'Test CA', ca_key, True)
san = [x509.DNSName('gw.example.org'), x509.RFC822Name('gw@example.org'),
       x509.IPAddress(__import__('ipaddress').ip_address('192.0.2.1'))]
leaf = cert('gw.example.org', leaf_key, 'Intermediate', int_key, False, san)
direct = cert('gw.example.org', leaf_key, 'Test CA', ca_key, False, san)
expired = cert('gw.example.org', leaf_key, 'Test CA', ca_key, False, san,
               now - 10 * day, now - 5 * day)
print(json.dumps({'ca': pem(ca), 'other': pem(other), 'inter': der(inter), 'leaf': der(leaf),
  'direct': der(direct), 'expired': der(expired),
  'leafKey': leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption()).decode(),
  'ecKey': ca_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption()).decode()}))
`;

interface Material {
  ca: string;
  other: string;
  inter: string;
  leaf: string;
  direct: string;
  expired: string;
  leafKey: string;
  ecKey: string;
}

describe('gateway certificate checks', { skip }, () => {
  let material: Material;
  const now = new Date();

  before(() => {
    const result = spawnSync('/usr/bin/python3', ['-c', MAKE_CERTS]);
    assert.equal(result.status, 0, result.stderr.toString());
    material = JSON.parse(result.stdout.toString()) as Material;
  });

  it('accepts chain through intermediate', () => {
    const leaf = verifyCertificateChain(
      [fromHex(material.leaf), fromHex(material.inter)],
      [new X509Certificate(material.ca)],
      now,
    );
    assert.match(leaf.subject, /CN=gw\.example\.org/);
  });

  it('rejects missing intermediate', () => {
    assert.throws(
      () =>
        verifyCertificateChain([fromHex(material.leaf)], [new X509Certificate(material.ca)], now),
      /no trusted CA issued/,
    );
  });

  it('rejects other CA', () => {
    assert.throws(
      () =>
        verifyCertificateChain(
          [fromHex(material.direct)],
          [new X509Certificate(material.other)],
          now,
        ),
      CertificateError,
    );
  });

  it('rejects expired certificate', () => {
    assert.throws(
      () =>
        verifyCertificateChain(
          [fromHex(material.expired)],
          [new X509Certificate(material.ca)],
          now,
        ),
      /valid only from/,
    );
  });

  it('rejects garbage certificate', () => {
    assert.throws(
      () =>
        verifyCertificateChain([fromHex('3003020101')], [new X509Certificate(material.ca)], now),
      /invalid gateway certificate/,
    );
  });

  it('matches identities to the certificate', () => {
    const leaf = new X509Certificate(fromHex(material.direct));
    checkCertificateIdentity(leaf, parseIdentity('gw.example.org'));
    checkCertificateIdentity(leaf, parseIdentity('gw@example.org'));
    checkCertificateIdentity(leaf, parseIdentity('192.0.2.1'));
    checkCertificateIdentity(leaf, {
      idType: 9,
      data: certificateSubjectDer(fromHex(material.direct))!,
    });
    assert.throws(
      () => checkCertificateIdentity(leaf, parseIdentity('other.example.org')),
      CertificateError,
    );
    assert.throws(
      () => checkCertificateIdentity(leaf, parseIdentity('192.0.2.2')),
      CertificateError,
    );
  });

  it('signatures verify and detect changes', () => {
    const octets = fromHex('5a'.repeat(64));
    const rsaKey = createPrivateKey(material.leafKey);
    const ecKey = createPrivateKey(material.ecKey);
    const schemes = [
      { key: rsaKey, scheme: { kind: 'rsa-pkcs1', hash: 'sha256' } as const },
      { key: rsaKey, scheme: { kind: 'rsa-pss', hash: 'sha256', saltLength: 32 } as const },
      { key: ecKey, scheme: { kind: 'ecdsa', hash: 'sha256' } as const },
    ];
    for (const { key, scheme } of schemes) {
      const data = createSignatureAuthData(key, scheme, octets);
      const publicKey = createPublicKey(key);
      assert.deepEqual(verifySignatureAuthData(publicKey, data, octets), scheme);
      const changed = octets.slice();
      changed[0]! ^= 1;
      assert.throws(() => verifySignatureAuthData(publicKey, data, changed), SignatureError);
    }
  });

  it('rejects algorithm that does not fit key', () => {
    const ecKey = createPrivateKey(material.ecKey);
    const data = createSignatureAuthData(ecKey, { kind: 'ecdsa', hash: 'sha256' }, fromHex('00'));
    const rsaPublic = createPublicKey(createPrivateKey(material.leafKey));
    assert.throws(() => verifySignatureAuthData(rsaPublic, data, fromHex('00')), /does not fit/);
  });
});
