#!/usr/bin/env node
// Starts the CLI: from the TypeScript sources through tsx in a development checkout, or from
// the compiled JavaScript in dist/ where tsx is not installed.
import { existsSync } from 'node:fs';

const source = new URL('../main/cli/run.ts', import.meta.url);
const compiled = new URL('../dist/main/cli/run.js', import.meta.url);

let register;
try {
  ({ register } = await import('tsx/esm/api'));
} catch {
  register = undefined;
}

if (register && existsSync(source)) {
  register();
  await import(source.href);
} else {
  await import(compiled.href);
}
