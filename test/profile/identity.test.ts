import assert from 'node:assert/strict';
import { test } from 'node:test';

import { IdentityError, parseIdentity } from '../../main/profile/identity.js';

// Types as strongSwan's identity parsing documentation describes them.
const CASES: Array<[string, string, string]> = [
  ['192.0.2.1', 'ID_IPV4_ADDR', '192.0.2.1'],
  ['2001:db8::1', 'ID_IPV6_ADDR', '2001:db8::1'],
  ['vpn.example.com', 'FQDN', 'vpn.example.com'],
  ['@vpn', 'FQDN', 'vpn'],
  ['alice@example.com', 'RFC822_ADDR', 'alice@example.com'],
  ['C=CH, O=strongSwan, CN=moon', 'DER_ASN1_DN', 'C=CH, O=strongSwan, CN=moon'],
  ['@#0a1b2c', 'KEY_ID', '0a1b2c'],
  ['email:bob', 'RFC822_ADDR', 'bob'],
  ['fqdn:bob@example.com', 'FQDN', 'bob@example.com'],
];

for (const [input, type, value] of CASES) {
  test(`identity infers ${input}`, () => {
    const identity = parseIdentity(input);
    assert.equal(identity.type, type);
    assert.equal(identity.value, value);
  });
}

test('identity rejects bad ipv4 prefix', () => {
  assert.throws(() => parseIdentity('ipv4:vpn.example.com'), IdentityError);
});

test('identity rejects odd key id', () => {
  assert.throws(() => parseIdentity('@#abc'), /even number of hex digits/);
});

test('identity rejects empty', () => {
  assert.throws(() => parseIdentity('  '), /identity is empty/);
});
