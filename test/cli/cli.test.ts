/**
 * The `lupina` command without a network: import output and errors, exit codes, and the
 * messages a user sees when nothing is connected.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

const LUPINA = fileURLToPath(new URL('../../bin/lupina.js', import.meta.url));
const SAMPLES = fileURLToPath(new URL('../profile/samples/', import.meta.url));

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('lupina CLI', () => {
  let directory: string;
  let environment: NodeJS.ProcessEnv;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'lupina-cli-'));
    environment = { ...process.env, LUPINA_CONFIG_DIR: join(directory, 'config'), LUPINA_RUNTIME_DIR: join(directory, 'run') };
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  function lupina(...args: string[]): Promise<RunResult> {
    return new Promise((resolve) => {
      execFile(process.execPath, [LUPINA, ...args], { env: environment, timeout: 60_000 }, (error, stdout, stderr) => {
        let code = 0;
        if (error) {
          code = typeof error.code === 'number' ? error.code : 1;
        }
        resolve({ code, stdout, stderr });
      });
    });
  }

  it('import --json redacts the keys', async () => {
    const result = await lupina('import', join(SAMPLES, 'tunnel-setkey.conf'), '--json');
    assert.equal(result.code, 0, result.stderr);
    const output = JSON.parse(result.stdout);
    assert.equal(output.ok, true);
    assert.equal(output.format, 'setkey');
    assert.equal(output.saved, true);
    assert.equal(output.profile.kind, 'manual');
    assert.equal(output.profile.staticSas.length, 2);
    assert.doesNotMatch(result.stdout, /000102030405060708090a0b0c0d0e0f/);
    for (const value of Object.values(output.secrets)) {
      assert.match(String(value), /^<redacted>/);
    }
  });

  it('saves secrets readable by the owner only', async () => {
    const secrets = join(directory, 'config', 'secrets');
    const mode = (await stat(secrets)).mode & 0o777;
    assert.equal(mode, 0o700);
  });

  it('import of the same profile needs --replace', async () => {
    const again = await lupina('import', join(SAMPLES, 'tunnel-setkey.conf'));
    assert.equal(again.code, 1);
    assert.match(again.stderr, /replace/);
    const replaced = await lupina('import', join(SAMPLES, 'tunnel-setkey.conf'), '--replace');
    assert.equal(replaced.code, 0, replaced.stderr);
  });

  it('list shows the saved profile', async () => {
    const result = await lupina('list');
    assert.equal(result.code, 0);
    assert.match(result.stdout, /manual\s+tunnel-setkey\s+198\.51\.100\.1/);
  });

  it('import errors name the line', async () => {
    const path = join(directory, 'broken-setkey.conf');
    await writeFile(path, [
      'add 192.0.2.10 198.51.100.1 esp 0x1001 -m tunnel -E aes-cbc 0x00 -A hmac-sha256 0x01;',
      'spdadd 192.0.2.200/32 203.0.113.0/24 any -P out ipsec esp/tunnel/192.0.2.10-198.51.100.1/require;',
      '',
    ].join('\n'));
    const result = await lupina('import', path);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: line 1: /);
    assert.match(result.stderr, /not imported/);
  });

  it('counter-IV transforms are rejected for manual keys', async () => {
    const result = await lupina('import', join(SAMPLES, 'gcm-setkey.conf'), '--json');
    assert.equal(result.code, 1);
    const output = JSON.parse(result.stdout);
    assert.equal(output.ok, false);
    assert.match(output.errors[0].message, /repeat IVs/);
  });

  it('status without a connection explains', async () => {
    const result = await lupina('status');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no connection is running/);
  });

  it('unknown commands are usage errors', async () => {
    const result = await lupina('teleport');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command "teleport"/);
    assert.match(result.stderr, /usage:/);
  });

  it('connect to an unknown profile fails', async () => {
    const result = await lupina('connect', 'no-such-profile');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no profile named "no-such-profile"/);
  });

  it('delete removes profile and secrets', async () => {
    const result = await lupina('delete', 'tunnel-setkey');
    assert.equal(result.code, 0, result.stderr);
    const list = await lupina('list');
    assert.doesNotMatch(list.stdout, /tunnel-setkey/);
    assert.deepEqual(await readdir(join(directory, 'config', 'secrets')), []);
  });
});
