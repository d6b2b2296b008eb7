/**
 * `lupina connect` in a namespace with no route to the gateway, with IKE and with manual keys: it
 * fails at once with a message that names the gateway and the missing route, and leaves no device
 * behind.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
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

  it('manual keys fail naming the route', { timeout: 20_000 }, async () => {
    const key = () => `0x${randomBytes(16).toString('hex')}`;
    const integrity = () => `0x${randomBytes(32).toString('hex')}`;
    const setkey = [
      `add 198.51.100.10 192.0.2.250 esp 0x1001 -m tunnel -E aes-cbc ${key()} -A hmac-sha256 ${integrity()};`,
      `add 192.0.2.250 198.51.100.10 esp 0x2001 -m tunnel -E aes-cbc ${key()} -A hmac-sha256 ${integrity()};`,
      'spdadd 198.51.100.200/32 203.0.113.0/24 any -P out ipsec esp/tunnel/198.51.100.10-192.0.2.250/require;',
      'spdadd 203.0.113.0/24 198.51.100.200/32 any -P in ipsec esp/tunnel/192.0.2.250-198.51.100.10/require;',
      '',
    ].join('\n');
    const profile = join(directory, 'manual.conf');
    await writeFile(profile, setkey, { mode: 0o600 });
    const run = startLupina(namespace, directory, 'manual', profile);

    assert.equal(await run.exit, 1, run.output());
    assert.match(run.output(), /no route to the gateway 192\.0\.2\.250 \(RTNETLINK answers: Network is unreachable\)/);
    assert.doesNotMatch(ipIn(namespace, '-o', 'link'), /lupina\d/);
  });
});
