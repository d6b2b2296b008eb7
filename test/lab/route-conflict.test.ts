/**
 * Routes that would carry tunnel traffic past the tunnel, in a real namespace with the real `ip`.
 * A route to the same prefix or to a part of it makes `lupina connect` fail, because that traffic
 * would leave unencrypted. The routes stay as they were, and no device is left. A host route to
 * the gateway that someone else added survives a connect and disconnect.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLab, isRoot, LAB, runIn, startLupina, writeProfile, type Lab } from './lab.js';

function clientSetkey(): string {
  const key = () => `0x${randomBytes(16).toString('hex')}`;
  const integrity = () => `0x${randomBytes(32).toString('hex')}`;
  const out = `esp/tunnel/${LAB.client.outer}-${LAB.gateway.outer}/require`;
  const back = `esp/tunnel/${LAB.gateway.outer}-${LAB.client.outer}/require`;
  return [
    `add ${LAB.client.outer} ${LAB.gateway.outer} esp 0x1001 -m tunnel -E aes-cbc ${key()} -A hmac-sha256 ${integrity()};`,
    `add ${LAB.gateway.outer} ${LAB.client.outer} esp 0x2001 -m tunnel -E aes-cbc ${key()} -A hmac-sha256 ${integrity()};`,
    `spdadd ${LAB.client.inner}/32 ${LAB.office.network} any -P out ipsec ${out};`,
    `spdadd ${LAB.office.network} ${LAB.client.inner}/32 any -P in ipsec ${back};`,
    '',
  ].join('\n');
}

describe('routes that bypass the tunnel', { skip: isRoot() ? false : 'needs root for network namespaces' }, () => {
  let lab: Lab;
  let profile: string;
  before(async () => {
    lab = await createLab();
    profile = await writeProfile(lab, 'conflict-client.conf', clientSetkey());
  });
  after(async () => {
    await lab?.destroy();
  });

  async function expectRejected(route: string[], message: RegExp): Promise<void> {
    await runIn(lab.client, 'ip', ['route', 'add', ...route]);
    const run = startLupina(lab.client, lab.directory, 'conflict', profile);
    try {
      // A connect that wrongly succeeds never exits by itself, so wait for the exit or for "connected".
      const outcome = await Promise.race([run.exit, run.connected.then(() => 'connected')]);
      assert.equal(outcome, 1, run.output());
      assert.match(run.output(), message);
      const routes = await runIn(lab.client, 'ip', ['route']);
      assert.match(routes, new RegExp(`^${route[0]!.replace(/[./]/g, '\\$&')} via ${LAB.gateway.outer} dev wan0`, 'm'));
      assert.doesNotMatch(routes, /lupina\d/);
      const links = await runIn(lab.client, 'ip', ['-o', 'link']);
      assert.doesNotMatch(links, /: lupina\d+:/);
    } finally {
      await run.stop();
      await runIn(lab.client, 'ip', ['route', 'del', ...route]);
    }
  }

  it('same prefix outside tunnel rejected', { timeout: 30_000 }, async () => {
    await expectRejected([LAB.office.network, 'via', LAB.gateway.outer, 'dev', 'wan0'],
      /route to 203\.0\.113\.0\/24 already exists outside the tunnel/);
  });

  it('more specific route rejected', { timeout: 30_000 }, async () => {
    await expectRejected(['203.0.113.128/25', 'via', LAB.gateway.outer, 'dev', 'wan0'],
      /route to 203\.0\.113\.128\/25 via wan0 takes traffic for part of 203\.0\.113\.0\/24/);
  });

  it("someone else's gateway route survives", { timeout: 30_000 }, async () => {
    await runIn(lab.client, 'ip', ['route', 'add', `${LAB.gateway.outer}/32`, 'dev', 'wan0', 'proto', 'static']);
    try {
      const run = startLupina(lab.client, lab.directory, 'pinned', profile);
      try {
        await run.connected;
        assert.match(await runIn(lab.client, 'ip', ['route']), /203\.0\.113\.0\/24 dev lupina\d/);
      } finally {
        assert.equal(await run.stop(), 0);
      }
      const routes = await runIn(lab.client, 'ip', ['route', 'show', `${LAB.gateway.outer}/32`]);
      assert.match(routes, /proto static/);
    } finally {
      await runIn(lab.client, 'ip', ['route', 'del', `${LAB.gateway.outer}/32`]);
    }
  });
});
