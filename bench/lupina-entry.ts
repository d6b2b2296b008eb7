/**
 * Names the code that `lupina connect` runs in a benchmark. bin/lupina.js runs the first current
 * one of: the bundle in dist/bundle/ with its V8 code cache, the compiled JavaScript in dist/, and
 * the sources through tsx, which starts slowest and uses the most memory.
 */

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { BUNDLE_DIRECTORY, BUNDLE_FILE, bundleIsCurrent, compileBundle } from '../scripts/cli-bundle.js';

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

/**
 * Describes the bundle that bin/lupina.js runs, with the code cache state that this process's V8
 * reports. A `lupina` process with other V8 flags than this one may get another state.
 */
function describeBundle(): string {
  const { cacheStatus } = compileBundle();
  const cache = {
    used: 'with its code cache',
    rejected: 'code cache rejected by this Node.js',
    missing: 'no code cache',
  }[cacheStatus];
  return `bin/lupina.js, running dist/bundle/${BUNDLE_FILE} (current, ${cache})`;
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
  if (bundleIsCurrent(BUNDLE_DIRECTORY)) {
    return describeBundle();
  }
  return distTime !== null && distTime >= sourcesTime
    ? 'bin/lupina.js, running dist/ (current; the bundle is missing or older)'
    : 'bin/lupina.js, running the sources through tsx (dist/ missing or older)';
}
