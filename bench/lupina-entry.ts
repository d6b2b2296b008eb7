/**
 * Names the code that `lupina connect` runs in a benchmark. bin/lupina.js runs the first current
 * one of: the bundle in dist/bundle/ with its V8 code cache, the compiled JavaScript in dist/, and
 * the sources through tsx, which starts slowest and uses the most memory.
 */

import { existsSync, statSync } from 'node:fs';

import {
  BUNDLE_DIRECTORY, BUNDLE_FILE, bundleIsCurrent, compileBundle, DIST_ENTRY, distIsCurrent, newestSourceTime,
} from '../scripts/cli-bundle.js';

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
  if (entry === 'dist') {
    if (!existsSync(DIST_ENTRY)) {
      return 'dist/ (missing)';
    }
    const age = (newestSourceTime() - statSync(DIST_ENTRY).mtimeMs) / 1000;
    return age > 0
      ? `dist/ (older than the newest source by ${age.toFixed(0)} s)`
      : 'dist/ (current)';
  }
  if (bundleIsCurrent(BUNDLE_DIRECTORY)) {
    return describeBundle();
  }
  return distIsCurrent()
    ? 'bin/lupina.js, running dist/ (current; the bundle is missing or older)'
    : 'bin/lupina.js, running the sources through tsx (dist/ missing or older)';
}
