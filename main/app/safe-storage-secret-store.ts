/**
 * A SecretStore on Electron's safeStorage: each value is encrypted with the key that the OS
 * keyring keeps (libsecret or KWallet on Linux, Keychain on macOS, DPAPI on Windows), and the
 * ciphertexts go into one file per profile in the app's data folder, mode 0600.
 *
 * On Linux without a keyring, safeStorage falls back to the "basic_text" backend, whose key is
 * a constant in Chromium, so the files would only be obfuscated. Then `set` rejects secrets
 * until the user agrees to that (`plainTextAllowed`).
 */

import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { ensurePrivateDirectory, writeFileAtomic } from '../profile/atomic-file.js';
import { SecretStoreError, type SecretStore } from '../profile/secret-store.js';

/** The part of Electron's `safeStorage` that the store uses; tests pass their own. */
export interface StringEncryptor {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only in Electron; "basic_text" means no keyring protects the key. */
  getSelectedStorageBackend?(): string;
}

/** Backends whose key the OS does not protect. */
const UNPROTECTED_BACKENDS = new Set(['basic_text', 'unknown']);

const PROFILE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SECRET_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface SafeStorageSecretStoreOptions {
  directory: string;
  encryptor: StringEncryptor;
  /** Whether the user agreed to store secrets while the backend is unprotected. */
  plainTextAllowed: () => boolean;
}

export class SafeStorageSecretStore implements SecretStore {
  constructor(private readonly options: SafeStorageSecretStoreOptions) {}

  /** The backend's name: Electron's value on Linux, "os" elsewhere. */
  get backend(): string {
    return this.options.encryptor.getSelectedStorageBackend?.() ?? 'os';
  }

  /** True when the OS protects the encryption key. */
  get protected(): boolean {
    return this.options.encryptor.isEncryptionAvailable() && !UNPROTECTED_BACKENDS.has(this.backend);
  }

  /** True when `set` would store a secret now. */
  acceptsSecrets(): boolean {
    return this.options.encryptor.isEncryptionAvailable() && (this.protected || this.options.plainTextAllowed());
  }

  async get(ref: string): Promise<Uint8Array | undefined> {
    const [profileId, name] = parseRef(ref);
    const entries = await this.readProfile(profileId);
    const encrypted = entries[name];
    if (encrypted === undefined) {
      return undefined;
    }
    const plainText = this.options.encryptor.decryptString(Buffer.from(encrypted, 'base64'));
    return new Uint8Array(Buffer.from(plainText, 'base64'));
  }

  async set(ref: string, value: Uint8Array): Promise<void> {
    const [profileId, name] = parseRef(ref);
    if (!this.options.encryptor.isEncryptionAvailable()) {
      throw new SecretStoreError('secret storage is not available yet; try again once the app has started');
    }
    if (!this.acceptsSecrets()) {
      throw new SecretStoreError(`no keyring protects secrets on this desktop (safeStorage backend "${this.backend}"); ` +
        'allow storing secrets without protection in the window, or start a keyring and try again');
    }
    const encrypted = this.options.encryptor.encryptString(Buffer.from(value).toString('base64'));
    const entries = await this.readProfile(profileId);
    entries[name] = encrypted.toString('base64');
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
    if (!PROFILE_ID.test(profileId)) {
      throw new SecretStoreError(`invalid profile id "${profileId}": expected a lower-case UUID`);
    }
    await rm(this.fileOf(profileId), { force: true });
  }

  private fileOf(profileId: string): string {
    return join(this.options.directory, `${profileId}.safe.json`);
  }

  private async readProfile(profileId: string): Promise<Record<string, string>> {
    let text: string;
    try {
      text = await readFile(this.fileOf(profileId), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return Object.create(null) as Record<string, string>;
      }
      throw error;
    }
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new SecretStoreError(`${this.fileOf(profileId)} is not a secret file written by Lupina`);
    }
    const entries = Object.create(null) as Record<string, string>;
    for (const [name, value] of Object.entries(parsed)) {
      if (typeof value === 'string' && SECRET_NAME.test(name)) {
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
    await ensurePrivateDirectory(this.options.directory);
    await writeFileAtomic(this.fileOf(profileId), `${JSON.stringify(entries)}\n`, 0o600);
  }
}

function parseRef(ref: string): [string, string] {
  const separator = ref.indexOf(':');
  const profileId = ref.slice(0, separator);
  const name = ref.slice(separator + 1);
  if (separator < 0 || !PROFILE_ID.test(profileId) || !SECRET_NAME.test(name)) {
    throw new SecretStoreError(`invalid secret reference "${ref}": expected "<profile UUID>:<name>"`);
  }
  return [profileId, name];
}
