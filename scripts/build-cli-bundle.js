#!/usr/bin/env node
// Builds the CLI as one CommonJS file with esbuild, plus a V8 code cache for it, into
// dist/bundle/ (see scripts/cli-bundle.js for the files). bin/lupina.js runs the bundle while it
// is current, because one file with a code cache starts faster than about 100 ES modules in
// dist/. `npm run build` runs this script after tsc.
//
// Usage: node scripts/build-cli-bundle.js [OUTPUT_DIRECTORY]   (default dist/bundle)
// A bundle outside dist/bundle finds the native addon only through LUPINA_NATIVE_ADDON, because
// main/net/native.ts looks for it two levels above the bundle file.
//
// The bundle is made from the TypeScript sources, so it uses esbuild's TypeScript transform,
// as tsx does for the tests. node-forge stays outside the bundle and loads with require() on
// first use, as main/profile/forge.ts intends.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  BUNDLE_DIRECTORY, BUNDLE_FILE, BUNDLE_ID_PREFIX, CODE_CACHE_FILE, MANIFEST_FILE, PROJECT_ROOT,
  runBundleAndWriteCodeCache,
} from './cli-bundle.js';

const ENTRY_POINT = 'main/cli/run.ts';
const EXTERNAL_PACKAGES = ['node-forge'];
const ID_PLACEHOLDER = '0'.repeat(64);
// The CommonJS output has no import.meta, so the one use, main/net/native.ts, gets the
// bundle's own URL from this variable.
const BANNER = [
  `${BUNDLE_ID_PREFIX}${ID_PLACEHOLDER}`,
  '"use strict";',
  'var __lupinaBundleUrl = require("node:url").pathToFileURL(__filename).href;',
].join('\n');
// The code cache contains the functions that importing this profile compiles: argument parsing,
// the controller and the swanctl importer, which `lupina connect` also runs before it sends
// IKE_SA_INIT. The profile uses documentation addresses only.
const TRAINING_PROFILE = `connections {
  office {
    remote_addrs = 192.0.2.1
    vips = 0.0.0.0
    proposals = aes256-sha256-modp2048
    local {
      auth = psk
      id = client.example.org
    }
    remote {
      auth = psk
      id = gw.example.org
    }
    children {
      office {
        remote_ts = 203.0.113.0/24
        esp_proposals = aes256gcm16
      }
    }
  }
}
secrets {
  ike-office {
    id = gw.example.org
    secret = "training-only-not-a-secret"
  }
}
`;

/** Bundles the CLI with esbuild and returns the bundle text and the files it was made from. */
async function bundleCli(directory) {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [ENTRY_POINT],
    outfile: join(directory, BUNDLE_FILE),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    tsconfig: 'tsconfig.json',
    external: EXTERNAL_PACKAGES,
    // Turns import() into require(): vm.Script, which runs the bundle, has no import().
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': '__lupinaBundleUrl' },
    banner: { js: BANNER },
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  // A warning here is a changed meaning, such as import.meta left empty in CommonJS.
  if (result.warnings.length > 0) {
    const messages = await esbuild.formatMessages(result.warnings, { kind: 'warning' });
    throw new Error(`bundling ${ENTRY_POINT} failed on esbuild warnings; fix them in the sources:\n${messages.join('')}`);
  }
  const output = result.outputFiles.find((file) => file.path.endsWith(BUNDLE_FILE));
  return { text: output.text, inputs: Object.keys(result.metafile.inputs).sort() };
}

/** Puts the SHA-256 of the text after line 1 into line 1, which has the same length before and after. */
function stampBundleId(text) {
  const firstLineEnd = text.indexOf('\n');
  const id = createHash('sha256').update(text.slice(firstLineEnd + 1)).digest('hex');
  return `${BUNDLE_ID_PREFIX}${id}${text.slice(firstLineEnd)}`;
}

/** Writes a file under a temporary name first, so a reader sees the old file or the whole new one. */
function writeFileAtomically(path, data) {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

/**
 * Runs `lupina import --dry-run` of the training profile from the bundle in a fresh Node.js
 * process, which writes the code cache when it exits. NODE_OPTIONS is left out because V8
 * rejects a cache made with other V8 flags than the run that reads it.
 */
function writeCodeCache(directory) {
  const scratch = mkdtempSync(join(tmpdir(), 'lupina-code-cache-'));
  try {
    const profile = join(scratch, 'training-swanctl.conf');
    writeFileSync(profile, TRAINING_PROFILE, { mode: 0o600 });
    const environment = { ...process.env };
    delete environment['NODE_OPTIONS'];
    environment['LUPINA_CONFIG_DIR'] = join(scratch, 'config');
    environment['LUPINA_RUNTIME_DIR'] = join(scratch, 'run');
    const command = [fileURLToPath(import.meta.url), '--write-code-cache', directory, 'import', '--dry-run', profile];
    const result = spawnSync(process.execPath, command, { env: environment, encoding: 'utf8' });
    if (result.status !== 0) {
      throw new Error(
        `making the code cache failed: lupina import --dry-run of the training profile exited with ` +
          `${result.status ?? result.signal}:\n${result.stderr}`,
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Removes the bundle files from an earlier build in `directory`. A directory that contains anything
 * else is not a bundle directory, for example a mistyped OUTPUT_DIRECTORY, so it is left alone.
 */
function clearBundleDirectory(directory) {
  const bundleFiles = [BUNDLE_FILE, CODE_CACHE_FILE, MANIFEST_FILE];
  let entries;
  try {
    entries = readdirSync(directory);
  } catch {
    return;
  }
  const others = entries.filter((name) => !bundleFiles.includes(name) && !name.endsWith('.tmp'));
  if (others.length > 0) {
    throw new Error(`${directory} contains files that are not part of a CLI bundle (${others.slice(0, 3).join(', ')}), ` +
      'so it is not overwritten; name an empty or new directory');
  }
  for (const name of entries) {
    rmSync(join(directory, name), { force: true });
  }
}

async function build(directory) {
  const { text, inputs } = await bundleCli(directory);
  clearBundleDirectory(directory);
  mkdirSync(directory, { recursive: true });
  writeFileAtomically(join(directory, BUNDLE_FILE), stampBundleId(text));
  writeFileAtomically(join(directory, MANIFEST_FILE), `${JSON.stringify({ entryPoint: ENTRY_POINT, inputs }, null, 2)}\n`);
  writeCodeCache(directory);
  console.log(`wrote ${join(directory, BUNDLE_FILE)} (${inputs.length} inputs) and ${CODE_CACHE_FILE}`);
}

if (process.argv[2] === '--write-code-cache') {
  // The CLI in the bundle reads its arguments from process.argv[2] on.
  const directory = process.argv[3];
  process.argv.splice(2, 2);
  runBundleAndWriteCodeCache(directory);
} else {
  await build(resolve(process.argv[2] ?? BUNDLE_DIRECTORY));
}
