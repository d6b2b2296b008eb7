import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import type { Profile } from '../../main/profile/model.js';
import { ProfileExistsError, ProfileStore } from '../../main/profile/profile-store.js';
import { FileSecretStore, SecretStoreError } from '../../main/profile/secret-store.js';
import { newManualProfile } from '../../main/profile/model.js';

const root = mkdtempSync(join(tmpdir(), 'lupina-stores-'));
after(() => rmSync(root, { recursive: true, force: true }));

const ID = '2f1c9a3e-0b7d-4e52-9d1a-6c0f3b8e4a21';
const OTHER = '3f1c9a3e-0b7d-4e52-9d1a-6c0f3b8e4a21';

function manual(id: string, name: string): Profile {
  const profile = newManualProfile(id, name);
  profile.staticSas = [{
    spi: 4096, direction: 'out', protocol: 'ah', integrity: 'AUTH_HMAC_SHA2_256_128', integrityKeyRef: `${id}:k`,
    mode: 'transport', localAddress: '192.0.2.1', peerAddress: '192.0.2.2', encapsulation: { type: 'raw' },
    localTs: [], remoteTs: [], replayWindow: 0, esn: false,
  }];
  return profile;
}

test('secret store modes and values', async () => {
  const directory = join(root, 'secrets');
  const store = new FileSecretStore(directory);
  await store.set(`${ID}:psk`, new Uint8Array([1, 2, 3]));
  assert.equal(statSync(directory).mode & 0o777, 0o700);
  assert.equal(statSync(join(directory, `${ID}.json`)).mode & 0o777, 0o600);
  assert.deepEqual(await store.get(`${ID}:psk`), new Uint8Array([1, 2, 3]));
  assert.equal(await store.get(`${ID}:missing`), undefined);
  await store.delete(`${ID}:psk`);
  assert.equal(await store.get(`${ID}:psk`), undefined);
  assert.deepEqual(readdirSync(directory).filter((name) => name.endsWith('.tmp')), []);
});

test('secret store rejects readable file', async () => {
  const directory = join(root, 'loose');
  const store = new FileSecretStore(directory);
  await store.set(`${ID}:psk`, new Uint8Array([9]));
  chmodSync(join(directory, `${ID}.json`), 0o644);
  await assert.rejects(store.get(`${ID}:psk`), SecretStoreError);
  await assert.rejects(store.get(`${ID}:psk`), /readable by other users/);
});

test('secret store delete profile', async () => {
  const store = new FileSecretStore(join(root, 'many'));
  await store.set(`${ID}:a`, new Uint8Array([1]));
  await store.set(`${ID}:b`, new Uint8Array([2]));
  await store.deleteProfile(ID);
  assert.equal(await store.get(`${ID}:a`), undefined);
  assert.equal(await store.get(`${ID}:b`), undefined);
});

test('secret store rejects bad ref', async () => {
  const store = new FileSecretStore(join(root, 'bad'));
  await assert.rejects(store.set('../etc/passwd:x', new Uint8Array([1])), /invalid secret reference/);
});

test('profile store save list delete', async () => {
  const store = new ProfileStore(join(root, 'profiles'));
  await store.save(manual(ID, 'Lab'));
  assert.deepEqual((await store.list()).map((profile) => profile.name), ['Lab']);
  assert.equal((await store.get(ID))?.name, 'Lab');
  await store.delete(ID);
  assert.equal(await store.get(ID), undefined);
});

test('profile store duplicate rejected', async () => {
  const store = new ProfileStore(join(root, 'dupes'));
  await store.save(manual(ID, 'Lab'));
  await assert.rejects(store.save(manual(ID, 'Lab 2')), ProfileExistsError);
  await assert.rejects(store.save(manual(OTHER, 'Lab')), (error: unknown) =>
    error instanceof ProfileExistsError && error.field === 'name');
  await store.save(manual(ID, 'Lab 2'), { replace: true });
  assert.equal((await store.get(ID))?.name, 'Lab 2');
});
