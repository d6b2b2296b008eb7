/**
 * The privileged helper's protocol checks, and the helper itself run as root in a network
 * namespace of its own: it creates a TUN device owned by the requested user, applies and
 * reverts network settings, refuses devices it did not create, and cleans up when the app goes.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { HelperClient, helperLaunch } from '../../main/app/helper-client.js';
import { checkNetworkSettings, HelperProtocolError, parseHelperRequest } from '../../main/app/helper-protocol.js';
import { Log } from '../../main/controller/log.js';
import { isRoot } from '../lab/lab.js';

const OWNED = new Set(['lupina0']);
const VALID = {
  device: 'lupina0',
  addresses: ['192.0.2.200/32'],
  mtu: 1400,
  routes: ['203.0.113.0/24', '2001:db8:300::/64'],
  gateway: '198.51.100.1',
  transportPeers: [{ address: '198.51.100.7', encapsulation: 'udp', udpPort: 4500 }],
  dns: { servers: ['203.0.113.53'], domains: ['corp.example'] },
};

function rejects(settings: object, pattern: RegExp): void {
  assert.throws(() => checkNetworkSettings(settings, OWNED), (error: unknown) =>
    error instanceof HelperProtocolError && pattern.test(error.message));
}

describe('helper protocol checks', () => {
  it('accepts valid settings', () => {
    assert.deepEqual(checkNetworkSettings(VALID, OWNED), VALID);
  });

  it('rejects a device it did not create', () => {
    rejects({ ...VALID, device: 'eth0' }, /not created by this helper/);
  });

  it('rejects an option as an address', () => {
    rejects({ ...VALID, addresses: ['-force'] }, /addresses\[0\]/);
  });

  it('rejects a prefix that is too long', () => {
    rejects({ ...VALID, routes: ['203.0.113.0/33'] }, /routes\[0\]/);
  });

  it('rejects a route with two slashes', () => {
    rejects({ ...VALID, routes: ['203.0.113.0/24/1'] }, /routes\[0\]/);
  });

  it('rejects a host name gateway', () => {
    rejects({ ...VALID, gateway: 'vpn.example.com' }, /gateway/);
  });

  it('rejects an MTU below 576', () => {
    rejects({ ...VALID, mtu: 575 }, /mtu/);
  });

  it('rejects a shell-like domain', () => {
    rejects({ ...VALID, dns: { servers: [], domains: ['corp.example;reboot'] } }, /domains\[0\]/);
  });

  it('rejects too many routes', () => {
    rejects({ ...VALID, routes: new Array(1025).fill('203.0.113.0/24') }, /at most 1024/);
  });

  it('rejects an unknown settings key', () => {
    rejects({ ...VALID, table: 'main' }, /unknown key "table"/);
  });

  it('rejects an unknown operation', () => {
    assert.throws(() => parseHelperRequest('{"id":1,"op":"runCommand","command":"sh"}', OWNED), HelperProtocolError);
  });

  it('rejects extra request fields', () => {
    assert.throws(() => parseHelperRequest('{"id":1,"op":"createTun","owner":0}', OWNED), /unknown key "owner"/);
  });

  it('rejects non-JSON lines', () => {
    assert.throws(() => parseHelperRequest('createTun', OWNED), /not JSON/);
  });

  it('parses a delete request', () => {
    assert.deepEqual(parseHelperRequest('{"id":3,"op":"deleteTun","device":"lupina0"}', OWNED),
      { id: 3, op: 'deleteTun', device: 'lupina0' });
  });

  it('launches through pkexec unless root', () => {
    assert.deepEqual(helperLaunch(['/opt/Lupina/resources/helper/lupina-helper'], false),
      { command: 'pkexec', args: ['/opt/Lupina/resources/helper/lupina-helper'] });
    assert.deepEqual(helperLaunch(['/opt/Lupina/resources/helper/lupina-helper'], true),
      { command: '/opt/Lupina/resources/helper/lupina-helper', args: [] });
  });
});

describe('privileged helper as root', { skip: isRoot() ? false : 'needs root for a network namespace and TUN devices' }, () => {
  const namespace = `lupina-test-helper-${randomBytes(3).toString('hex')}`;
  let directory: string;
  const ip = (...args: string[]) => execFileSync('ip', ['-n', namespace, ...args], { encoding: 'utf8' });
  const helperScript = fileURLToPath(new URL('../../main/app/privileged-helper.ts', import.meta.url));

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'lupina-helper-'));
    execFileSync('ip', ['netns', 'add', namespace]);
    ip('link', 'set', 'lo', 'up');
    // An outer link, so the helper can pin the route to the gateway.
    ip('link', 'add', 'wan0', 'type', 'veth', 'peer', 'name', 'wan1');
    ip('link', 'set', 'wan1', 'up');
    ip('address', 'add', '198.51.100.10/24', 'dev', 'wan0');
    ip('link', 'set', 'wan0', 'up');
  });

  after(async () => {
    execFileSync('ip', ['netns', 'delete', namespace]);
    await rm(directory, { recursive: true, force: true });
  });

  it('creates, configures and removes a device', { timeout: 60_000 }, async () => {
    const log = new Log('debug');
    const client = new HelperClient({
      command: 'ip',
      args: ['netns', 'exec', namespace, process.execPath, '--import', 'tsx', helperScript,
        '--owner', '4242', '--journal-dir', join(directory, 'journals')],
    }, log.scope('helper'));
    try {
      const device = await client.createTun();
      assert.match(device, /^lupina\d+$/);
      // /sys shows a namespace's devices only from inside it, so read the owner there.
      const owner = execFileSync('ip', ['netns', 'exec', namespace, 'cat', `/sys/class/net/${device}/owner`], { encoding: 'utf8' }).trim();
      assert.equal(owner, '4242');
      assert.match(ip('route', 'show'), /198\.51\.100\.0\/24 dev wan0/);

      await client.applyNetwork({ device, addresses: ['192.0.2.200/32'], mtu: 1400, routes: ['203.0.113.0/24'], gateway: '198.51.100.1' });
      assert.match(ip('address', 'show', 'dev', device), /192\.0\.2\.200\/32/);
      assert.match(ip('link', 'show', 'dev', device), /mtu 1400/);
      assert.match(ip('route', 'show'), /203\.0\.113\.0\/24 dev lupina/);
      assert.match(ip('route', 'show'), /198\.51\.100\.1 dev wan0/);

      await assert.rejects(client.revertNetwork('lo'), /not created by this helper/);

      await client.revertNetwork(device);
      assert.doesNotMatch(ip('address', 'show', 'dev', device), /192\.0\.2\.200/);
      assert.doesNotMatch(ip('route', 'show'), /203\.0\.113\.0/);

      await client.applyNetwork({ device, addresses: ['192.0.2.201/32'], mtu: 1400, routes: [], gateway: '198.51.100.1' });
    } finally {
      await client.close();
    }
    // Closing stdin made the helper revert the settings and delete the device.
    assert.doesNotMatch(ip('link', 'show'), /lupina\d/);
  });
});
