/** The safeStorage secret store with a stand-in encryptor, and its refusal without a keyring. */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { SafeStorageSecretStore, type StringEncryptor } from '../../main/app/safe-storage-secret-store.js';

const PROFILE = '4f1c2a8e-6b0d-4e5f-9a7b-3c2d1e0f9a8b';
const OTHER = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

/** Reverses and tags the text: enough to prove the store never writes the plain value. */
function fakeEncryptor(backend: string): StringEncryptor {
  return {
    isEncryptionAvailable: () => true,
    getSelectedStorageBackend: () => backend,
    encryptString: (text) => Buffer.from(`enc:${[...text].reverse().join('')}`),
    decryptString: (data) => [...data.toString().slice(4)].reverse().join(''),
  };
}

describe('safeStorage secret store', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'lupina-safe-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('round-trips a secret', async () => {
    const store = new SafeStorageSecretStore({ directory: join(directory, 'a'), encryptor: fakeEncryptor('gnome_libsecret'), plainTextAllowed: () => false });
    await store.set(`${PROFILE}:psk`, Buffer.from('correct horse'));
    assert.equal(Buffer.from((await store.get(`${PROFILE}:psk`))!).toString(), 'correct horse');
    assert.equal(await store.get(`${PROFILE}:missing`), undefined);
  });

  it('writes only ciphertext, mode 0600', async () => {
    const store = new SafeStorageSecretStore({ directory: join(directory, 'b'), encryptor: fakeEncryptor('kwallet5'), plainTextAllowed: () => false });
    await store.set(`${PROFILE}:psk`, Buffer.from('correct horse'));
    const [file] = await readdir(join(directory, 'b'));
    const text = await readFile(join(directory, 'b', file!), 'utf8');
    assert.doesNotMatch(text, /correct horse/);
    assert.doesNotMatch(text, new RegExp(Buffer.from('correct horse').toString('base64')));
    assert.equal((await stat(join(directory, 'b', file!))).mode & 0o777, 0o600);
  });

  it('deletes every secret of a profile', async () => {
    const store = new SafeStorageSecretStore({ directory: join(directory, 'c'), encryptor: fakeEncryptor('gnome_libsecret'), plainTextAllowed: () => false });
    await store.set(`${PROFILE}:psk`, Buffer.from('one'));
    await store.set(`${PROFILE}:eap`, Buffer.from('two'));
    await store.set(`${OTHER}:psk`, Buffer.from('three'));
    await store.deleteProfile(PROFILE);
    assert.equal(await store.get(`${PROFILE}:psk`), undefined);
    assert.equal(await store.get(`${PROFILE}:eap`), undefined);
    assert.equal(Buffer.from((await store.get(`${OTHER}:psk`))!).toString(), 'three');
  });

  it('refuses secrets on basic_text', async () => {
    let allowed = false;
    const store = new SafeStorageSecretStore({ directory: join(directory, 'd'), encryptor: fakeEncryptor('basic_text'), plainTextAllowed: () => allowed });
    assert.equal(store.protected, false);
    assert.equal(store.acceptsSecrets(), false);
    await assert.rejects(store.set(`${PROFILE}:psk`, Buffer.from('x')), /no keyring protects secrets/);
    await assert.rejects(readdir(join(directory, 'd')), { code: 'ENOENT' });
    allowed = true;
    await store.set(`${PROFILE}:psk`, Buffer.from('x'));
    assert.equal(Buffer.from((await store.get(`${PROFILE}:psk`))!).toString(), 'x');
  });

  it('rejects malformed references', async () => {
    const store = new SafeStorageSecretStore({ directory: join(directory, 'e'), encryptor: fakeEncryptor('gnome_libsecret'), plainTextAllowed: () => false });
    await assert.rejects(store.set('../../etc/passwd:psk', Buffer.from('x')), /invalid secret reference/);
    await assert.rejects(store.get(`${PROFILE}:../x`), /invalid secret reference/);
    await assert.rejects(store.deleteProfile('../x'), /invalid profile id/);
  });
});
