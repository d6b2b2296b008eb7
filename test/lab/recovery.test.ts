/**
 * A `lupina connect` that dies without cleaning up (SIGKILL) leaves its journal behind. The
 * next start undoes what it left, so no route, rule or device survives. A profile that cannot
 * connect ends with a clear message and a non-zero exit code.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLab, isRoot, LAB, runIn, startLupina, writeProfile, type Lab } from './lab.js';

function clientSetkey(): string {
  const key = () => `0x${randomBytes(16).toString('hex')}`;
  const integrity = () => `0x${randomBytes(32).toString('hex')}`;
  return [
    `add ${LAB.client.outer} ${LAB.gateway.outer} esp 0x1001 -m tunnel -E aes-cbc ${key()} -A hmac-sha256 ${integrity()};`,
    `add ${LAB.gateway.outer} ${LAB.client.outer} esp 0x2001 -m tunnel -E aes-cbc ${key()} -A hmac-sha256 ${integrity()};`,
    // A default route through the tunnel, so the gateway needs its own pinned host route.
    `spdadd ${LAB.client.inner}/32 0.0.0.0/0 any -P out ipsec esp/tunnel/${LAB.client.outer}-${LAB.gateway.outer}/require;`,
    `spdadd 0.0.0.0/0 ${LAB.client.inner}/32 any -P in ipsec esp/tunnel/${LAB.gateway.outer}-${LAB.client.outer}/require;`,
    '',
  ].join('\n');
}

describe('crash recovery', { skip: isRoot() ? false : 'needs root for network namespaces' }, () => {
  let lab: Lab;
  before(async () => {
    lab = await createLab();
  });
  after(async () => {
    await lab?.destroy();
  });

  it('next start undoes a killed run', { timeout: 60_000 }, async () => {
    const profile = await writeProfile(lab, 'recovery-client.conf', clientSetkey());
    const first = startLupina(lab.client, lab.directory, 'recovery', profile);
    await first.connected;
    const during = await runIn(lab.client, 'ip', ['route']);
    assert.match(during, /198\.51\.100\.1 via|198\.51\.100\.1 dev wan0/);
    assert.match(during, /0\.0\.0\.0\/1 dev lupina\d/);

    first.child.kill('SIGKILL');
    await first.stop();
    const leftover = await runIn(lab.client, 'ip', ['route']);
    // The TUN device died with the process, but the pinned host route to the gateway stayed.
    assert.match(leftover, /^198\.51\.100\.1 /m);

    const second = startLupina(lab.client, lab.directory, 'recovery', profile);
    await second.connected;
    assert.match(second.output(), /undoing the network changes of process \d+/);
    assert.equal(await second.stop(), 0);

    const routes = await runIn(lab.client, 'ip', ['route']);
    assert.doesNotMatch(routes, /^198\.51\.100\.1 /m);
    assert.doesNotMatch(routes, /lupina\d/);
    const links = await runIn(lab.client, 'ip', ['-o', 'link']);
    assert.doesNotMatch(links, /: lupina\d+:/);
  });

  it('a profile that cannot connect exits 1', { timeout: 30_000 }, async () => {
    // The local outer address does not exist in the namespace, so the raw socket cannot bind.
    const text = clientSetkey().replaceAll(LAB.client.outer, '198.51.100.99');
    const profile = await writeProfile(lab, 'unreachable.conf', text);
    const run = startLupina(lab.client, lab.directory, 'unreachable', profile);
    const code = await run.exit;
    assert.equal(code, 1);
    assert.match(run.output(), /cannot connect "unreachable"/);
    assert.match(run.output(), /Cannot assign requested address|EADDRNOTAVAIL/);
    const links = await runIn(lab.client, 'ip', ['-o', 'link']);
    assert.doesNotMatch(links, /: lupina\d+:/);
  });
});
