/** Exports a profile as Lupina JSON, which `importProfile` reads back to an equal profile. */

import type { Profile } from './model.js';

/** Returns the profile as pretty-printed JSON text. Secrets are references only, never values. */
export function exportProfile(profile: Profile): string {
  return `${JSON.stringify(profile, null, 2)}\n`;
}

/** Returns the export as UTF-8 bytes, ready to write to a file. */
export function exportProfileBytes(profile: Profile): Uint8Array {
  return new TextEncoder().encode(exportProfile(profile));
}
