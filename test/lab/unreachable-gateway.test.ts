/**
 * `lupina connect` in a namespace with no route to the gateway: it fails at once with a message
 * that names the gateway and the missing route, and leaves no device behind.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createNamespace, deleteNamespace, ipIn, needsRoot } from '../net/fixtures/netns.js';
import { unansweredProfile } from '../cli/cli-process.js';
import { startLupina } from './lab.js';


describe('gateway without a route', { skip: needsRoot }, () => {
  let namespace: string;
  let directory: string;

  before(async () => {
    namespace = createNamespace();
    directory = await mkdtemp(join(tmpdir(), 'lupina-unreachable-'));
  });
  after(async () => {
    deleteNamespace(namespace);
    await rm(directory, { recursive: true, force: true });
  });

  it('connect fails naming the route', { timeout: 20_000 }, async () => {
    const profile = join(directory, 'office.conf');
    await writeFile(profile, unansweredProfile('office', '192.0.2.1'), { mode: 0o600 });
    const run = startLupina(namespace, directory, 'unreachable', profile);

    assert.equal(await run.exit, 1, run.output());
    assert.match(run.output(), /cannot connect "office": cannot reach the gateway 192\.0\.2\.1 on UDP port 500: .*ENETUNREACH/);
    assert.match(run.output(), /ip route get 192\.0\.2\.1/);
    assert.doesNotMatch(ipIn(namespace, '-o', 'link'), /lupina\d/);
  });
});
