import assert from 'node:assert/strict';
import { test } from 'node:test';

import { IssueLog } from '../../main/profile/import-result.js';
import { parseProposals } from '../../main/profile/proposal.js';

// Expected transforms follow strongSwan's documented proposal keywords and the IKEv2 registry.

test('proposal aes256gcm16 prfsha384 ecp384', () => {
  const log = new IssueLog();
  const [proposal, extra] = parseProposals('aes256gcm16-prfsha384-ecp384', 'ike', log, 'p');
  assert.equal(extra, undefined);
  assert.deepEqual(proposal?.encryption, [{ name: 'ENCR_AES_GCM_16', keyBits: 256 }]);
  assert.deepEqual(proposal?.integrity, []);
  assert.deepEqual(proposal?.prf, ['PRF_HMAC_SHA2_384']);
  assert.deepEqual(proposal?.keyExchange, ['ECP_384']);
  assert.equal(log.warnings.length, 0);
});

test('proposal derives prf from integrity', () => {
  const log = new IssueLog();
  const [proposal] = parseProposals('aes128-sha256-modp2048', 'ike', log, 'p');
  assert.deepEqual(proposal?.encryption, [{ name: 'ENCR_AES_CBC', keyBits: 128 }]);
  assert.deepEqual(proposal?.integrity, ['AUTH_HMAC_SHA2_256_128']);
  assert.deepEqual(proposal?.prf, ['PRF_HMAC_SHA2_256']);
  assert.deepEqual(proposal?.keyExchange, ['MODP_2048']);
});

test('proposal esp esn and noesn', () => {
  const log = new IssueLog();
  const [proposal] = parseProposals('aes256-sha512-esn-noesn', 'esp', log, 'p');
  assert.deepEqual(proposal?.esn, ['ESN', 'NO_ESN']);
  assert.deepEqual(proposal?.integrity, ['AUTH_HMAC_SHA2_512_256']);
  assert.deepEqual(proposal?.prf, []);
});

test('proposal splits aead and cbc', () => {
  const log = new IssueLog();
  const proposals = parseProposals('aes128gcm16-aes256-sha384-curve25519', 'esp', log, 'p');
  assert.equal(proposals.length, 2);
  assert.deepEqual(proposals[0]?.encryption, [{ name: 'ENCR_AES_GCM_16', keyBits: 128 }]);
  assert.deepEqual(proposals[0]?.integrity, []);
  assert.deepEqual(proposals[1]?.encryption, [{ name: 'ENCR_AES_CBC', keyBits: 256 }]);
  assert.deepEqual(proposals[1]?.integrity, ['AUTH_HMAC_SHA2_384_192']);
  assert.deepEqual(proposals[1]?.keyExchange, ['CURVE_25519']);
});

test('proposal drops weak algorithms', () => {
  const log = new IssueLog();
  const proposals = parseProposals('3des-md5-modp1024, aes256-sha256-modp1024-ecp256', 'ike', log, 'ike-proposal');
  assert.equal(proposals.length, 1);
  assert.deepEqual(proposals[0]?.keyExchange, ['ECP_256']);
  const messages = log.warnings.map((warning) => warning.message);
  assert.ok(messages.some((message) => message.includes('"3des"') && message.includes('weak')));
  assert.ok(messages.some((message) => message.includes('"md5"') && message.includes('weak')));
  assert.equal(messages.filter((message) => message.includes('"modp1024"')).length, 2);
  assert.ok(messages.some((message) => message.includes('"3des-md5-modp1024" has no usable encryption')));
  assert.ok(log.warnings.every((warning) => warning.path === 'ike-proposal'));
});

test('proposal ike without group dropped', () => {
  const log = new IssueLog();
  const proposals = parseProposals('aes256-sha256', 'ike', log, 'p');
  assert.equal(proposals.length, 0);
  assert.match(log.warnings[0]?.message ?? '', /needs a key exchange group/);
});

test('proposal aead ike needs prf', () => {
  const log = new IssueLog();
  assert.equal(parseProposals('aes256gcm16-ecp256', 'ike', log, 'p').length, 0);
  assert.match(log.warnings[0]?.message ?? '', /needs a PRF/);
});

test('proposal truncated gcm icv rejected', () => {
  const log = new IssueLog();
  assert.equal(parseProposals('aes128gcm8', 'esp', log, 'p').length, 0);
  assert.match(log.warnings[0]?.message ?? '', /16-byte ICV/);
});

test('proposal gmac and chacha', () => {
  const log = new IssueLog();
  const proposals = parseProposals('aes192gmac,chacha20poly1305', 'esp', log, 'p');
  assert.deepEqual(proposals[0]?.encryption, [{ name: 'ENCR_NULL_AUTH_AES_GMAC', keyBits: 192 }]);
  assert.deepEqual(proposals[1]?.encryption, [{ name: 'ENCR_CHACHA20_POLY1305', keyBits: 256 }]);
});

test('proposal unknown keyword warns', () => {
  const log = new IssueLog();
  parseProposals('aes256-sha256-frobnicate', 'esp', log, 'esp_proposals');
  assert.equal(log.warnings.length, 1);
  assert.match(log.warnings[0]?.message ?? '', /"frobnicate".*not a known/);
});
