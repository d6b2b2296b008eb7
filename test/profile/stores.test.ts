import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
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

test('profile store skips corrupt file', async () => {
  const directory = join(root, 'corrupt');
  const store = new ProfileStore(directory);
  await store.save(manual(ID, 'Good'));
  writeFileSync(join(directory, `${OTHER}.json`), '{"name": "Broken", "version": ');
  const scan = await store.scan();
  assert.deepEqual(scan.profiles.map((profile) => profile.name), ['Good']);
  assert.equal(scan.corrupt.length, 1);
  assert.equal(scan.corrupt[0]?.id, OTHER);
  assert.equal(scan.corrupt[0]?.path, join(directory, `${OTHER}.json`));
  assert.match(scan.corrupt[0]?.reason ?? '', /JSON/);
  assert.deepEqual((await store.list()).map((profile) => profile.name), ['Good']);
  await store.delete(OTHER);
  assert.deepEqual((await store.scan()).corrupt, []);
});

test('profile store id mismatch is corrupt', async () => {
  const directory = join(root, 'mismatch');
  const store = new ProfileStore(directory);
  await store.save(manual(ID, 'Moved'));
  renameSync(join(directory, `${ID}.json`), join(directory, `${OTHER}.json`));
  const scan = await store.scan();
  assert.deepEqual(scan.profiles, []);
  assert.equal(scan.corrupt[0]?.name, 'Moved');
  assert.match(scan.corrupt[0]?.reason ?? '', /profile inside has the id/);
});

test('profile store concurrent saves of a name', async () => {
  const store = new ProfileStore(join(root, 'race'));
  const ids = [ID, OTHER, '4f1c9a3e-0b7d-4e52-9d1a-6c0f3b8e4a21', '5f1c9a3e-0b7d-4e52-9d1a-6c0f3b8e4a21'];
  const results = await Promise.allSettled(ids.map((id) => store.save(manual(id, 'Same'))));
  assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
  for (const result of results.filter((item) => item.status === 'rejected')) {
    assert.ok((result as PromiseRejectedResult).reason instanceof ProfileExistsError);
  }
  assert.equal((await store.list()).length, 1);
});

test('profile store concurrent saves across processes', async () => {
  const directory = join(root, 'race-processes');
  const script = `
    import { ProfileStore } from ${JSON.stringify(new URL('../../main/profile/profile-store.ts', import.meta.url).href)};
    import { newManualProfile } from ${JSON.stringify(new URL('../../main/profile/model.ts', import.meta.url).href)};
    const [directory, id] = process.argv.slice(-2);
    const profile = newManualProfile(id, 'Same');
    profile.staticSas = [{ spi: 4096, direction: 'out', protocol: 'ah', integrity: 'AUTH_HMAC_SHA2_256_128',
      integrityKeyRef: id + ':k', mode: 'transport', localAddress: '192.0.2.1', peerAddress: '192.0.2.2',
      encapsulation: { type: 'raw' }, localTs: [], remoteTs: [], replayWindow: 0, esn: false }];
    // Start together, so that the check-then-write sequences overlap without the lock.
    await new Promise((resolve) => setTimeout(resolve, Number(process.env.START_AT) - Date.now()));
    try { await new ProfileStore(directory).save(profile); console.log('saved'); }
    catch (error) { console.log(error.name); }
  `;
  const startAt = String(Date.now() + 3000);
  const ids = [ID, OTHER, '4f1c9a3e-0b7d-4e52-9d1a-6c0f3b8e4a21'];
  const outputs = await Promise.all(ids.map((id) => runNode(script, [directory, id], { START_AT: startAt })));
  assert.deepEqual(outputs.map((output) => output.trim()).sort(), ['ProfileExistsError', 'ProfileExistsError', 'saved']);
  assert.equal((await new ProfileStore(directory).list()).length, 1);
});

test('profile store breaks stale lock', async () => {
  const directory = join(root, 'stale');
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  // A process id above the kernel's pid_max belongs to no process.
  writeFileSync(join(directory, '.lock'), '99999999 0123456789abcdef');
  const store = new ProfileStore(directory);
  await store.save(manual(ID, 'After crash'));
  assert.equal((await store.get(ID))?.name, 'After crash');
  assert.ok(!existsSync(join(directory, '.lock')));
});

function runNode(script: string, args: string[], environment: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args],
      { env: { ...process.env, ...environment } }, (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${error.message}\n${stderr}`));
        } else {
          resolve(stdout);
        }
      });
  });
}
