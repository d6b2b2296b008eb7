import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { importProfile } from '../../main/profile/import.js';
import { bytes, makeFixtures, passwordAnswers, pemToBase64, type Fixtures } from './fixtures.js';

const sample = (name: string) => new Uint8Array(readFileSync(new URL(`samples/${name}`, import.meta.url)));
let fixtures: Fixtures;
before(() => { fixtures = makeFixtures(); });
after(() => fixtures.cleanup());

function certProfile(p12: Uint8Array, extra: Record<string, unknown> = {}) {
  return bytes(JSON.stringify({
    uuid: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
    name: 'Cert office',
    type: 'ikev2-cert',
    remote: { addr: 'vpn.example.com', cert: pemToBase64(fixtures.caPem) },
    local: { id: 'alice@example.com', p12: Buffer.from(p12).toString('base64'), 'rsa-pss': true },
    ...extra,
  }));
}

test('sswan eap sample fields', async () => {
  const result = await importProfile(sample('eap-office.sswan'), { fileName: 'eap-office.sswan' });
  assert.equal(result.ok, true);
  if (!result.ok) return;
  const { profile } = result;
  assert.equal(result.format, 'sswan');
  assert.equal(profile.id, '6c5b2f0e-8d1a-4f3b-9a7e-2b4c6d8e0f12');
  assert.equal(profile.authentication?.method, 'eap-mschapv2');
  assert.equal(profile.authentication?.certificateRequests, false);
  assert.deepEqual(profile.authentication?.revocation, { ocsp: true, crl: false, strict: true });
  assert.deepEqual(profile.identities.eap, { type: 'RFC822_ADDR', value: 'alice@example.com' });
  assert.deepEqual(profile.gateway, { address: 'vpn.example.com', port: 500, preferIpv6: false });
  assert.deepEqual(profile.trafficSelectors.remote, ['198.51.100.0/24', '2001:db8:100::/48']);
  assert.deepEqual(profile.trafficSelectors.excluded, ['198.51.100.128/25']);
  assert.equal(profile.trafficSelectors.blockIpv6, true);
  assert.deepEqual(profile.dns.servers, ['192.0.2.53', '2001:db8::53']);
  assert.equal(profile.mtu, 1400);
  assert.equal(profile.natKeepaliveSeconds, 30);
  assert.deepEqual(profile.espProposals[0]?.keyExchange, ['ECP_384']);
});

test('sswan byod warns and drops', async () => {
  const result = await importProfile(sample('byod-legacy.sswan'));
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.equal(result.profile.gateway?.port, 4500);
  assert.equal(result.profile.ikeProposals.length, 1);
  const paths = result.warnings.map((warning) => warning.path);
  assert.ok(paths.includes('proxy'));
  assert.ok(paths.includes('type'));
  assert.ok(paths.includes('esp-proposal'));
});

test('sswan weak only fails', async () => {
  const result = await importProfile(sample('weak-only.sswan'));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'ike-proposal');
  assert.match(result.errors[0]?.message ?? '', /no usable IKE proposal/);
});

test('sswan modern p12 unpacked', async () => {
  const answers = passwordAnswers('modern-pw');
  const result = await importProfile(certProfile(fixtures.modernP12), { fileName: 'office.sswan', passwords: answers.callback });
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.equal(answers.requests.length, 1);
  assert.equal(answers.requests[0]?.kind, 'pkcs12');
  assert.match(answers.requests[0]?.label ?? '', /office\.sswan/);
  assert.match(answers.requests[0]?.label ?? '', /certificate password/);
  const profile = result.profile;
  assert.equal(profile.authentication?.rsaPss, true);
  assert.equal(new X509Certificate(profile.clientCertificate!).subject, 'CN=alice@example.com');
  const keyRef = profile.authentication?.privateKeyRef ?? '';
  const key = createPrivateKey({ key: Buffer.from(result.secrets[keyRef]!), format: 'der', type: 'pkcs8' });
  assert.ok(new X509Certificate(profile.clientCertificate!).checkPrivateKey(key));
  // remote.cert plus the CA bundled in the PKCS#12 file.
  assert.equal(profile.trustedCaCertificates.length, 2);
  assert.equal(new X509Certificate(profile.trustedCaCertificates[0]!).subject, 'O=Example Corp\nCN=Example Root CA');
  assert.ok(!JSON.stringify(profile).includes('modern-pw'));
});

test('sswan legacy rc2 p12 unpacked', async () => {
  const answers = passwordAnswers('legacy-pw');
  const result = await importProfile(certProfile(fixtures.legacyP12), { passwords: answers.callback });
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.equal(new X509Certificate(result.profile.clientCertificate!).subject, 'CN=alice@example.com');
});

test('sswan ec p12 unpacked', async () => {
  const result = await importProfile(certProfile(fixtures.ecP12), { passwords: passwordAnswers('ec-pw').callback });
  assert.equal(result.ok, true);
  if (!result.ok) return;
  const key = createPrivateKey({ key: Buffer.from(Object.values(result.secrets)[0]!), format: 'der', type: 'pkcs8' });
  assert.equal(key.asymmetricKeyType, 'ec');
});

test('sswan wrong password retries', async () => {
  const answers = passwordAnswers('nope', 'still-wrong', 'modern-pw');
  const result = await importProfile(certProfile(fixtures.modernP12), { passwords: answers.callback });
  assert.equal(result.ok, true);
  assert.deepEqual(answers.requests.map((request) => request.attempt), [1, 2, 3]);
});

test('sswan wrong password fails', async () => {
  const answers = passwordAnswers('a', 'b', 'c');
  const result = await importProfile(certProfile(fixtures.modernP12), { passwords: answers.callback });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'local.p12');
  assert.match(result.errors[0]?.message ?? '', /wrong password.*3 attempts/);
});

test('sswan p12 without key fails', async () => {
  const result = await importProfile(certProfile(fixtures.noKeyP12), { passwords: passwordAnswers('nokey-pw').callback });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'local.p12');
  assert.match(result.errors[0]?.message ?? '', /no private key/);
});

test('sswan missing password callback', async () => {
  const result = await importProfile(certProfile(fixtures.modernP12));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.match(result.errors[0]?.message ?? '', /protected by a password and none was given/);
});

test('sswan remote cert as der', async () => {
  const profile = bytes(JSON.stringify({
    uuid: 'b1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', type: 'ikev2-eap',
    remote: { addr: '198.51.100.7', cert: Buffer.from(fixtures.caDer).toString('base64') },
    local: { eap_id: 'x' },
  }));
  const result = await importProfile(profile);
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.equal(result.profile.name, '198.51.100.7');
  assert.equal(result.profile.trustedCaCertificates.length, 1);
});

test('sswan truncated json fails', async () => {
  const text = new TextDecoder().decode(sample('eap-office.sswan')).slice(0, 200);
  const result = await importProfile(bytes(text), { fileName: 'x.sswan' });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.match(result.errors[0]?.message ?? '', /not valid JSON.*truncated/);
});

test('sswan wrong types reported', async () => {
  const profile = bytes(JSON.stringify({
    uuid: 'c1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', type: 'ikev2-eap',
    remote: { addr: 'vpn.example.com', port: 'http', certreq: 'yes' }, mtu: 100000,
  }));
  const result = await importProfile(profile);
  assert.equal(result.ok, false);
  if (result.ok) return;
  const paths = result.errors.map((error) => error.path);
  assert.ok(paths.includes('remote.port'));
  assert.ok(paths.includes('remote.certreq'));
  assert.ok(paths.includes('mtu'));
});

test('sswan ikev1 type rejected', async () => {
  const profile = bytes(JSON.stringify({ type: 'ikev1-xauth-psk', remote: { addr: 'vpn.example.com' } }));
  const result = await importProfile(profile);
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'type');
  assert.match(result.errors[0]?.message ?? '', /only IKEv2 is supported/);
});

test('sswan prototype key rejected', async () => {
  const json = '{"type":"ikev2-eap","remote":{"addr":"vpn.example.com","__proto__":{"polluted":1}}}';
  const result = await importProfile(bytes(json));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'remote.__proto__');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
