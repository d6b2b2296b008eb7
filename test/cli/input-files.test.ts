/**
 * Bounded reads of the files named on the command line: FIFOs, devices, directories, missing
 * and oversized files get a message with the path instead of a hang, a huge read or a raw errno.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { MAX_INPUT_FILE_BYTES } from '../../main/cli/input-files.js';
import { createCliFolder, runLupina, SAMPLES, type CliFolder } from './cli-process.js';

const run = promisify(execFile);
/** A rejected file must fail at once; a hang ends at this timeout and fails the test. */
const TIMEOUT_MS = 20_000;

describe('lupina input files', () => {
  let folder: CliFolder;
  let fifo: string;

  before(async () => {
    folder = await createCliFolder('lupina-input-');
    fifo = join(folder.directory, 'profile.fifo');
    await run('mkfifo', [fifo]);
  });
  after(async () => {
    await rm(folder.directory, { recursive: true, force: true });
  });

  function lupina(...args: string[]) {
    return runLupina(folder.environment, args, { timeoutMs: TIMEOUT_MS });
  }

  it('import rejects a FIFO', async () => {
    const result = await lupina('import', fifo);
    assert.equal(result.signal, null, 'lupina import hung on a FIFO');
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`profile file is not a regular file: ${fifo}`));
  });

  it('import rejects /dev/zero', async () => {
    const result = await lupina('import', '/dev/zero');
    assert.equal(result.signal, null, 'lupina import read /dev/zero without end');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /profile file is not a regular file: \/dev\/zero/);
  });

  it('import rejects a directory', async () => {
    const result = await lupina('import', folder.directory);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /profile file is a directory, not a file: /);
    assert.doesNotMatch(result.stderr, /EISDIR/);
  });

  it('import names a missing file', async () => {
    const path = join(folder.directory, 'missing.conf');
    const result = await lupina('import', path);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `lupina: profile file not found: ${path}\n`);
  });

  it('import rejects a file over 1 MiB', async () => {
    const path = join(folder.directory, 'large.conf');
    await writeFile(path, '');
    await truncate(path, MAX_INPUT_FILE_BYTES + 1);
    const result = await lupina('import', path);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /profile file is too large \(1048577 bytes\)/);
    assert.match(result.stderr, /the limit is 1048576 bytes \(1 MiB\)/);
  });

  it('import reads a file of exactly 1 MiB', async () => {
    const path = join(folder.directory, 'limit.conf');
    await writeFile(path, '');
    await truncate(path, MAX_INPUT_FILE_BYTES);
    const result = await lupina('import', path, '--dry-run');
    assert.equal(result.code, 1);
    assert.doesNotMatch(result.stderr, /too large/);
  });

  it('password file must be a regular file', async () => {
    const result = await lupina('import', join(SAMPLES, 'tunnel-setkey.conf'), '--dry-run', '--password-file', fifo);
    assert.equal(result.signal, null, 'lupina import hung on a FIFO password file');
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`password file is not a regular file: ${fifo}`));
  });

  it('password file names a missing file', async () => {
    const path = join(folder.directory, 'no-password');
    const result = await lupina('import', join(SAMPLES, 'tunnel-setkey.conf'), '--dry-run', '--password-file', path);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`password file not found: ${path}`));
  });

  it('connect rejects a FIFO', async () => {
    const result = await lupina('connect', fifo);
    assert.equal(result.signal, null, 'lupina connect hung on a FIFO');
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`profile file is not a regular file: ${fifo}`));
  });

  it('connect rejects a directory', async () => {
    const path = join(folder.directory, 'profiles.d/');
    await mkdir(path);
    const result = await lupina('connect', path);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /profile file is a directory, not a file: /);
  });

  it('connect names a missing file', async () => {
    const path = join(folder.directory, 'missing.sswan');
    const result = await lupina('connect', path);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`profile file not found: ${path}`));
  });
});
