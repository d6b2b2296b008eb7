/** Saved profiles: one JSON file per profile in a directory, written atomically. */

import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { ensurePrivateDirectory, writeFileAtomic } from './atomic-file.js';
import { exportProfile } from './export.js';
import { IssueLog, type ImportError } from './import-result.js';
import type { Profile } from './model.js';
import { validateProfile } from './validate.js';

export class ProfileExistsError extends Error {
  constructor(readonly existingId: string, readonly field: 'id' | 'name', readonly value: string) {
    super(`a profile with the ${field} "${value}" already exists; save with { replace: true } to overwrite it`);
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

export class ProfileStore {
  constructor(private readonly directory: string) {}

  /** Returns every saved profile, sorted by name. A corrupt file raises InvalidProfileError. */
  async list(): Promise<Profile[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return [];
      }
      throw error;
    }
    const profiles: Profile[] = [];
    for (const name of names.filter((entry) => /^[0-9a-f-]{36}\.json$/.test(entry))) {
      profiles.push(await this.readPath(join(this.directory, name)));
    }
    return profiles.sort((a, b) => a.name.localeCompare(b.name));
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
   * and one with the same name under another id is removed.
   */
  async save(profile: Profile, options: { replace?: boolean } = {}): Promise<void> {
    const log = new IssueLog();
    const checked = validateProfile(JSON.parse(JSON.stringify(profile)), log);
    if (!checked) {
      throw new InvalidProfileError(profile.name, log.errors);
    }
    const existing = await this.list();
    const sameId = existing.find((other) => other.id === checked.id);
    const sameName = existing.find((other) => other.name === checked.name && other.id !== checked.id);
    if (!options.replace && sameId) {
      throw new ProfileExistsError(sameId.id, 'id', checked.id);
    }
    if (!options.replace && sameName) {
      throw new ProfileExistsError(sameName.id, 'name', checked.name);
    }
    await ensurePrivateDirectory(this.directory);
    await writeFileAtomic(this.fileOf(checked.id), exportProfile(checked), 0o600);
    if (sameName) {
      await rm(this.fileOf(sameName.id), { force: true });
    }
  }

  async delete(id: string): Promise<void> {
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
