/**
 * `lupina list` and `lupina delete` with a corrupt profile file among the saved ones: the file is
 * named in a warning on stderr, the valid profiles are still listed, and delete removes it.
 */

import assert from 'node:assert/strict';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCliFolder, runLupina, SAMPLES, type CliFolder } from './cli-process.js';

const CORRUPT_ID = '11111111-2222-4333-8444-555555555555';

describe('lupina list and delete', () => {
  let folder: CliFolder;
  before(async () => {
    folder = await createCliFolder('lupina-profiles-');
  });
  after(async () => {
    await rm(folder.directory, { recursive: true, force: true });
  });

  it('list warns about a corrupt file', async () => {
    const imported = await runLupina(folder.environment, ['import', join(SAMPLES, 'psk-swanctl.conf')]);
    assert.equal(imported.code, 0, imported.stderr);
    const profiles = join(folder.directory, 'config', 'profiles');
    await mkdir(profiles, { recursive: true });
    await writeFile(join(profiles, `${CORRUPT_ID}.json`), '{broken');

    const listed = await runLupina(folder.environment, ['list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.trim().split('\n').length, 1, 'the valid profile is listed');
    assert.match(listed.stderr, new RegExp(`lupina: warning: skipped .*${CORRUPT_ID}\\.json: it is not a valid profile`));
    assert.match(listed.stderr, new RegExp(`delete the profile ${CORRUPT_ID}`));
  });

  it('delete removes the corrupt file', async () => {
    const deleted = await runLupina(folder.environment, ['delete', CORRUPT_ID]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stderr, new RegExp(`deleted ".*" \\(id ${CORRUPT_ID}\\)`));
    const files = await readdir(join(folder.directory, 'config', 'profiles'));
    assert.ok(!files.includes(`${CORRUPT_ID}.json`));

    const listed = await runLupina(folder.environment, ['list']);
    assert.equal(listed.stderr, '');
  });
});
