import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { importProfile } from '../../main/profile/import.js';
import { bytes } from './fixtures.js';

const sample = (name: string) => new Uint8Array(readFileSync(new URL(`samples/${name}`, import.meta.url)));

test('setkey tunnel sample fields', async () => {
  const result = await importProfile(sample('tunnel-setkey.conf'), { fileName: 'tunnel-setkey.conf' });
  assert.equal(result.ok, true);
  if (!result.ok) return;
  const { profile, secrets } = result;
  assert.equal(result.format, 'setkey');
  assert.equal(profile.kind, 'manual');
  assert.equal(profile.staticSas.length, 2);
  const [out, inbound] = profile.staticSas;
  assert.equal(out?.spi, 0x1001);
  assert.equal(out?.direction, 'out');
  assert.equal(inbound?.direction, 'in');
  assert.equal(out?.mode, 'tunnel');
  assert.equal(out?.localAddress, '192.0.2.10');
  assert.equal(out?.peerAddress, '198.51.100.1');
  assert.deepEqual(out?.encapsulation, { type: 'raw' });
  // -r 8 is 8 bytes of bitmap, so 64 packets.
  assert.equal(out?.replayWindow, 64);
  assert.deepEqual(out?.encryption, { name: 'ENCR_AES_CBC', keyBits: 128 });
  assert.equal(out?.integrity, 'AUTH_HMAC_SHA2_256_128');
  assert.deepEqual(out?.localTs, ['192.0.2.200/32']);
  assert.deepEqual(out?.remoteTs, ['203.0.113.0/24']);
  assert.deepEqual(inbound?.localTs, ['192.0.2.200/32']);
  assert.equal(out?.localInnerAddress, '192.0.2.200');
  const key = secrets[out?.encryptionKeyRef ?? ''];
  assert.equal(Buffer.from(key ?? []).toString('hex'), '000102030405060708090a0b0c0d0e0f');
  assert.ok(!result.warnings.some((warning) => warning.path === '(replay window)'));
});

test('setkey transport string keys', async () => {
  const result = await importProfile(sample('transport-setkey.conf'));
  assert.equal(result.ok, true);
  if (!result.ok) return;
  const [esp, espIn, ah] = result.profile.staticSas;
  assert.equal(esp?.mode, 'transport');
  assert.equal(esp?.localAddress, '2001:db8::1');
  assert.equal(espIn?.direction, 'in');
  assert.equal(ah?.protocol, 'ah');
  assert.equal(ah?.integrity, 'AUTH_HMAC_SHA2_512_256');
  assert.deepEqual(esp?.remoteTs, ['2001:db8::2[tcp]']);
  assert.equal(new TextDecoder().decode(result.secrets[esp?.integrityKeyRef ?? '']), '0123456789abcdefghij');
  assert.equal(esp?.replayWindow, 0);
  const note = result.warnings.find((warning) => warning.path === '(replay window)');
  assert.match(note?.message ?? '', /RFC 4303 section 3\.3\.3/);
});

test('setkey gcm manual keys rejected', async () => {
  const result = await importProfile(sample('gcm-setkey.conf'));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'line 1');
  assert.match(result.errors[0]?.message ?? '', /repeat IVs.*RFC 4106 section 8\.1/);
});

test('setkey 3des rejected', async () => {
  const conf = 'add 192.0.2.1 192.0.2.2 esp 0x1000 -E 3des-cbc 0x' + '00'.repeat(24) + ' -A hmac-sha1 0x' + '00'.repeat(20) + ';\n' +
    'spdadd 192.0.2.1 192.0.2.2 any -P out ipsec esp/transport//require;';
  const result = await importProfile(bytes(conf));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.match(result.errors[0]?.message ?? '', /3DES is a weak cipher/);
  assert.equal(result.errors[0]?.value, '3des-cbc');
});

test('setkey wrong key length', async () => {
  const conf = 'add 192.0.2.1 192.0.2.2 esp 0x1000 -E aes-cbc 0x0011 -A hmac-sha256 0x' + '00'.repeat(32) + ';\n' +
    'spdadd 192.0.2.1 192.0.2.2 any -P out ipsec esp/transport//require;';
  const result = await importProfile(bytes(conf));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, 'line 1');
  assert.match(result.errors[0]?.message ?? '', /needs a key of 128, 192, 256 bits, got 16/);
  assert.equal(result.errors[0]?.value, '<redacted>');
});

test('setkey without policies fails', async () => {
  const conf = 'add 192.0.2.1 192.0.2.2 esp 0x1000 -E aes-cbc 0x' + '00'.repeat(16) + ' -A hmac-sha256 0x' + '00'.repeat(32) + ';';
  const result = await importProfile(bytes(conf));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors[0]?.path, '(policies)');
  assert.match(result.errors[0]?.message ?? '', /cannot tell which address is local/);
});

test('setkey esp-udp encapsulation', async () => {
  const conf = 'add 192.0.2.1[4500] 192.0.2.2[4500] esp-udp 0x1000 -m tunnel -E aes-cbc 0x' + '00'.repeat(32) +
    ' -A hmac-sha256 0x' + '00'.repeat(32) + ';\nspdadd 192.0.2.201 203.0.113.0/24 any -P out ipsec esp/tunnel/192.0.2.1-192.0.2.2/require;';
  const result = await importProfile(bytes(conf));
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.deepEqual(result.profile.staticSas[0]?.encapsulation, { type: 'udp', localPort: 4500, peerPort: 4500 });
  assert.deepEqual(result.profile.staticSas[0]?.encryption, { name: 'ENCR_AES_CBC', keyBits: 256 });
});

test('setkey outbound policy without sa', async () => {
  const key = (length: number) => '0x' + '11'.repeat(length);
  const conf = `add 198.51.100.1 192.0.2.10 esp 0x2001 -m tunnel -E aes-cbc ${key(16)} -A hmac-sha256 ${key(32)};\n` +
    'spdadd 192.0.2.200/32 203.0.113.0/24 any -P out ipsec esp/tunnel/192.0.2.10-198.51.100.1/require;\n' +
    'spdadd 203.0.113.0/24 192.0.2.200/32 any -P in ipsec esp/tunnel/198.51.100.1-192.0.2.10/require;\n';
  const result = await importProfile(bytes(conf));
  assert.equal(result.ok, false);
  if (result.ok) return;
  const error = result.errors.find((item) => item.path === 'line 2');
  assert.match(error?.message ?? '', /no add statement defines an outbound esp SA from 192\.0\.2\.10 to 198\.51\.100\.1/);
});

test('setkey transport policy without sa', async () => {
  const key = (length: number) => '0x' + '11'.repeat(length);
  const conf = `add 192.0.2.1 192.0.2.2 esp 0x1000 -E aes-cbc ${key(16)} -A hmac-sha256 ${key(32)};\n` +
    'spdadd 192.0.2.1 192.0.2.2 any -P out ipsec esp/transport//require;\n' +
    'spdadd 192.0.2.1 192.0.2.3 any -P out ipsec esp/transport//require;\n';
  const result = await importProfile(bytes(conf));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(result.errors.map((item) => item.path), ['line 3']);
  assert.match(result.errors[0]?.message ?? '', /from 192\.0\.2\.1 to 192\.0\.2\.3/);
});

test('setkey second inner family warns', async () => {
  const key = (length: number) => '0x' + '11'.repeat(length);
  const conf = `add 192.0.2.10 198.51.100.1 esp 0x1001 -m tunnel -E aes-cbc ${key(16)} -A hmac-sha256 ${key(32)};\n` +
    `add 198.51.100.1 192.0.2.10 esp 0x2001 -m tunnel -E aes-cbc ${key(16)} -A hmac-sha256 ${key(32)};\n` +
    'spdadd 192.0.2.200/32 203.0.113.0/24 any -P out ipsec esp/tunnel/192.0.2.10-198.51.100.1/require;\n' +
    'spdadd 2001:db8:200::10/128 2001:db8:300::/64 any -P out ipsec esp/tunnel/192.0.2.10-198.51.100.1/require;\n';
  const result = await importProfile(bytes(conf));
  assert.equal(result.ok, true);
  if (!result.ok) return;
  const warning = result.warnings.find((item) => item.path === 'line 4');
  assert.match(warning?.message ?? '', /only 192\.0\.2\.200 becomes the tunnel's inner address, so traffic from 2001:db8:200::10/);
  assert.equal(result.profile.staticSas[0]?.localInnerAddress, '192.0.2.200');
});
