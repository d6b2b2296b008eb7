/**
 * Controller import, list and delete against a real ProfileStore in a temporary directory, with
 * a secret store that fails on request, so that rollbacks and races can be checked.
 */

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import type { Connection } from '../../main/controller/connection.js';
import { connectionState } from '../../main/controller/connection-state.js';
import { Controller, ControllerError, ImportStorageError } from '../../main/controller/controller.js';
import { Log, type LogEntry } from '../../main/controller/log.js';
import { MemorySecretStore } from '../../main/controller/memory-secret-store.js';
import type { TunnelIo, TunnelSnapshot } from '../../main/controller/tunnel.js';
import { ProfileStore } from '../../main/profile/profile-store.js';
import type { SecretStore } from '../../main/profile/secret-store.js';

const root = mkdtempSync(join(tmpdir(), 'lupina-controller-'));
after(() => rmSync(root, { recursive: true, force: true }));

const OLD_ID = '2f1c9a3e-0b7d-4e52-9d1a-6c0f3b8e4a21';
const NEW_ID = '3f1c9a3e-0b7d-4e52-9d1a-6c0f3b8e4a21';
const OLD_PSK = 'old-psk-value';
const NEW_PSK = 'new-psk-value';

/**
 * A secret store in memory whose `set` fails while `failSets` is true. It also fails once after
 * `setsBeforeFailure` further calls, and with `failForever` it keeps failing from then on.
 */
class FailingSecretStore implements SecretStore {
  readonly inner = new MemorySecretStore();
  failSets = false;
  setsBeforeFailure = Number.POSITIVE_INFINITY;
  failForever = false;

  get(ref: string) { return this.inner.get(ref); }
  delete(ref: string) { return this.inner.delete(ref); }
  deleteProfile(profileId: string) { return this.inner.deleteProfile(profileId); }

  async set(ref: string, value: Uint8Array): Promise<void> {
    if (this.setsBeforeFailure <= 0) {
      this.failSets ||= this.failForever;
      this.setsBeforeFailure = Number.POSITIVE_INFINITY;
      throw new Error('the keychain is locked');
    }
    if (this.failSets) {
      throw new Error('the keychain is locked');
    }
    this.setsBeforeFailure--;
    await this.inner.set(ref, value);
  }
}

function swanctl(psk: string): Uint8Array {
  return new TextEncoder().encode(`connections {
  office {
    remote_addrs = 203.0.113.5
    local { auth = psk
      id = client.example.com }
    remote { auth = psk }
  }
}
secrets { ike-office { secret = "${psk}" } }
`);
}

function setup(name: string, extra: Partial<ConstructorParameters<typeof Controller>[0]> = {}) {
  const directory = join(root, name);
  const profiles = new ProfileStore(directory);
  const secrets = new FailingSecretStore();
  const log = new Log('debug');
  const entries: LogEntry[] = [];
  log.subscribe((entry) => entries.push(entry));
  const controller = new Controller({ profiles, secrets, io: {} as TunnelIo, log, ...extra });
  return { directory, profiles, secrets, controller, entries };
}

async function pskOf(secrets: SecretStore, id: string): Promise<string | undefined> {
  const value = await secrets.get(`${id}:psk`);
  return value === undefined ? undefined : new TextDecoder().decode(value);
}

test('import secret failure saves nothing', async () => {
  const { profiles, secrets, controller } = setup('secret-failure');
  secrets.failSets = true;
  await assert.rejects(controller.importFile(swanctl(NEW_PSK), { profileId: NEW_ID }), (error: unknown) =>
    error instanceof ImportStorageError && /the keychain is locked/.test(error.message) &&
    error.rollbackError === undefined);
  assert.deepEqual(await profiles.list(), []);
  assert.deepEqual(secrets.inner.entries(), []);
});

test('failed replace keeps old profile', async () => {
  const { profiles, secrets, controller } = setup('replace-failure');
  await controller.importFile(swanctl(OLD_PSK), { profileId: OLD_ID });
  secrets.failSets = true;
  await assert.rejects(controller.importFile(swanctl(NEW_PSK), { profileId: NEW_ID, replace: true }), ImportStorageError);
  assert.deepEqual((await profiles.list()).map((profile) => profile.id), [OLD_ID]);
  assert.equal(await pskOf(secrets, OLD_ID), OLD_PSK);
  assert.equal(await pskOf(secrets, NEW_ID), undefined);
});

test('failed same id replace keeps secrets', async () => {
  const { profiles, secrets, controller } = setup('replace-same-id');
  await controller.importFile(swanctl(OLD_PSK), { profileId: OLD_ID });
  secrets.failSets = true;
  await assert.rejects(controller.importFile(swanctl(NEW_PSK), { profileId: OLD_ID, replace: true }), ImportStorageError);
  assert.deepEqual((await profiles.list()).map((profile) => profile.id), [OLD_ID]);
  assert.equal(await pskOf(secrets, OLD_ID), OLD_PSK);
});

function setkey(keyByte: string): Uint8Array {
  const key = (bytes: number) => `0x${keyByte.repeat(bytes)}`;
  return new TextEncoder().encode(
    `add 192.0.2.10 198.51.100.1 esp 0x1001 -E aes-cbc ${key(16)} -A hmac-sha256 ${key(32)};\n` +
    `add 198.51.100.1 192.0.2.10 esp 0x2001 -E aes-cbc ${key(16)} -A hmac-sha256 ${key(32)};\n` +
    'spdadd 192.0.2.10 198.51.100.1 any -P out ipsec esp/transport//require;\n');
}

test('partial secret writes undone', async () => {
  const { profiles, secrets, controller } = setup('partial-failure');
  await controller.importFile(setkey('11'), { profileId: OLD_ID, fileName: 'lab.conf' });
  const before = secrets.inner.entries().map(([ref, value]) => [ref, Buffer.from(value).toString('hex')]);
  assert.equal(before.length, 4);
  secrets.setsBeforeFailure = 2;
  await assert.rejects(controller.importFile(setkey('22'), { profileId: OLD_ID, fileName: 'lab.conf', replace: true }),
    (error: unknown) => error instanceof ImportStorageError && error.rollbackError === undefined);
  const after = secrets.inner.entries().map(([ref, value]) => [ref, Buffer.from(value).toString('hex')]);
  assert.deepEqual(after.sort(), before.sort());
  assert.equal((await profiles.list()).length, 1);
});

test('failed undo is reported', async () => {
  const { secrets, controller } = setup('undo-failure');
  await controller.importFile(setkey('11'), { profileId: OLD_ID, fileName: 'lab.conf' });
  secrets.setsBeforeFailure = 2;
  secrets.failForever = true;
  await assert.rejects(controller.importFile(setkey('22'), { profileId: OLD_ID, fileName: 'lab.conf', replace: true }),
    (error: unknown) => error instanceof ImportStorageError && error.rollbackError !== undefined &&
      /undoing its secrets failed too/.test(error.message));
});

test('profile write failure rolls back secrets', async () => {
  const { directory, profiles, secrets, controller } = setup('write-failure');
  await controller.importFile(swanctl(OLD_PSK), { profileId: OLD_ID });
  // A directory where the new profile file belongs makes the final rename fail.
  mkdirSync(join(directory, `${NEW_ID}.json`));
  await assert.rejects(controller.importFile(swanctl(NEW_PSK), { profileId: NEW_ID, replace: true }), ImportStorageError);
  assert.deepEqual((await profiles.list()).map((profile) => profile.id), [OLD_ID]);
  assert.equal(await pskOf(secrets, OLD_ID), OLD_PSK);
  assert.equal(await pskOf(secrets, NEW_ID), undefined);
});

test('replace removes old secrets', async () => {
  const { profiles, secrets, controller } = setup('replace-success');
  await controller.importFile(swanctl(OLD_PSK), { profileId: OLD_ID });
  await controller.importFile(swanctl(NEW_PSK), { profileId: NEW_ID, replace: true });
  assert.deepEqual((await profiles.list()).map((profile) => profile.id), [NEW_ID]);
  assert.equal(await pskOf(secrets, OLD_ID), undefined);
  assert.equal(await pskOf(secrets, NEW_ID), NEW_PSK);
});

test('replace keeps the id of an id-less format', async () => {
  const { profiles, secrets, controller } = setup('replace-keeps-id');
  await controller.importFile(swanctl(OLD_PSK), { profileId: OLD_ID });
  const result = await controller.importFile(swanctl(NEW_PSK), { replace: true });

  assert.equal(result.ok && result.profile.id, OLD_ID);
  const saved = await profiles.list();
  assert.deepEqual(saved.map((profile) => profile.id), [OLD_ID]);
  assert.equal(saved[0]?.authentication?.pskRef, `${OLD_ID}:psk`);
  assert.equal(await pskOf(secrets, OLD_ID), NEW_PSK);
  assert.deepEqual(secrets.inner.entries().map(([ref]) => ref), [`${OLD_ID}:psk`]);
});

test('replace keeps the id of static SAs', async () => {
  const { profiles, secrets, controller } = setup('replace-keeps-static-id');
  await controller.importFile(setkey('11'), { profileId: OLD_ID, fileName: 'lab.conf' });
  await controller.importFile(setkey('22'), { fileName: 'lab.conf', replace: true });

  const saved = await profiles.list();
  assert.deepEqual(saved.map((profile) => profile.id), [OLD_ID]);
  const refs = saved[0]!.staticSas.flatMap((sa) => [sa.encryptionKeyRef, sa.integrityKeyRef]);
  assert.equal(refs.length, 4);
  assert.ok(refs.every((ref) => ref?.startsWith(`${OLD_ID}:`)), refs.join(', '));
  const stored = secrets.inner.entries();
  assert.deepEqual(stored.map(([ref]) => ref).sort(), refs.map(String).sort());
  assert.ok(stored.every(([, value]) => Buffer.from(value).toString('hex').startsWith('2222')));
});

test('replace of two same-named profiles takes a new id', async () => {
  const { directory, profiles, controller } = setup('replace-two-names');
  await controller.importFile(swanctl(OLD_PSK), { profileId: OLD_ID });
  // A second profile of the same name, as a file copied in by hand would give.
  const first = (await profiles.list())[0]!;
  writeFileSync(join(directory, `${NEW_ID}.json`), JSON.stringify({ ...first, id: NEW_ID,
    authentication: { ...first.authentication, pskRef: `${NEW_ID}:psk` } }));
  await controller.importFile(swanctl(NEW_PSK), { replace: true });

  const ids = (await profiles.list()).map((profile) => profile.id);
  assert.equal(ids.length, 1);
  assert.ok(!ids.includes(OLD_ID), ids.join(', '));
  assert.ok(!ids.includes(NEW_ID), ids.join(', '));
});

test('concurrent imports of one name', async () => {
  const { profiles, secrets, controller } = setup('race');
  const results = await Promise.allSettled([OLD_ID, NEW_ID].map((profileId) =>
    controller.importFile(swanctl(profileId === OLD_ID ? OLD_PSK : NEW_PSK), { profileId })));
  const rejected = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  assert.equal(rejected.length, 1);
  assert.ok(rejected[0]?.reason instanceof ControllerError);
  assert.equal((rejected[0]?.reason as ControllerError).code, 'exists');
  assert.match((rejected[0]?.reason as Error).message, /already exists; import again with replace/);
  const saved = await profiles.list();
  assert.equal(saved.length, 1);
  assert.equal(secrets.inner.entries().length, 1);
  assert.ok(await pskOf(secrets, saved[0]!.id));
});

test('corrupt profile listed with warning', async () => {
  const { directory, controller, entries } = setup('corrupt');
  await controller.importFile(swanctl(OLD_PSK), { profileId: OLD_ID });
  const path = join(directory, `${NEW_ID}.json`);
  writeFileSync(path, 'not json');
  assert.deepEqual((await controller.listProfiles()).map((profile) => profile.id), [OLD_ID]);
  const warning = entries.find((entry) => entry.level === 'warn' && entry.message.includes(path));
  assert.match(warning?.message ?? '', new RegExp(`fix the file, or delete the profile ${NEW_ID}`));
  assert.equal((await controller.findProfile('office')).id, OLD_ID);
});

test('corrupt profile can be deleted', async () => {
  const { directory, controller, secrets } = setup('corrupt-delete');
  await controller.importFile(swanctl(OLD_PSK), { profileId: OLD_ID });
  writeFileSync(join(directory, `${OLD_ID}.json`), '{"name": "office", "version": 99}');
  const deleted = await controller.deleteProfile('office');
  assert.equal(deleted.id, OLD_ID);
  assert.equal(deleted.inUseElsewhere, false);
  assert.equal(await pskOf(secrets, OLD_ID), undefined);
  assert.deepEqual((await controller.scanProfiles()).corrupt, []);
});

test('connection keeps secrets after delete', async () => {
  let connectionSecrets: SecretStore | undefined;
  const fakeConnection = (profileId: string): Connection => ({
    current: connectionState('connected', { profileId, profileName: 'office' }),
    onState: () => () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
    snapshot: () => ({}) as TunnelSnapshot,
  });
  const running = setup('in-use', {
    createIkeConnection: (profile, secrets) => {
      connectionSecrets = secrets;
      return fakeConnection(profile.id);
    },
  });
  await running.controller.importFile(swanctl(OLD_PSK), { profileId: OLD_ID });
  await running.controller.connect(await running.controller.findProfile('office'));

  // A second controller on the same directories stands for another process.
  const other = new Controller({
    profiles: new ProfileStore(running.directory),
    secrets: running.secrets,
    io: {} as TunnelIo,
    log: new Log('warn'),
    profilesInUseElsewhere: async () => [OLD_ID],
  });
  const deleted = await other.deleteProfile('office');
  assert.equal(deleted.inUseElsewhere, true);
  assert.equal(await pskOf(running.secrets, OLD_ID), undefined);
  assert.equal(await pskOf(connectionSecrets!, OLD_ID), OLD_PSK);

  await running.controller.disconnect();
  assert.equal(await pskOf(connectionSecrets!, OLD_ID), undefined);
});

test('delete of connected profile busy', async () => {
  const busy = setup('busy', {
    createIkeConnection: (profile) => ({
      current: connectionState('connected', { profileId: profile.id, profileName: profile.name }),
      onState: () => () => undefined,
      start: async () => undefined,
      stop: async () => undefined,
      snapshot: () => ({}) as TunnelSnapshot,
    }),
  });
  await busy.controller.importFile(swanctl(OLD_PSK), { profileId: OLD_ID });
  await busy.controller.connect(await busy.controller.findProfile('office'));
  await assert.rejects(busy.controller.deleteProfile(OLD_ID), (error: unknown) =>
    error instanceof ControllerError && error.code === 'busy');
  assert.equal((await busy.profiles.list()).length, 1);
});
