/**
 * Saved profiles: one JSON file per profile in a directory, written atomically. Changes run
 * under a lock file in the directory, so that two processes cannot both pass the check for an
 * existing name and then both write.
 */

import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { ensurePrivateDirectory, writeFileAtomic } from './atomic-file.js';
import { exportProfile } from './export.js';
import { IssueLog, type ImportError } from './import-result.js';
import { withLockFile } from './lock-file.js';
import type { Profile } from './model.js';
import { validateProfile } from './validate.js';

export class ProfileExistsError extends Error {
  constructor(readonly existingId: string, readonly field: 'id' | 'name', readonly value: string) {
    super(`a profile with the ${field} "${value}" already exists; import it again with replace to overwrite it`);
    this.name = 'ProfileExistsError';
  }
}

export class ProfileNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`no saved profile has the id ${id}`);
    this.name = 'ProfileNotFoundError';
  }
}

export class InvalidProfileError extends Error {
  constructor(readonly path: string, readonly errors: ImportError[]) {
    super(`${path} is not a valid profile: ${errors.map((error) => `${error.path}: ${error.message}`).join('; ')}`);
    this.name = 'InvalidProfileError';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PROFILE_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json$/;
const LOCK_FILE = '.lock';
const MAX_REASON_CHARACTERS = 300;

/** A file in the profile directory that could not be read as a profile. */
export interface CorruptProfileFile {
  /** The profile id from the file name. */
  id: string;
  path: string;
  /** The name inside the file, when the file is JSON with a string "name". */
  name?: string;
  /** The reason the file is not a valid profile. */
  reason: string;
}

export interface ProfileScan {
  /** The valid profiles, sorted by name. */
  profiles: Profile[];
  corrupt: CorruptProfileFile[];
}

/** The saved profiles that saving a profile would overwrite or remove. */
export interface SaveConflicts {
  /** The saved profile with the same id. */
  sameId?: Profile | CorruptProfileFile;
  /** Saved profiles with the same name under other ids. */
  sameName: Profile[];
}

/** The store's operations while its lock is held; valid only inside `ProfileStore.transaction`. */
export interface ProfileStoreSession {
  scan(): Promise<ProfileScan>;
  /** Returns the conflicts of saving `profile`; raises ProfileExistsError for one unless `replace`. */
  checkSave(profile: Profile, options?: { replace?: boolean }): Promise<SaveConflicts>;
  /** Saves like `ProfileStore.save` and returns what it replaced. Leaves every file as it was on failure. */
  save(profile: Profile, options?: { replace?: boolean }): Promise<SaveConflicts>;
  delete(id: string): Promise<void>;
}

export class ProfileStore {
  constructor(private readonly directory: string) {}

  /** Returns every valid saved profile, sorted by name. Corrupt files are skipped; see `scan`. */
  async list(): Promise<Profile[]> {
    return (await this.scan()).profiles;
  }

  /** Reads every profile file and reports the ones that are not valid profiles. */
  async scan(): Promise<ProfileScan> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return { profiles: [], corrupt: [] };
      }
      throw error;
    }
    const scan: ProfileScan = { profiles: [], corrupt: [] };
    for (const name of names) {
      const id = PROFILE_FILE.exec(name)?.[1];
      if (id !== undefined) {
        await this.scanFile(id, join(this.directory, name), scan);
      }
    }
    scan.profiles.sort((a, b) => a.name.localeCompare(b.name));
    return scan;
  }

  async get(id: string): Promise<Profile | undefined> {
    try {
      return await this.readPath(this.fileOf(id));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return undefined;
      }
      throw error;
    }
  }

  /**
   * Saves the profile. Raises ProfileExistsError when another saved profile has the same id or
   * name, unless `replace` is set; with `replace`, the profile with the same id is overwritten
   * and those with the same name under other ids are removed.
   */
  async save(profile: Profile, options: { replace?: boolean } = {}): Promise<void> {
    await this.transaction((session) => session.save(profile, options));
  }

  /** Deletes the profile file, also when it is corrupt. Raises ProfileNotFoundError. */
  async delete(id: string): Promise<void> {
    await this.transaction((session) => session.delete(id));
  }

  /** Runs `action` while holding the store's lock file, so that no other process changes the store. */
  async transaction<T>(action: (session: ProfileStoreSession) => Promise<T>): Promise<T> {
    await ensurePrivateDirectory(this.directory);
    const session: ProfileStoreSession = {
      scan: () => this.scan(),
      checkSave: (profile, options = {}) => this.checkSave(validated(profile), options.replace ?? false),
      save: (profile, options = {}) => this.saveLocked(validated(profile), options.replace ?? false),
      delete: (id) => this.deleteLocked(id),
    };
    return withLockFile(join(this.directory, LOCK_FILE), () => action(session));
  }

  private async checkSave(profile: Profile, replace: boolean): Promise<SaveConflicts> {
    const scan = await this.scan();
    const sameId = scan.profiles.find((other) => other.id === profile.id) ??
      scan.corrupt.find((other) => other.id === profile.id);
    const sameName = scan.profiles.filter((other) => other.name === profile.name && other.id !== profile.id);
    if (!replace && sameId) {
      throw new ProfileExistsError(sameId.id, 'id', profile.id);
    }
    if (!replace && sameName[0]) {
      throw new ProfileExistsError(sameName[0].id, 'name', profile.name);
    }
    return sameId ? { sameId, sameName } : { sameName };
  }

  private async saveLocked(profile: Profile, replace: boolean): Promise<SaveConflicts> {
    const conflicts = await this.checkSave(profile, replace);
    const touched = [profile.id, ...conflicts.sameName.map((other) => other.id)].map((id) => this.fileOf(id));
    const before = await readFiles(touched);
    try {
      await writeFileAtomic(this.fileOf(profile.id), exportProfile(profile), 0o600);
      for (const other of conflicts.sameName) {
        await rm(this.fileOf(other.id), { force: true });
      }
    } catch (error) {
      await restoreFiles(before).catch((restoreError: unknown) => {
        throw new Error(`${(error as Error).message}; restoring the previous profile files also failed ` +
          `(${(restoreError as Error).message}), so check ${this.directory}`, { cause: error });
      });
      throw error;
    }
    return conflicts;
  }

  private async deleteLocked(id: string): Promise<void> {
    try {
      await rm(this.fileOf(id));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ProfileNotFoundError(id);
      }
      throw error;
    }
  }

  private fileOf(id: string): string {
    if (!UUID.test(id)) {
      throw new ProfileNotFoundError(id);
    }
    return join(this.directory, `${id.toLowerCase()}.json`);
  }

  private async scanFile(id: string, path: string, scan: ProfileScan): Promise<void> {
    let profile: Profile;
    try {
      profile = await this.readPath(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return;
      }
      scan.corrupt.push(await describeCorruptFile(id, path, error));
      return;
    }
    if (profile.id.toLowerCase() !== id) {
      scan.corrupt.push({
        id, path, name: profile.name,
        reason: `the file name has the id ${id}, but the profile inside has the id ${profile.id}`,
      });
      return;
    }
    scan.profiles.push(profile);
  }

  private async readPath(path: string): Promise<Profile> {
    const text = await readFile(path, 'utf8');
    const log = new IssueLog();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new InvalidProfileError(path, [{ path: '(file)', message: (error as Error).message }]);
    }
    const profile = validateProfile(json, log);
    if (!profile) {
      throw new InvalidProfileError(path, log.errors);
    }
    return profile;
  }
}

function validated(profile: Profile): Profile {
  const log = new IssueLog();
  const checked = validateProfile(JSON.parse(JSON.stringify(profile)), log);
  if (!checked) {
    throw new InvalidProfileError(profile.name, log.errors);
  }
  return checked;
}

async function describeCorruptFile(id: string, path: string, error: unknown): Promise<CorruptProfileFile> {
  let reason = error instanceof InvalidProfileError
    ? error.errors.map((issue) => `${issue.path}: ${issue.message}`).join('; ')
    : (error as Error).message;
  if (reason.length > MAX_REASON_CHARACTERS) {
    reason = `${reason.slice(0, MAX_REASON_CHARACTERS)}...`;
  }
  const corrupt: CorruptProfileFile = { id, path, reason };
  const name = await readNameField(path);
  if (name !== undefined) {
    corrupt.name = name;
  }
  return corrupt;
}

/** Returns the "name" of a JSON file that is not a valid profile, for finding it by name. */
async function readNameField(path: string): Promise<string | undefined> {
  try {
    const json: unknown = JSON.parse(await readFile(path, 'utf8'));
    const name = typeof json === 'object' && json !== null ? (json as { name?: unknown }).name : undefined;
    return typeof name === 'string' && name !== '' ? name : undefined;
  } catch {
    return undefined;
  }
}

/** Reads files for a later restore; undefined marks a file that does not exist. */
async function readFiles(paths: string[]): Promise<Map<string, Buffer | undefined>> {
  const contents = new Map<string, Buffer | undefined>();
  for (const path of paths) {
    try {
      contents.set(path, await readFile(path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EISDIR') {
        throw error;
      }
      // A directory in the place of a profile file makes the write fail too, so it needs no restore.
      if (code === 'ENOENT') {
        contents.set(path, undefined);
      }
    }
  }
  return contents;
}

async function restoreFiles(contents: Map<string, Buffer | undefined>): Promise<void> {
  for (const [path, data] of contents) {
    if (data === undefined) {
      await rm(path, { force: true });
    } else {
      await writeFileAtomic(path, data, 0o600);
    }
  }
}
