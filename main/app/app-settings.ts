/**
 * The desktop app's own settings, kept as JSON in its data folder: the theme, the last-used
 * profile for the tray's Connect item, and the user's answer about unprotected secrets.
 */

import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { ensurePrivateDirectory, writeFileAtomic } from '../profile/atomic-file.js';
import type { ThemePreference } from './ipc-schema.js';

export interface AppSettingsData {
  theme: ThemePreference;
  lastUsedProfileId: string | null;
  plainTextSecretsAllowed: boolean;
}

const DEFAULTS: AppSettingsData = { theme: 'system', lastUsedProfileId: null, plainTextSecretsAllowed: false };

/** Keeps the fields that have the right type and drops everything else. */
function sanitize(value: unknown): AppSettingsData {
  const settings = { ...DEFAULTS };
  if (typeof value !== 'object' || value === null) {
    return settings;
  }
  const record = value as Record<string, unknown>;
  if (record['theme'] === 'light' || record['theme'] === 'dark' || record['theme'] === 'system') {
    settings.theme = record['theme'];
  }
  if (typeof record['lastUsedProfileId'] === 'string' && record['lastUsedProfileId'].length <= 64) {
    settings.lastUsedProfileId = record['lastUsedProfileId'];
  }
  if (record['plainTextSecretsAllowed'] === true) {
    settings.plainTextSecretsAllowed = true;
  }
  return settings;
}

export class AppSettings {
  private data: AppSettingsData = { ...DEFAULTS };

  private constructor(private readonly path: string) {}

  /** Loads the settings; a missing or unreadable file gives the defaults. */
  static async load(path: string): Promise<AppSettings> {
    const settings = new AppSettings(path);
    try {
      settings.data = sanitize(JSON.parse(await readFile(path, 'utf8')));
    } catch {
      settings.data = { ...DEFAULTS };
    }
    return settings;
  }

  get current(): Readonly<AppSettingsData> {
    return this.data;
  }

  async update(change: Partial<AppSettingsData>): Promise<void> {
    this.data = sanitize({ ...this.data, ...change });
    await ensurePrivateDirectory(dirname(this.path));
    await writeFileAtomic(this.path, `${JSON.stringify(this.data, null, 2)}\n`, 0o600);
  }
}
