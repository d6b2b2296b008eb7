// Loads the single-file CLI bundle that scripts/build-cli-bundle.js writes to dist/bundle/, with
// the V8 code cache made at build time. bin/lupina.js, the build script, the bundle test and the
// benchmarks share this file, because V8 accepts a code cache only for the exact source text
// that it was made from, including the function wrapper below.
//
// Files in a bundle directory:
//   lupina-cli.cjs        the CLI as one CommonJS file. Line 1 is BUNDLE_ID_PREFIX and the
//                         SHA-256 of the rest of the file.
//   lupina-cli.cjs.cache  that SHA-256 in hex, the SHA-256 of the V8 code cache in hex, then
//                         the cache (optional). V8 does not check a cache's bytes in release
//                         builds, and a damaged one can crash the process, so both are checked.
//   manifest.json         the files the bundle was made from, relative to the project root.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
// The bundle sits two levels below the project root, as dist/main/net/native.js sits three,
// so main/net/native.ts finds the native addon at '../../' from the bundle's URL.
export const BUNDLE_DIRECTORY = join(PROJECT_ROOT, 'dist', 'bundle');
export const BUNDLE_FILE = 'lupina-cli.cjs';
export const CODE_CACHE_FILE = 'lupina-cli.cjs.cache';
export const MANIFEST_FILE = 'manifest.json';
export const BUNDLE_ID_PREFIX = '// Lupina CLI bundle, SHA-256 ';

const SHA256_HEX_LENGTH = 64;
// The same parameters as Node's CommonJS module wrapper, so the bundle also runs under require().
const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname) {';
const WRAPPER_TAIL = '\n})';

/** Returns the modification time of `path` in ms, or null when it cannot be read. */
function modificationTime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/**
 * Returns the newest modification time, in ms, of the files that the bundle in `directory` was
 * made from, or null when the manifest or one of those files is missing or unreadable.
 */
function newestInputTime(directory) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(directory, MANIFEST_FILE), 'utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(manifest.inputs) || !manifest.inputs.every((input) => typeof input === 'string')) {
    return null;
  }
  let newest = 0;
  for (const input of manifest.inputs) {
    // Concatenation, because path.join doubled the time of this loop (Node.js 20, 137 inputs).
    const time = modificationTime(PROJECT_ROOT + input);
    if (time === null) {
      return null;
    }
    newest = Math.max(newest, time);
  }
  return newest;
}

/** The compiled entry of the CLI in dist/, the output of tsc. */
export const DIST_ENTRY = join(PROJECT_ROOT, 'dist', 'main', 'cli', 'run.js');

/** Returns the newest modification time, in ms, of the TypeScript files under `directory`. */
export function newestSourceTime(directory = join(PROJECT_ROOT, 'main')) {
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
 * Returns whether dist/ contains a build at least as new as every TypeScript source under main/.
 * Without main/, as in a package that ships only the build, dist/ counts as current.
 */
export function distIsCurrent() {
  const distTime = modificationTime(DIST_ENTRY);
  if (distTime === null) {
    return false;
  }
  const sources = join(PROJECT_ROOT, 'main');
  return modificationTime(sources) === null || distTime >= newestSourceTime(sources);
}

/**
 * Returns true when the bundle in `directory` exists and is at least as new as every source and
 * package file it was made from. Each edited or updated input is newer than the bundle, and a
 * new source file counts once an input that imports it is edited.
 */
export function bundleIsCurrent(directory = BUNDLE_DIRECTORY) {
  const bundleTime = modificationTime(join(directory, BUNDLE_FILE));
  if (bundleTime === null) {
    return false;
  }
  const newestInput = newestInputTime(directory);
  return newestInput !== null && bundleTime >= newestInput;
}

/** Returns the SHA-256 in hex from line 1 of the bundle text, or null when line 1 has none. */
function bundleId(source) {
  if (!source.startsWith(BUNDLE_ID_PREFIX)) {
    return null;
  }
  const start = BUNDLE_ID_PREFIX.length;
  const id = source.slice(start, start + SHA256_HEX_LENGTH);
  return /^[0-9a-f]{64}$/.test(id) ? id : null;
}

function sha256Hex(data) {
  return createHash('sha256').update(data).digest('hex');
}

/** The bundle's text does not match the SHA-256 on its line 1, for example after a cut-off copy. */
export class BundleIntegrityError extends Error {
  constructor(path) {
    super(`${path} does not match the SHA-256 on its first line; rebuild it with npm run build:cli`);
    this.name = 'BundleIntegrityError';
  }
}

/**
 * Returns the V8 code cache for the bundle text with id `id`, or undefined when the cache file
 * is missing, was made for another build of the bundle, or does not match its own SHA-256.
 */
function readCodeCache(directory, id) {
  let file;
  try {
    file = readFileSync(join(directory, CODE_CACHE_FILE));
  } catch {
    return undefined;
  }
  if (id === null || file.subarray(0, SHA256_HEX_LENGTH).toString('latin1') !== id) {
    return undefined;
  }
  const payloadHash = file.subarray(SHA256_HEX_LENGTH, 2 * SHA256_HEX_LENGTH).toString('latin1');
  const payload = file.subarray(2 * SHA256_HEX_LENGTH);
  return sha256Hex(payload) === payloadHash ? payload : undefined;
}

/** Encodes a code cache file: the bundle's id, the cache's SHA-256, then the cache. */
function encodeCodeCache(id, cache) {
  return Buffer.concat([Buffer.from(id + sha256Hex(cache), 'latin1'), cache]);
}

/**
 * Compiles the bundle in `directory` without running it. `cacheStatus` is 'used', 'rejected'
 * (V8 found the cache made by another Node.js version or with other V8 flags, and compiled the
 * source instead) or 'missing'.
 */
export function compileBundle(directory = BUNDLE_DIRECTORY) {
  const path = join(directory, BUNDLE_FILE);
  const source = readFileSync(path, 'utf8');
  const id = bundleId(source);
  if (id === null || sha256Hex(source.slice(source.indexOf('\n') + 1)) !== id) {
    throw new BundleIntegrityError(path);
  }
  const cachedData = readCodeCache(directory, id);
  const script = new Script(WRAPPER_HEAD + source + WRAPPER_TAIL, { filename: path, cachedData });
  let cacheStatus = 'missing';
  if (cachedData !== undefined) {
    cacheStatus = script.cachedDataRejected ? 'rejected' : 'used';
  }
  return { path, script, cacheStatus };
}

/** Runs a compiled bundle like a CommonJS module. The CLI in it reads process.argv and exits. */
function runCompiledBundle({ path, script }) {
  const wrapper = script.runInThisContext();
  const module = { exports: {} };
  wrapper.call(module.exports, module.exports, createRequire(path), module, path, dirname(path));
}

/**
 * Runs the CLI from the bundle in `directory`, with the code cache when V8 accepts it. Returns
 * false without running anything when the bundle text is damaged, so the caller can start the
 * CLI another way.
 */
export function runBundle(directory = BUNDLE_DIRECTORY) {
  let compiled;
  try {
    compiled = compileBundle(directory);
  } catch (error) {
    if (error instanceof BundleIntegrityError) {
      return false;
    }
    throw error;
  }
  runCompiledBundle(compiled);
  return true;
}

/**
 * Runs the CLI from the bundle in `directory` and writes the code cache when the process exits,
 * so that the cache contains the functions that this run compiled. The build runs one CLI command
 * this way in a separate Node.js process.
 */
export function runBundleAndWriteCodeCache(directory = BUNDLE_DIRECTORY) {
  const compiled = compileBundle(directory);
  const id = bundleId(readFileSync(compiled.path, 'utf8'));
  if (id === null) {
    throw new Error(`${compiled.path} has no bundle id on line 1: rebuild it with npm run build`);
  }
  process.on('exit', () => {
    const cache = join(directory, CODE_CACHE_FILE);
    writeFileSync(`${cache}.tmp`, encodeCodeCache(id, compiled.script.createCachedData()));
    renameSync(`${cache}.tmp`, cache);
  });
  runCompiledBundle(compiled);
}
