/**
 * The lab's lupina environment sends DNS changes to a resolv.conf of the test instance, never to
 * the host's /etc/resolv.conf or systemd-resolved.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { detectDnsBackend } from '../../main/net/system-tunnel-io.js';
import { lupinaEnvironment } from '../lab/lab.js';

describe('lab DNS isolation', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'lupina-lab-env-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('backend is the instance file', async () => {
    const environment = lupinaEnvironment(directory, 'client');
    const expected = join(directory, 'client', 'resolv.conf');
    assert.equal(environment['LUPINA_RESOLV_CONF'], expected);
    assert.deepEqual(detectDnsBackend(environment), { type: 'resolv-conf', path: expected });
    assert.match(await readFile(expected, 'utf8'), /^# resolv\.conf of a Lupina test instance/);
  });

  it('restart keeps the instance file', async () => {
    // A restarted instance must find what the crashed run left, so recovery can restore it.
    const first = lupinaEnvironment(directory, 'restarted');
    const path = first['LUPINA_RESOLV_CONF']!;
    await writeFile(path, 'nameserver 203.0.113.53\n');
    const second = lupinaEnvironment(directory, 'restarted');
    assert.equal(second['LUPINA_RESOLV_CONF'], path);
    assert.equal(await readFile(path, 'utf8'), 'nameserver 203.0.113.53\n');
  });

  it('instances get separate files', () => {
    const gateway = lupinaEnvironment(directory, 'gateway')['LUPINA_RESOLV_CONF'];
    const client = lupinaEnvironment(directory, 'client')['LUPINA_RESOLV_CONF'];
    assert.notEqual(gateway, client);
  });
});
