/**
 * Routes that take part of a tunnel prefix past the tunnel: the pure check on `ip -j route show`
 * entries, and the configurator failing closed on them (or warning inside a full tunnel).
 */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CommandRunner } from '../../main/net/command-runner.js';
import { NetworkConfigurator, RouteConflictError } from '../../main/net/network-config.js';
import { findBypassRoutes } from '../../main/net/route-bypass.js';

describe('bypass route check', () => {
  const tunnel = ['203.0.113.0/24', '2001:db8:1::/48', '8000::/1'];

  it('more specific route is found', () => {
    const found = findBypassRoutes([{ dst: '203.0.113.128/25', dev: 'wan0' }], tunnel, 'lupina0', 76);
    assert.deepEqual(found, [{ route: '203.0.113.128/25', dev: 'wan0', tunnelPrefix: '203.0.113.0/24' }]);
  });

  it('host route is found', () => {
    const found = findBypassRoutes([{ dst: '203.0.113.5', dev: 'wan0' }], tunnel, 'lupina0', 76);
    assert.equal(found.length, 1);
  });

  it('IPv6 route is found', () => {
    const found = findBypassRoutes([{ dst: '2001:db8:1:2::/64', dev: 'wan0' }], tunnel, 'lupina0', 76);
    assert.equal(found[0]?.tunnelPrefix, '2001:db8:1::/48');
  });

  it('routes outside or harmless are ignored', () => {
    const routes = [
      { dst: 'default', dev: 'wan0' },
      { dst: '203.0.112.0/24', dev: 'wan0' },
      { dst: '203.0.113.0/23', dev: 'wan0' },
      { dst: '203.0.113.0/24', dev: 'lupina0' },
      { dst: '203.0.113.64/26', dev: 'wan0', type: 'blackhole' },
      { dst: '203.0.113.1', dev: 'wan0', protocol: 76 },
      { dst: '2001:db8:2::/48', dev: 'wan0' },
      { dst: 'fe80::/64', dev: 'wan0' },
    ];
    assert.deepEqual(findBypassRoutes(routes, tunnel, 'lupina0', 76), []);
  });

  it('multipath route with one outside hop is found', () => {
    const route = { dst: '203.0.113.128/25', nexthops: [{ dev: 'lupina0' }, { dev: 'wan0' }] };
    const found = findBypassRoutes([route], tunnel, 'lupina0', 76);
    assert.deepEqual(found, [{ route: '203.0.113.128/25', dev: 'wan0', tunnelPrefix: '203.0.113.0/24' }]);
  });

  it('multipath route inside the tunnel is ignored', () => {
    const route = { dst: '203.0.113.128/25', nexthops: [{ dev: 'lupina0' }, { dev: 'lupina0' }] };
    assert.deepEqual(findBypassRoutes([route], tunnel, 'lupina0', 76), []);
  });
});

/** Replies to route lookups and listings as `ip -j` does, and records every call. */
class ListingRunner implements CommandRunner {
  readonly calls: string[] = [];

  constructor(private readonly mainTable: object[]) {}

  async run(command: string, args: readonly string[]): Promise<string> {
    this.calls.push([command, ...args].join(' '));
    if (args.includes('get')) {
      return JSON.stringify([{ dst: args.at(-1), gateway: '198.51.100.254', dev: 'wan0' }]);
    }
    if (args.includes('show')) {
      return JSON.stringify(args.includes('-4') ? this.mainTable : []);
    }
    return '';
  }
}

describe('configurator with bypass routes', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'lupina-bypass-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  const base = { device: 'lupina0', addresses: ['192.0.2.200/32'], mtu: 1400, gateway: '198.51.100.1' };

  it('split tunnel fails and reverts', async () => {
    const runner = new ListingRunner([{ dst: '203.0.113.128/25', dev: 'wan0', gateway: '198.51.100.254' }]);
    const configurator = new NetworkConfigurator(runner, directory, 'lupina0', { info: () => undefined, warn: () => undefined });
    await assert.rejects(configurator.apply({ ...base, routes: ['203.0.113.0/24'] }), (error: unknown) => {
      assert.ok(error instanceof RouteConflictError);
      assert.match(error.message, /route to 203\.0\.113\.128\/25 via wan0 takes traffic for part of 203\.0\.113\.0\/24/);
      return true;
    });
    assert.ok(runner.calls.includes('ip -4 route del 203.0.113.0/24 dev lupina0'), 'the tunnel route is undone');
    assert.deepEqual(await readdir(directory), []);
  });

  it('full tunnel only warns', async () => {
    const runner = new ListingRunner([{ dst: '198.51.100.0/24', dev: 'wan0' }]);
    const warnings: string[] = [];
    const configurator = new NetworkConfigurator(runner, directory, 'lupina0', {
      info: () => undefined, warn: (message) => void warnings.push(message),
    });
    await configurator.apply({ ...base, routes: ['0.0.0.0/1', '128.0.0.0/1'] });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /198\.51\.100\.0\/24 via wan0 .* reached without encryption/);
    await configurator.revert();
  });
});
