/**
 * The controller that the CLI and the desktop window share: it imports and stores profiles,
 * brings one connection up or down, and reports its state and SA counters.
 */

import { randomUUID } from 'node:crypto';

import type { ImportOptions, ImportResult } from '../profile/import.js';
import { profileSecretRefs, withProfileId, type Profile } from '../profile/model.js';
import {
  ProfileExistsError, type CorruptProfileFile, type ProfileScan, type ProfileStore, type ProfileStoreSession,
} from '../profile/profile-store.js';
import type { SecretStore } from '../profile/secret-store.js';
import type { Connection } from './connection.js';
import { connectionState, type ConnectionState } from './connection-state.js';
import type { Log } from './log.js';
import { IkeVpnConnection } from './ike-vpn-connection.js';
import { ManualConnection } from './manual-connection.js';
import { MemorySecretStore } from './memory-secret-store.js';
import type { TunnelIo, TunnelSnapshot } from './tunnel.js';

export interface ControllerOptions {
  profiles: ProfileStore;
  secrets: SecretStore;
  io: TunnelIo;
  log: Log;
  /** Replaces the IKEv2 connection, for tests that run without a gateway. */
  createIkeConnection?: (profile: Profile, secrets: SecretStore) => Connection;
  /**
   * Returns the ids of profiles that connections in other processes use (the CLI can ask its
   * control socket), so that deleting one of them is reported. Without it, only this
   * controller's own connection is known.
   */
  profilesInUseElsewhere?: () => Promise<string[]>;
}

export interface ControllerStatus {
  state: ConnectionState;
  tunnel: TunnelSnapshot | null;
}

export class ControllerError extends Error {
  constructor(readonly code: 'not-found' | 'busy' | 'unsupported' | 'exists' | 'invalid', message: string) {
    super(message);
    this.name = 'ControllerError';
  }
}

export type StoredImportResult = ImportResult & { saved: boolean };

export interface DeletedProfile {
  id: string;
  /** The name, or the file path for a corrupt profile file without a readable name. */
  name: string;
  /**
   * True when a connection in another process used the profile. That connection keeps running
   * with the copy of the secrets it made when it connected, until it disconnects.
   */
  inUseElsewhere: boolean;
}

/**
 * Raised when an import could not be stored. Every change was rolled back unless `rollbackError`
 * is set, in which case the message names what may be left over.
 */
export class ImportStorageError extends Error {
  constructor(message: string, readonly rollbackError?: unknown, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'ImportStorageError';
  }
}

export class Controller {
  private connection: Connection | null = null;
  /** The copy of the connected profile's secrets; zeroed on disconnect. */
  private connectionSecrets: MemorySecretStore | null = null;
  private idleState: ConnectionState = connectionState('disconnected');
  private readonly listeners = new Set<(state: ConnectionState) => void>();
  private readonly warnedCorruptFiles = new Set<string>();

  constructor(private readonly options: ControllerOptions) {}

  onState(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Returns the valid saved profiles, and logs a warning for each corrupt profile file. */
  async listProfiles(): Promise<Profile[]> {
    return (await this.scanProfiles()).profiles;
  }

  /** Returns the valid saved profiles and the corrupt profile files, each logged as a warning. */
  async scanProfiles(): Promise<ProfileScan> {
    const scan = await this.options.profiles.scan();
    this.warnCorruptFiles(scan.corrupt);
    return scan;
  }

  /**
   * Imports a profile file and, unless `dryRun`, saves the profile and its secrets. A profile
   * with the same id or name is replaced only with `replace`; otherwise ControllerError 'exists'.
   * The secrets are written first and the profile last, all under the profile store's lock, and
   * the secrets of replaced profiles are deleted only after that. When a step fails, the secrets
   * written so far are undone, the saved profiles stay as they were, and ImportStorageError is
   * raised.
   */
  async importFile(bytes: Uint8Array, options: ImportOptions & { replace?: boolean; dryRun?: boolean } = {}): Promise<StoredImportResult> {
    // The importers pull in node-forge, so they load only when a file is imported.
    const { importProfile } = await import('../profile/import.js');
    // A format without ids gets this one, which distinguishes such a profile from one whose file
    // names its id.
    const assignedId = options.profileId ?? randomUUID();
    const result = await importProfile(bytes, { ...options, profileId: assignedId });
    if (!result.ok || options.dryRun) {
      return { ...result, saved: false };
    }
    let stored = { profile: result.profile, secrets: result.secrets };
    try {
      await this.options.profiles.transaction(async (session) => {
        if (options.replace && result.profile.id === assignedId && options.profileId === undefined) {
          stored = await this.keepReplacedId(session, result.profile, result.secrets);
        }
        await this.storeImport(session, stored.profile, stored.secrets, options.replace ?? false);
      });
    } catch (error) {
      if (error instanceof ProfileExistsError) {
        throw new ControllerError('exists', `a profile with the ${error.field} "${error.value}" already exists; ` +
          'import again with replace to overwrite it');
      }
      throw error;
    }
    return { ...result, ...stored, saved: true };
  }

  /**
   * Gives an imported profile whose file carries no id the id of the one saved profile with its
   * name, so that `replace` updates that profile in place and what refers to its id still finds it.
   */
  private async keepReplacedId(
    session: ProfileStoreSession, profile: Profile, secrets: Record<string, Uint8Array>,
  ): Promise<{ profile: Profile; secrets: Record<string, Uint8Array> }> {
    const sameName = (await session.scan()).profiles.filter((other) => other.name === profile.name);
    if (sameName.length !== 1) {
      return { profile, secrets };
    }
    return withProfileId(profile, secrets, sameName[0]!.id);
  }

  /** Finds a saved profile by id or name. */
  async findProfile(idOrName: string): Promise<Profile> {
    const scan = await this.scanProfiles();
    const profile = findIn(scan.profiles, idOrName);
    if (!profile) {
      throw notFound(idOrName, scan);
    }
    return profile;
  }

  /**
   * Deletes a saved profile and its secrets, found by id or name. A corrupt profile file is
   * found by the id in its file name, or by its name when the file still has a readable one.
   */
  async deleteProfile(idOrName: string): Promise<DeletedProfile> {
    const inUseElsewhere = new Set(await this.findProfilesInUseElsewhere());
    return this.options.profiles.transaction(async (session) => {
      const scan = await session.scan();
      const target = findIn(scan.profiles, idOrName) ?? findIn(scan.corrupt, idOrName);
      if (!target) {
        throw notFound(idOrName, scan);
      }
      const name = target.name ?? ('path' in target ? target.path : target.id);
      if (this.connection && this.connection.current.status !== 'disconnected' &&
        this.connection.current.profileId === target.id) {
        throw new ControllerError('busy', `profile "${name}" is connected; disconnect first`);
      }
      await session.delete(target.id);
      await this.options.secrets.deleteProfile(target.id);
      return { id: target.id, name, inUseElsewhere: inUseElsewhere.has(target.id) };
    });
  }

  /**
   * Connects a profile, with `secrets` in place of the store for a profile that is not saved.
   * The connection gets an in-memory copy of the profile's secrets, so that it can still rekey
   * and reconnect when another process deletes the profile while it runs.
   */
  async connect(profile: Profile, secrets: SecretStore = this.options.secrets): Promise<void> {
    if (this.connection && this.connection.current.status !== 'disconnected') {
      throw new ControllerError('busy', `"${this.connection.current.profileName}" is connected; disconnect first`);
    }
    this.connectionSecrets?.clear();
    this.connectionSecrets = await MemorySecretStore.copyOf([profile], secrets);
    const connection = this.createConnection(profile, this.connectionSecrets);
    this.connection = connection;
    connection.onState((state) => this.emit(state));
    await connection.start();
  }

  async disconnect(reason?: string): Promise<void> {
    const connection = this.connection;
    if (!connection) {
      return;
    }
    await connection.stop(reason);
    this.idleState = connection.current;
    this.connection = null;
    this.connectionSecrets?.clear();
    this.connectionSecrets = null;
  }

  status(): ControllerStatus {
    if (!this.connection) {
      return { state: this.idleState, tunnel: null };
    }
    return { state: this.connection.current, tunnel: this.connection.snapshot() };
  }

  /**
   * Writes an imported profile while the store's lock is held: checks for conflicts, writes the
   * new secrets and then the profile, and only after both succeeded removes the secrets that the
   * replaced profiles no longer need. On failure, the secrets written so far are undone; the
   * profile store undoes its own files.
   */
  private async storeImport(
    session: ProfileStoreSession, profile: Profile, secrets: Record<string, Uint8Array>, replace: boolean,
  ): Promise<void> {
    const conflicts = await session.checkSave(profile, { replace });
    const sameId = conflicts.sameId && 'version' in conflicts.sameId ? conflicts.sameId : undefined;
    if (!conflicts.sameId) {
      // Nothing refers to secrets under a new id, so these are left over from an interrupted import.
      await this.options.secrets.deleteProfile(profile.id);
    }
    // Secrets of a profile with the same id have the same references, so writing overwrites them.
    const backup = await MemorySecretStore.copyOf(sameId ? [sameId] : [], this.options.secrets);
    const written: string[] = [];
    try {
      for (const [ref, value] of Object.entries(secrets)) {
        await this.options.secrets.set(ref, value);
        written.push(ref);
      }
      await session.save(profile, { replace });
    } catch (error) {
      await this.undoSecretWrites(profile, written, backup, error);
      throw new ImportStorageError(`saving the profile "${profile.name}" failed (${(error as Error).message}); ` +
        'nothing was changed, so fix the cause and import again', undefined, { cause: error });
    } finally {
      backup.clear();
    }
    await this.removeReplacedSecrets(profile, secrets, sameId, conflicts.sameName);
  }

  /** Restores the overwritten secrets and deletes the new ones, after a failed import. */
  private async undoSecretWrites(
    profile: Profile, written: string[], backup: MemorySecretStore, error: unknown,
  ): Promise<void> {
    try {
      for (const ref of written) {
        const previous = await backup.get(ref);
        if (previous === undefined) {
          await this.options.secrets.delete(ref);
        } else {
          await this.options.secrets.set(ref, previous);
        }
      }
    } catch (rollbackError) {
      const message = `saving the profile "${profile.name}" failed (${(error as Error).message}), and ` +
        `undoing its secrets failed too (${(rollbackError as Error).message}), so the secret store may ` +
        `hold a mix of the old and new secrets of "${profile.name}"; import the file again once the ` +
        'cause is fixed';
      this.options.log.scope('profiles').error(message);
      throw new ImportStorageError(message, rollbackError, { cause: error });
    }
  }

  /**
   * Deletes the secrets that no saved profile refers to after a replace. A failure leaves unused
   * secrets behind, which is logged but does not fail the import that is already saved.
   */
  private async removeReplacedSecrets(
    profile: Profile, secrets: Record<string, Uint8Array>, sameId: Profile | undefined, sameName: Profile[],
  ): Promise<void> {
    try {
      for (const other of sameName) {
        await this.options.secrets.deleteProfile(other.id);
      }
      for (const ref of sameId ? profileSecretRefs(sameId) : []) {
        if (!Object.hasOwn(secrets, ref)) {
          await this.options.secrets.delete(ref);
        }
      }
    } catch (error) {
      this.options.log.scope('profiles').warn(`imported "${profile.name}", but the unused secrets of the ` +
        `profiles it replaced could not be deleted (${(error as Error).message}); they stay in the ` +
        'secret store until it is cleaned up by hand');
    }
  }

  /** Asks `profilesInUseElsewhere`; a failure only means that nothing is known. */
  private async findProfilesInUseElsewhere(): Promise<string[]> {
    try {
      return await this.options.profilesInUseElsewhere?.() ?? [];
    } catch (error) {
      this.options.log.scope('profiles').debug(`could not ask other processes which profiles they use: ${(error as Error).message}`);
      return [];
    }
  }

  /** Logs each corrupt file once per controller, because the app lists profiles often. */
  private warnCorruptFiles(corrupt: CorruptProfileFile[]): void {
    const log = this.options.log.scope('profiles');
    for (const file of corrupt) {
      const key = `${file.path}\n${file.reason}`;
      if (this.warnedCorruptFiles.has(key)) {
        continue;
      }
      this.warnedCorruptFiles.add(key);
      log.warn(`skipped ${file.path}: it is not a valid profile (${file.reason}); fix the file, or ` +
        `delete the profile ${file.id} to remove it`);
    }
  }

  private createConnection(profile: Profile, secrets: SecretStore): Connection {
    const log = this.options.log.scope(profile.name);
    if (profile.kind === 'manual') {
      return new ManualConnection(profile, secrets, this.options.io, log);
    }
    if (this.options.createIkeConnection) {
      return this.options.createIkeConnection(profile, secrets);
    }
    return new IkeVpnConnection(profile, secrets, this.options.io, log);
  }

  private emit(state: ConnectionState): void {
    for (const listener of this.listeners) {
      listener(state);
    }
  }
}

function findIn<T extends { id: string; name?: string }>(items: T[], idOrName: string): T | undefined {
  const id = idOrName.toLowerCase();
  return items.find((item) => item.id.toLowerCase() === id) ?? items.find((item) => item.name === idOrName);
}

function notFound(idOrName: string, scan: ProfileScan): ControllerError {
  const names = scan.profiles.map((candidate) => `"${candidate.name}"`).join(', ') || 'none';
  return new ControllerError('not-found', `no profile named "${idOrName}" (saved profiles: ${names})`);
}
