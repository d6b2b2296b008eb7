/**
 * Names the code that `lupina connect` runs in a benchmark: bin/lupina.js runs dist/ when
 * dist/main/cli/run.js is at least as new as every TypeScript source under main/, and the
 * sources through tsx otherwise, which starts more slowly and uses more memory.
 */

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
const LUPINA_DIST = join(PROJECT_ROOT, 'dist', 'main', 'cli', 'run.js');

/** Returns the newest modification time of the TypeScript sources under a directory, in ms. */
function newestSourceTime(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      newest = Math.max(newest, newestSourceTime(path));
    } else if (entry.name.endsWith('.ts')) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

/** Describes the code that runs for `--entry dist` (dist/ itself) or `bin` (bin/lupina.js). */
export function describeLupinaEntry(entry: 'bin' | 'dist'): string {
  const sourcesTime = newestSourceTime(join(PROJECT_ROOT, 'main'));
  const distTime = existsSync(LUPINA_DIST) ? statSync(LUPINA_DIST).mtimeMs : null;
  if (entry === 'dist') {
    if (distTime === null) {
      return 'dist/ (missing)';
    }
    const age = (sourcesTime - distTime) / 1000;
    return age > 0
      ? `dist/ (older than the newest source by ${age.toFixed(0)} s)`
      : 'dist/ (current)';
  }
  return distTime !== null && distTime >= sourcesTime
    ? 'bin/lupina.js, running dist/ (current)'
    : 'bin/lupina.js, running the sources through tsx (dist/ missing or older)';
}
