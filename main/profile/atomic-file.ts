/** File helpers for the stores: private directories and atomic writes. */

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Creates the directory with mode 0700 if it is missing, and narrows the mode if it exists. */
export async function ensurePrivateDirectory(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const info = await stat(directory);
  if ((info.mode & 0o077) !== 0) {
    await chmod(directory, 0o700);
  }
}

/**
 * Writes `data` to `path` with mode `mode` so that readers see either the old file or the whole
 * new one: the data goes to a temporary file in the same directory, is flushed, and is renamed
 * over the target.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode: number): Promise<void> {
  const temporary = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
