import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { importProfile } from '../../main/profile/import.js';
import { bytes, makeFixtures, passwordAnswers, text, type Fixtures } from './fixtures.js';

const sample = (name: string) => new Uint8Array(readFileSync(new URL(`samples/${name}`, import.meta.url)));
let fixtures: Fixtures;
before(() => { fixtures = makeFixtures(); });
after(() => fixtures.cleanup());

const reader = (files: Record<string, string>) => async (path: string) => {
  const content = files[path];
  if (content === undefined) {
    throw new Error(`ENOENT: ${path}`);
  }
  return bytes(content);
};

test('nmconnection psk sample fields', async () => {
  const result = await importProfile(sample('psk.nmconnection'));
  assert.equal(result.ok, true);
  if (!result.ok) return;
  const { profile } = result;
  assert.equal(result.format, 'nmconnection');
  assert.equal(profile.id, '3b9d1f27-6a4c-4e8b-9f02-d5c7a1e3b6f4');
  assert.equal(profile.gateway?.port, 4500);
  assert.equal(profile.authentication?.method, 'psk');
  assert.equal(text(result.secrets[profile.authentication?.pskRef ?? '']), 'n0t-a-real-psk');
  assert.equal(profile.forceUdpEncapsulation, true);
  assert.deepEqual(profile.virtualIps, ['0.0.0.0']);
  assert.deepEqual(profile.trafficSelectors.remote, ['192.0.2.0/24', '198.51.100.0/24']);
  assert.deepEqual(profile.ikeProposals[0]?.keyExchange, ['MODP_3072']);
  assert.deepEqual(profile.dns.searchDomains, ['corp.example.com']);
  assert.ok(result.warnings.some((warning) => warning.path === 'vpn.ipcomp'));
});

test('nmconnection eap reads ca', async () => {
  const result = await importProfile(sample('eap.nmconnection'), { readFile: reader({ 'ca.pem': fixtures.caPem }) });
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.equal(result.profile.authentication?.method, 'eap-mschapv2');
  assert.equal(result.profile.trustedCaCertificates.length, 1);
  assert.equal(text(result.secrets[result.profile.authentication?.eapPasswordRef ?? '']), "Erin's password");
});

test('nmconnection missing ca file', async () => {
  const result = await importProfile(sample('eap.nmconnection'), { readFile: reader({}) });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'vpn.certificate');
  assert.match(result.errors[0]?.message ?? '', /could not read the file/);
});

test('nmconnection key method decrypts', async () => {
  const keyfile = `[connection]\nid=Key\ntype=vpn\n[vpn]\nservice-type=org.freedesktop.NetworkManager.strongswan\n` +
    'address=vpn.example.com\nmethod=key\nusercert=client.pem\nuserkey=client.key\ncertificate=ca.pem\n';
  const answers = passwordAnswers('key-pw');
  const result = await importProfile(bytes(keyfile), {
    readFile: reader({ 'client.pem': fixtures.clientPem, 'client.key': fixtures.clientKeyEncryptedPem, 'ca.pem': fixtures.caPem }),
    passwords: answers.callback,
  });
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.equal(answers.requests[0]?.kind, 'private-key');
  assert.ok(result.profile.authentication?.privateKeyRef);
});

test('nmconnection oversized file rejected', async () => {
  const keyfile = `[connection]\ntype=vpn\n[vpn]\nservice-type=org.freedesktop.NetworkManager.strongswan\n` +
    'address=vpn.example.com\nmethod=eap\ncertificate=big.pem\n';
  const result = await importProfile(bytes(keyfile), { readFile: async () => new Uint8Array(300 * 1024) });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.match(result.errors[0]?.message ?? '', /larger than/);
});

test('nmconnection libreswan rejected', async () => {
  const result = await importProfile(sample('libreswan.nmconnection'));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'vpn.service-type');
  assert.match(result.errors[0]?.message ?? '', /only IKEv2/);
});

test('nmconnection agent method rejected', async () => {
  const keyfile = '[connection]\ntype=vpn\n[vpn]\nservice-type=org.freedesktop.NetworkManager.strongswan\n' +
    'address=vpn.example.com\nmethod=agent\n';
  const result = await importProfile(bytes(keyfile), { fileName: join('x', 'a.nmconnection') });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'vpn.method');
  assert.match(result.errors[0]?.message ?? '', /ssh-agent/);
});
