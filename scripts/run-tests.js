#!/usr/bin/env node
// Runs every test file under test/ with Node's test runner and the tsx loader.
// Node 20's runner takes no glob patterns, so the files are listed here.
// Usage: npm test [-- PATH_FILTER ...]  (a filter keeps files whose path contains it)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function listTestFiles(directory) {
  const files = [];
  for (const entry of readdirSync(directory).sort()) {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) {
      files.push(...listTestFiles(path));
    } else if (entry.endsWith('.test.ts')) {
      files.push(path);
    }
  }
  return files;
}

const filters = process.argv.slice(2);
const files = listTestFiles('test').filter(
  (file) => filters.length === 0 || filters.some((filter) => file.includes(filter)),
);
if (files.length === 0) {
  console.error(`No test files match ${filters.join(' ')}`);
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
