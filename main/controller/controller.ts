/**
 * The controller that the CLI and the desktop window share: it imports and stores profiles,
 * brings one connection up or down, and reports its state and SA counters.
 */

import type { ImportOptions, ImportResult } from '../profile/import.js';
import type { Profile } from '../profile/model.js';
import { ProfileExistsError, type ProfileStore } from '../profile/profile-store.js';
import type { SecretStore } from '../profile/secret-store.js';
import type { Connection } from './connection.js';
import { connectionState, type ConnectionState } from './connection-state.js';
import type { Log } from './log.js';
import { IkeVpnConnection } from './ike-vpn-connection.js';
import { ManualConnection } from './manual-connection.js';
import type { TunnelIo, TunnelSnapshot } from './tunnel.js';

export interface ControllerOptions {
  profiles: ProfileStore;
  secrets: SecretStore;
  io: TunnelIo;
  log: Log;
  /** Replaces the IKEv2 connection, for tests that run without a gateway. */
  createIkeConnection?: (profile: Profile, secrets: SecretStore) => Connection;
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

export class Controller {
  private connection: Connection | null = null;
  private idleState: ConnectionState = connectionState('disconnected');
  private readonly listeners = new Set<(state: ConnectionState) => void>();

  constructor(private readonly options: ControllerOptions) {}

  onState(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  listProfiles(): Promise<Profile[]> {
    return this.options.profiles.list();
  }

  /**
   * Imports a profile file and, unless `dryRun`, saves the profile and its secrets. A profile
   * with the same id or name is replaced only with `replace`; otherwise ControllerError 'exists'.
   */
  async importFile(bytes: Uint8Array, options: ImportOptions & { replace?: boolean; dryRun?: boolean } = {}): Promise<StoredImportResult> {
    // The importers pull in node-forge, so they load only when a file is imported.
    const { importProfile } = await import('../profile/import.js');
    const result = await importProfile(bytes, options);
    if (!result.ok || options.dryRun) {
      return { ...result, saved: false };
    }
    const replaced = (await this.options.profiles.list()).filter((other) =>
      other.id !== result.profile.id && other.name === result.profile.name);
    try {
      await this.options.profiles.save(result.profile, { replace: options.replace ?? false });
    } catch (error) {
      if (error instanceof ProfileExistsError) {
        throw new ControllerError('exists', `${error.message}; import again with replace to overwrite it`);
      }
      throw error;
    }
    // A profile replaced by name has another id, so its secrets would otherwise stay behind.
    for (const other of replaced) {
      await this.options.secrets.deleteProfile(other.id);
    }
    await this.options.secrets.deleteProfile(result.profile.id);
    for (const [ref, value] of Object.entries(result.secrets)) {
      await this.options.secrets.set(ref, value);
    }
    return { ...result, saved: true };
  }

  /** Finds a saved profile by id or name. */
  async findProfile(idOrName: string): Promise<Profile> {
    const profiles = await this.options.profiles.list();
    const profile = profiles.find((candidate) => candidate.id === idOrName || candidate.name === idOrName);
    if (!profile) {
      const names = profiles.map((candidate) => `"${candidate.name}"`).join(', ') || 'none';
      throw new ControllerError('not-found', `no profile named "${idOrName}" (saved profiles: ${names})`);
    }
    return profile;
  }

  async deleteProfile(idOrName: string): Promise<void> {
    const profile = await this.findProfile(idOrName);
    if (this.connection && this.connection.current.profileId === profile.id) {
      throw new ControllerError('busy', `profile "${profile.name}" is connected; disconnect first`);
    }
    await this.options.profiles.delete(profile.id);
    await this.options.secrets.deleteProfile(profile.id);
  }

  /** Connects a profile, with `secrets` in place of the store for a profile that is not saved. */
  async connect(profile: Profile, secrets: SecretStore = this.options.secrets): Promise<void> {
    if (this.connection && this.connection.current.status !== 'disconnected') {
      throw new ControllerError('busy', `"${this.connection.current.profileName}" is connected; disconnect first`);
    }
    const connection = this.createConnection(profile, secrets);
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
  }

  status(): ControllerStatus {
    if (!this.connection) {
      return { state: this.idleState, tunnel: null };
    }
    return { state: this.connection.current, tunnel: this.connection.snapshot() };
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
