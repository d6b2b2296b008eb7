#!/usr/bin/env node
// Starts the CLI from the first current one of these, which are listed from fastest to slowest:
// 1. the single-file bundle in dist/bundle/ with its V8 code cache, current when it is at least
//    as new as every file it was made from (scripts/build-cli-bundle.js writes it);
// 2. the compiled JavaScript in dist/, current when it is at least as new as every TypeScript
//    source under main/;
// 3. the TypeScript sources through tsx, as in a development checkout where nothing is built or
//    the build is older than the sources.
// docs/startup.md has the measured start times of each.
import { pathToFileURL } from 'node:url';

import { bundleIsCurrent, DIST_ENTRY, distIsCurrent, runBundle } from '../scripts/cli-bundle.js';

const source = new URL('../main/cli/run.ts', import.meta.url);

if (bundleIsCurrent() && runBundle()) {
  // The bundle runs the CLI. A damaged bundle returns false and the next entry runs instead.
} else if (distIsCurrent()) {
  await import(pathToFileURL(DIST_ENTRY).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
}
