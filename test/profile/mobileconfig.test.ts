import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { importProfile } from '../../main/profile/import.js';
import { bytes, makeFixtures, passwordAnswers, pemToBase64, signWithCa, text, type Fixtures } from './fixtures.js';

const sample = (name: string) => new Uint8Array(readFileSync(new URL(`samples/${name}`, import.meta.url)));
let fixtures: Fixtures;
before(() => { fixtures = makeFixtures(); });
after(() => fixtures.cleanup());

function certificateProfile(p12: Uint8Array, password?: string): string {
  const passwordKey = password === undefined ? '' : `<key>Password</key><string>${password}</string>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>PayloadContent</key><array>
 <dict>
  <key>PayloadType</key><string>com.apple.vpn.managed</string>
  <key>UserDefinedName</key><string>Cert VPN</string>
  <key>VPNType</key><string>IKEv2</string>
  <key>IKEv2</key><dict>
   <key>RemoteAddress</key><string>203.0.113.5</string>
   <key>RemoteIdentifier</key><string>vpn.example.com</string>
   <key>LocalIdentifier</key><string>alice@example.com</string>
   <key>AuthenticationMethod</key><string>Certificate</string>
   <key>ExtendedAuthEnabled</key><true/>
   <key>AuthName</key><string>alice</string>
   <key>AuthPassword</key><string>eap-secret</string>
   <key>PayloadCertificateUUID</key><string>11111111-2222-4333-8444-555555555555</string>
   <key>ServerCertificateIssuerCommonName</key><string>Example Root CA</string>
   <key>DeadPeerDetectionRate</key><string>Low</string>
  </dict>
 </dict>
 <dict>
  <key>PayloadType</key><string>com.apple.security.pkcs12</string>
  <key>PayloadUUID</key><string>11111111-2222-4333-8444-555555555555</string>
  <key>PayloadDisplayName</key><string>alice.p12</string>
  ${passwordKey}
  <key>PayloadContent</key><data>${Buffer.from(p12).toString('base64')}</data>
 </dict>
 <dict>
  <key>PayloadType</key><string>com.apple.security.root</string>
  <key>PayloadContent</key><data>
${pemToBase64(fixtures.caPem)}
  </data>
 </dict>
</array>
</dict></plist>`;
}

test('mobileconfig psk sample fields', async () => {
  const result = await importProfile(sample('psk-eap.mobileconfig'), { fileName: 'office.mobileconfig' });
  assert.equal(result.ok, true);
  if (!result.ok) return;
  const { profile, secrets } = result;
  assert.equal(result.format, 'mobileconfig');
  assert.equal(profile.name, 'Office & Lab');
  assert.equal(profile.authentication?.method, 'psk');
  assert.equal(profile.authentication?.remoteMethod, 'psk');
  assert.equal(text(secrets[profile.authentication?.pskRef ?? '']), 'correct horse battery staple');
  assert.equal(profile.dpdSeconds, 60);
  assert.equal(profile.mtu, 1380);
  assert.deepEqual(profile.ikeProposals[0]?.encryption, [{ name: 'ENCR_AES_GCM_16', keyBits: 256 }]);
  assert.deepEqual(profile.ikeProposals[0]?.prf, ['PRF_HMAC_SHA2_384']);
  assert.deepEqual(profile.ikeProposals[0]?.keyExchange, ['ECP_384']);
  assert.deepEqual(profile.espProposals[0]?.integrity, ['AUTH_HMAC_SHA2_256_128']);
  assert.deepEqual(profile.espProposals[0]?.keyExchange, ['ECP_256']);
  assert.equal(profile.lifetimes.ike.rekeySeconds, 480 * 60);
  assert.equal(profile.lifetimes.child.rekeySeconds, 3600);
  assert.deepEqual(profile.dns.servers, ['192.0.2.53']);
  assert.deepEqual(profile.dns.matchDomains, ['corp.example.com']);
  assert.ok(result.warnings.some((warning) => warning.path === 'IKEv2.DisableMOBIKE'));
  assert.ok(!JSON.stringify(profile).includes('horse'));
});

test('mobileconfig certificate payload unpacked', async () => {
  const result = await importProfile(bytes(certificateProfile(fixtures.legacyP12, 'legacy-pw')));
  assert.equal(result.ok, true);
  if (!result.ok) return;
  const { profile } = result;
  assert.equal(profile.authentication?.method, 'certificate+eap-mschapv2');
  assert.equal(profile.authentication?.remoteCertificateIssuerCommonName, 'Example Root CA');
  assert.equal(text(result.secrets[profile.authentication?.eapPasswordRef ?? '']), 'eap-secret');
  assert.equal(new X509Certificate(profile.clientCertificate!).subject, 'CN=alice@example.com');
  assert.equal(profile.trustedCaCertificates.length, 1);
  assert.equal(profile.dpdSeconds, 1800);
  assert.deepEqual(profile.identities.eap, { type: 'FQDN', value: 'alice' });
});

test('mobileconfig asks missing p12 password', async () => {
  const answers = passwordAnswers('modern-pw');
  const result = await importProfile(bytes(certificateProfile(fixtures.modernP12)), {
    fileName: 'corp.mobileconfig', passwords: answers.callback,
  });
  assert.equal(result.ok, true);
  assert.match(answers.requests[0]?.label ?? '', /"alice\.p12".*corp\.mobileconfig/);
});

test('mobileconfig signed profile unwrapped', async () => {
  const signed = signWithCa(fixtures, text(sample('psk-eap.mobileconfig')));
  const result = await importProfile(signed);
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.equal(result.profile.name, 'Office & Lab');
  const warning = result.warnings.find((item) => item.path === '(signature)');
  assert.match(warning?.message ?? '', /did not verify the signature/);
});

test('mobileconfig billion laughs rejected', async () => {
  const result = await importProfile(sample('billion-laughs.mobileconfig'));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'line 1');
  assert.match(result.errors[0]?.message ?? '', /<!ENTITY/);
});

test('mobileconfig l2tp rejected', async () => {
  const result = await importProfile(sample('l2tp.mobileconfig'));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'VPNType');
  assert.equal(result.errors[0]?.value, 'L2TP');
  assert.match(result.errors[0]?.message ?? '', /only IKEv2 is supported/);
});

test('mobileconfig truncated rejected', async () => {
  const truncated = text(sample('psk-eap.mobileconfig')).slice(0, 900);
  const result = await importProfile(bytes(truncated));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.match(result.errors[0]?.path ?? '', /^line \d+$/);
  assert.match(result.errors[0]?.message ?? '', /not a valid configuration profile/);
});

test('mobileconfig weak group rejected', async () => {
  const weak = text(sample('psk-eap.mobileconfig')).replace('<integer>20</integer>', '<integer>2</integer>');
  const result = await importProfile(bytes(weak));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'IKEv2.IKESecurityAssociationParameters.DiffieHellmanGroup');
  assert.match(result.errors[0]?.message ?? '', /weak group/);
});

test('mobileconfig unknown entity rejected', async () => {
  const bad = text(sample('psk-eap.mobileconfig')).replace('&amp;', '&xxe;');
  const result = await importProfile(bytes(bad));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.match(result.errors[0]?.message ?? '', /unknown entity in the value of <key>UserDefinedName<\/key>/);
  assert.doesNotMatch(result.errors[0]?.message ?? '', /xxe/);
});
