#!/usr/bin/env node
// Starts the CLI from the compiled JavaScript in dist/ when it is at least as new as every
// TypeScript source (it starts in about half the time), and otherwise from the sources
// through tsx, as in a development checkout where dist/ is missing or stale.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../main/cli/run.ts', import.meta.url);
const compiled = new URL('../dist/main/cli/run.js', import.meta.url);
const sourceDirectory = fileURLToPath(new URL('../main/', import.meta.url));

function newestSourceTime(directory) {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = `${directory}/${entry.name}`;
    if (entry.isDirectory()) {
      newest = Math.max(newest, newestSourceTime(path));
    } else if (entry.name.endsWith('.ts')) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

function compiledIsCurrent() {
  if (!existsSync(compiled)) {
    return false;
  }
  if (!existsSync(sourceDirectory)) {
    return true;
  }
  return statSync(compiled).mtimeMs >= newestSourceTime(sourceDirectory);
}

if (compiledIsCurrent()) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
}
