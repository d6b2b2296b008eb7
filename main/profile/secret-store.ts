/**
 * Storage for the secrets that profiles refer to (PSKs, EAP passwords, private keys, static SA
 * keys). The app backs it with the OS keychain; the CLI uses FileSecretStore.
 */

import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { ensurePrivateDirectory, writeFileAtomic } from './atomic-file.js';
import { profileIdOfSecretRef } from './model.js';

export interface SecretStore {
  get(ref: string): Promise<Uint8Array | undefined>;
  set(ref: string, value: Uint8Array): Promise<void>;
  delete(ref: string): Promise<void>;
  /** Deletes every secret of the profile. */
  deleteProfile(profileId: string): Promise<void>;
}

export class SecretStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretStoreError';
  }
}

const REF = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):([a-z0-9][a-z0-9._-]{0,63})$/;

/**
 * Keeps one JSON file per profile (`<profile id>.json`, values in base64) in a directory with
 * mode 0700. Files are written with mode 0600 through a temporary file and a rename, and a file
 * that the group or others can read is rejected instead of used.
 */
export class FileSecretStore implements SecretStore {
  constructor(private readonly directory: string) {}

  async get(ref: string): Promise<Uint8Array | undefined> {
    const [profileId, name] = parseRef(ref);
    const entries = await this.readProfile(profileId);
    const value = entries[name];
    return value === undefined ? undefined : new Uint8Array(Buffer.from(value, 'base64'));
  }

  async set(ref: string, value: Uint8Array): Promise<void> {
    const [profileId, name] = parseRef(ref);
    await ensurePrivateDirectory(this.directory);
    const entries = await this.readProfile(profileId);
    entries[name] = Buffer.from(value).toString('base64');
    await this.writeProfile(profileId, entries);
  }

  async delete(ref: string): Promise<void> {
    const [profileId, name] = parseRef(ref);
    const entries = await this.readProfile(profileId);
    if (!Object.hasOwn(entries, name)) {
      return;
    }
    delete entries[name];
    await this.writeProfile(profileId, entries);
  }

  async deleteProfile(profileId: string): Promise<void> {
    parseRef(`${profileId}:x`);
    await rm(this.fileOf(profileId), { force: true });
  }

  private fileOf(profileId: string): string {
    return join(this.directory, `${profileId}.json`);
  }

  private async readProfile(profileId: string): Promise<Record<string, string>> {
    const path = this.fileOf(profileId);
    let mode: number;
    try {
      mode = (await stat(path)).mode;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return Object.create(null) as Record<string, string>;
      }
      throw error;
    }
    if ((mode & 0o077) !== 0) {
      throw new SecretStoreError(`${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); ` +
        'the secrets may be exposed. Run "chmod 600" on it and change the secrets');
    }
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new SecretStoreError(`${path} is not a secret file written by Lupina`);
    }
    const entries = Object.create(null) as Record<string, string>;
    for (const [name, value] of Object.entries(parsed)) {
      if (typeof value === 'string') {
        entries[name] = value;
      }
    }
    return entries;
  }

  private async writeProfile(profileId: string, entries: Record<string, string>): Promise<void> {
    if (Object.keys(entries).length === 0) {
      await rm(this.fileOf(profileId), { force: true });
      return;
    }
    await writeFileAtomic(this.fileOf(profileId), `${JSON.stringify(entries)}\n`, 0o600);
  }
}

function parseRef(ref: string): [string, string] {
  const match = REF.exec(ref);
  if (!match || profileIdOfSecretRef(ref) !== match[1]) {
    throw new SecretStoreError(`invalid secret reference "${ref}": expected "<profile UUID>:<name>"`);
  }
  return [match[1]!, match[2]!];
}
