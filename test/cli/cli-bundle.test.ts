/**
 * The single-file CLI bundle from scripts/build-cli-bundle.js: it prints what the sources (run
 * through tsx) and a current dist/ print for help, usage errors and imports, one of which loads
 * node-forge. V8 accepts its code cache, a damaged cache or bundle is not used, and
 * bundleIsCurrent notices a newer or missing input.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

import {
  BUNDLE_FILE, BundleIntegrityError, CODE_CACHE_FILE, DIST_ENTRY, distIsCurrent, MANIFEST_FILE, PROJECT_ROOT,
  bundleIsCurrent, compileBundle,
} from '../../scripts/cli-bundle.js';
import { makeFixtures, signWithCa } from '../profile/fixtures.js';
import { createCliFolder, SAMPLES, type CliFolder } from './cli-process.js';

const BUILD_SCRIPT = join(PROJECT_ROOT, 'scripts', 'build-cli-bundle.js');
const LOADER_URL = pathToFileURL(join(PROJECT_ROOT, 'scripts', 'cli-bundle.js')).href;
const SOURCE_ENTRY = join(PROJECT_ROOT, 'main', 'cli', 'run.ts');
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNode(args: string[], environment: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, args, { cwd: PROJECT_ROOT, env: environment, timeout: 60_000 },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }));
  });
}

/** Replaces what differs between two runs of the same command: profile ids and the config folder. */
function normalize(run: Run, folder: CliFolder): Run {
  const clean = (text: string) => text.replaceAll(folder.directory, 'FOLDER').replace(UUID, 'UUID');
  return { code: run.code, stdout: clean(run.stdout), stderr: clean(run.stderr) };
}

describe('CLI bundle', () => {
  let bundleDirectory: string;
  let runner: string;
  let fixturesDirectory: string;
  let signedProfile: string;
  /** dist/main/cli/run.js, or the same file of a tsc build made for this test when dist/ is stale. */
  let distEntry = DIST_ENTRY;
  let tscDirectory: string | null = null;
  const folders: CliFolder[] = [];

  before(async () => {
    // Two levels below the project root, like dist/bundle, so node_modules and the addon resolve.
    mkdirSync(join(PROJECT_ROOT, 'dist'), { recursive: true });
    bundleDirectory = mkdtempSync(join(PROJECT_ROOT, 'dist', 'bundle-test-'));
    const built = await runNode([BUILD_SCRIPT, bundleDirectory]);
    assert.equal(built.code, 0, built.stderr);

    runner = join(bundleDirectory, 'run.mjs');
    writeFileSync(runner, `import { runBundle } from ${JSON.stringify(LOADER_URL)};\n` +
      `runBundle(${JSON.stringify(bundleDirectory)});\n`);

    // CI runs from a clean clone without dist/, so the comparison gets a build of its own.
    if (!distIsCurrent()) {
      tscDirectory = mkdtempSync(join(PROJECT_ROOT, 'dist', 'tsc-test-'));
      const tsc = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const compiled = await runNode([tsc, '-p', 'tsconfig.json', '--outDir', tscDirectory]);
      assert.equal(compiled.code, 0, compiled.stdout + compiled.stderr);
      distEntry = join(tscDirectory, 'main', 'cli', 'run.js');
    }

    const fixtures = makeFixtures();
    fixturesDirectory = fixtures.directory;
    signedProfile = join(fixturesDirectory, 'signed.mobileconfig');
    writeFileSync(signedProfile, signWithCa(fixtures, readFileSync(join(SAMPLES, 'psk-eap.mobileconfig'), 'utf8')));
  });

  after(() => {
    rmSync(bundleDirectory, { recursive: true, force: true });
    if (tscDirectory) {
      rmSync(tscDirectory, { recursive: true, force: true });
    }
    rmSync(fixturesDirectory, { recursive: true, force: true });
    for (const folder of folders) {
      rmSync(folder.directory, { recursive: true, force: true });
    }
  });

  /** Runs `node ARGS` for `lupina` with a fresh config folder, and normalizes the output. */
  async function runCli(args: string[]): Promise<Run> {
    const folder = await createCliFolder('lupina-bundle-');
    folders.push(folder);
    return normalize(await runNode(args, folder.environment), folder);
  }

  const commands: Array<[string, () => string[]]> = [
    ['--help', () => ['--help']],
    ['usage error', () => ['connect']],
    ['import of swanctl.conf', () => ['import', join(SAMPLES, 'psk-swanctl.conf')]],
    ['import --json of sswan', () => ['import', '--json', join(SAMPLES, 'eap-office.sswan')]],
    ['import of signed mobileconfig', () => ['import', '--dry-run', signedProfile]],
  ];
  for (const [name, args] of commands) {
    it(`prints what the sources print: ${name}`, async () => {
      const bundle = await runCli([runner, ...args()]);
      const sources = await runCli(['--import', 'tsx', SOURCE_ENTRY, ...args()]);
      assert.equal(bundle.stderr, sources.stderr);
      assert.equal(bundle.stdout, sources.stdout);
      assert.equal(bundle.code, sources.code);
    });

    it(`prints what dist/ prints: ${name}`, async () => {
      const bundle = await runCli([runner, ...args()]);
      const dist = await runCli([distEntry, ...args()]);
      assert.equal(bundle.stderr, dist.stderr);
      assert.equal(bundle.stdout, dist.stdout);
      assert.equal(bundle.code, dist.code);
    });
  }

  it('signed mobileconfig import succeeds', async () => {
    const bundle = await runCli([runner, 'import', '--dry-run', signedProfile]);
    assert.equal(bundle.code, 0, bundle.stderr);
    assert.match(bundle.stderr, /checked \(not saved\)/);
  });

  it('runs in strict mode', () => {
    const secondLine = readFileSync(join(bundleDirectory, BUNDLE_FILE), 'utf8').split('\n')[1];
    assert.equal(secondLine, '"use strict";');
  });

  it('code cache is accepted by node', async () => {
    const check = `import { compileBundle } from ${JSON.stringify(LOADER_URL)};\n` +
      `process.stdout.write(compileBundle(${JSON.stringify(bundleDirectory)}).cacheStatus);`;
    const result = await runNode(['--input-type=module', '--eval', check]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'used');
  });

  it('code cache of another build is ignored', () => {
    const cachePath = join(bundleDirectory, CODE_CACHE_FILE);
    const cache = readFileSync(cachePath);
    const otherBuild = Buffer.from(cache);
    otherBuild[0] = otherBuild[0] === 0x30 ? 0x31 : 0x30;
    writeFileSync(cachePath, otherBuild);
    try {
      assert.equal(compileBundle(bundleDirectory).cacheStatus, 'missing');
    } finally {
      writeFileSync(cachePath, cache);
    }
  });

  it('damaged code cache is ignored', () => {
    const cachePath = join(bundleDirectory, CODE_CACHE_FILE);
    const cache = readFileSync(cachePath);
    const damaged = Buffer.from(cache);
    // Past both SHA-256 headers: the bytes that V8 itself would read without a checksum.
    for (let index = 200; index < 264; index++) {
      damaged[index]! ^= 0xa5;
    }
    writeFileSync(cachePath, damaged);
    try {
      assert.equal(compileBundle(bundleDirectory).cacheStatus, 'missing');
    } finally {
      writeFileSync(cachePath, cache);
    }
  });

  it('cut-off bundle is not run', async () => {
    const bundlePath = join(bundleDirectory, BUNDLE_FILE);
    const bundle = readFileSync(bundlePath);
    writeFileSync(bundlePath, bundle.subarray(0, bundle.length - 100));
    try {
      assert.throws(() => compileBundle(bundleDirectory), BundleIntegrityError);
      const check = `import { runBundle } from ${JSON.stringify(LOADER_URL)};\n` +
        `process.stdout.write(String(runBundle(${JSON.stringify(bundleDirectory)})));`;
      const result = await runNode(['--input-type=module', '--eval', check]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'false');
    } finally {
      writeFileSync(bundlePath, bundle);
    }
  });

  it('build keeps a directory of other files', async () => {
    const directory = mkdtempSync(join(PROJECT_ROOT, 'dist', 'bundle-test-other-'));
    try {
      writeFileSync(join(directory, 'notes.txt'), 'keep');
      const built = await runNode([BUILD_SCRIPT, directory]);
      assert.notEqual(built.code, 0);
      assert.match(built.stderr, /contains files that are not part of a CLI bundle \(notes\.txt\)/);
      assert.equal(readFileSync(join(directory, 'notes.txt'), 'utf8'), 'keep');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('is current after the build', () => {
    assert.equal(bundleIsCurrent(bundleDirectory), true);
  });

  describe('with an extra input', () => {
    const extraInput = () => join(bundleDirectory, 'extra-input.ts');
    let manifest: string;
    before(() => {
      const manifestPath = join(bundleDirectory, MANIFEST_FILE);
      manifest = readFileSync(manifestPath, 'utf8');
      const parsed = JSON.parse(manifest) as { inputs: string[] };
      parsed.inputs.push(extraInput().slice(PROJECT_ROOT.length));
      writeFileSync(manifestPath, JSON.stringify(parsed));
    });
    after(() => {
      writeFileSync(join(bundleDirectory, MANIFEST_FILE), manifest);
    });

    it('is stale when the input is missing', () => {
      rmSync(extraInput(), { force: true });
      assert.equal(bundleIsCurrent(bundleDirectory), false);
    });

    it('is current when the input is older', () => {
      writeFileSync(extraInput(), 'export {};\n');
      const bundleTime = statSync(join(bundleDirectory, BUNDLE_FILE)).mtime;
      const older = new Date(bundleTime.getTime() - 60_000);
      utimesSync(extraInput(), older, older);
      assert.equal(bundleIsCurrent(bundleDirectory), true);
    });

    it('is stale when the input is newer', () => {
      writeFileSync(extraInput(), 'export {};\n');
      const bundleTime = statSync(join(bundleDirectory, BUNDLE_FILE)).mtime;
      const newer = new Date(bundleTime.getTime() + 60_000);
      utimesSync(extraInput(), newer, newer);
      assert.equal(bundleIsCurrent(bundleDirectory), false);
    });
  });
});
