/**
 * The iproute2 set-up with a recording command runner: the commands, their undo in reverse
 * order, the journal that survives a crash, and the recovery of a stale journal.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CommandError, type CommandRunner } from '../../main/net/command-runner.js';
import { NetworkConfigurator, recoverStaleJournals } from '../../main/net/network-config.js';
import { rangeToPrefixes, selectorRoutes } from '../../main/net/route-prefixes.js';
import { parseAddress } from '../../main/engine/address.js';
import { parseTrafficSelector } from '../../main/engine/traffic-selector.js';

class RecordingRunner implements CommandRunner {
  readonly calls: string[] = [];
  failOn: RegExp | null = null;
  failWith = 'RTNETLINK answers: Operation not permitted';

  async run(command: string, args: readonly string[]): Promise<string> {
    const line = [command, ...args].join(' ');
    this.calls.push(line);
    if (this.failOn?.test(line)) {
      throw new CommandError(command, args, 2, this.failWith);
    }
    if (args.includes('get')) {
      return JSON.stringify([{ dst: args.at(-1), gateway: '198.51.100.254', dev: 'wan0' }]);
    }
    return '';
  }
}

const silentLog = { info: () => undefined, warn: () => undefined };

describe('network configurator', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'lupina-journal-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  const settings = {
    device: 'lupina0',
    addresses: ['192.0.2.200/32'],
    mtu: 1400,
    routes: ['203.0.113.0/24'],
    gateway: '198.51.100.1',
  };

  it('applies and reverts in reverse order', async () => {
    const runner = new RecordingRunner();
    const configurator = new NetworkConfigurator(runner, directory, 'lupina0', silentLog);
    await configurator.apply(settings);
    assert.deepEqual(runner.calls, [
      'ip link set dev lupina0 mtu 1400 up',
      'ip address add 192.0.2.200/32 dev lupina0',
      'ip -j -4 route get 198.51.100.1',
      'ip -4 route add 198.51.100.1/32 via 198.51.100.254 dev wan0',
      'ip -4 route add 203.0.113.0/24 dev lupina0',
    ]);
    const journal = JSON.parse(await readFile(join(directory, 'lupina0.json'), 'utf8'));
    assert.equal(journal.steps.length, 4);

    runner.calls.length = 0;
    await configurator.revert();
    assert.deepEqual(runner.calls, [
      'ip -4 route del 203.0.113.0/24 dev lupina0',
      'ip -4 route del 198.51.100.1/32',
      'ip address del 192.0.2.200/32 dev lupina0',
      'ip link set dev lupina0 down',
    ]);
    assert.deepEqual(await readdir(directory), []);
  });

  it('undoes the applied part on failure', async () => {
    const runner = new RecordingRunner();
    runner.failOn = /route add 203/;
    const configurator = new NetworkConfigurator(runner, directory, 'lupina1', silentLog);
    await assert.rejects(configurator.apply({ ...settings, device: 'lupina1' }), CommandError);
    assert.ok(runner.calls.includes('ip -4 route del 198.51.100.1/32'));
    assert.ok(runner.calls.includes('ip address del 192.0.2.200/32 dev lupina1'));
    assert.deepEqual(await readdir(directory), []);
  });

  it('existing route is a warning', async () => {
    const runner = new RecordingRunner();
    runner.failOn = /route add 203/;
    runner.failWith = 'RTNETLINK answers: File exists';
    const warnings: string[] = [];
    const configurator = new NetworkConfigurator(runner, directory, 'lupina2', { info: () => undefined, warn: (message) => warnings.push(message) });
    await configurator.apply({ ...settings, device: 'lupina2' });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /203\.0\.113\.0\/24 already exists/);
    await configurator.revert();
  });

  it('transport peers get policy rules', async () => {
    const runner = new RecordingRunner();
    const configurator = new NetworkConfigurator(runner, directory, 'lupina3', silentLog);
    await configurator.apply({ ...settings, device: 'lupina3', addresses: [], routes: [], transportPeers: [{ address: '198.51.100.1', encapsulation: 'raw' }] });
    assert.ok(runner.calls.includes('ip -4 rule add to 198.51.100.1/32 fwmark 0x4c50 lookup main priority 19536'));
    assert.ok(runner.calls.includes('ip -4 route add 198.51.100.1/32 dev lupina3 table 19536'));
    assert.ok(runner.calls.includes('ip -4 rule add to 198.51.100.1/32 lookup 19536 priority 19537'));
    assert.ok(!runner.calls.some((call) => call.includes('route get')));
    await configurator.revert();
  });

  it('recovers the journal of a dead process', async () => {
    const runner = new RecordingRunner();
    // A pid far above pid_max cannot belong to a running process.
    const stale = { pid: 2 ** 30, device: 'lupina9', steps: [
      { undo: ['link', 'set', 'dev', 'lupina9', 'down'], description: 'bring lupina9 up' },
      { undo: ['-4', 'route', 'del', '198.51.100.1/32'], description: 'pin the route to gateway' },
    ] };
    await writeFile(join(directory, 'lupina9.json'), JSON.stringify(stale));
    const live = { pid: process.ppid, device: 'lupina8', steps: [{ undo: ['link', 'set', 'dev', 'lupina8', 'down'], description: 'x' }] };
    await writeFile(join(directory, 'lupina8.json'), JSON.stringify(live));

    const recovered = await recoverStaleJournals(runner, directory, silentLog);
    assert.equal(recovered, 1);
    assert.deepEqual(runner.calls, ['ip -4 route del 198.51.100.1/32', 'ip link set dev lupina9 down']);
    assert.deepEqual(await readdir(directory), ['lupina8.json']);
    await rm(join(directory, 'lupina8.json'));
  });
});

describe('route prefixes', () => {
  const cases: [string, string, string[]][] = [
    ['192.0.2.0', '192.0.2.255', ['192.0.2.0/24']],
    ['192.0.2.10', '192.0.2.20', ['192.0.2.10/31', '192.0.2.12/30', '192.0.2.16/30', '192.0.2.20/32']],
    ['0.0.0.0', '255.255.255.255', ['0.0.0.0/0']],
    ['2001:db8::', '2001:db8::ffff', ['2001:db8::/112']],
  ];
  for (const [start, end, expected] of cases) {
    it(`covers ${start} to ${end}`, () => {
      assert.deepEqual(rangeToPrefixes(parseAddress(start), parseAddress(end)), expected);
    });
  }

  it('splits default routes in halves', () => {
    const routes = selectorRoutes([parseTrafficSelector('0.0.0.0/0'), parseTrafficSelector('::/0')]);
    assert.deepEqual(routes, ['0.0.0.0/1', '128.0.0.0/1', '::/1', '8000::/1']);
  });
});

describe('DNS settings', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'lupina-dns-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  const base = { device: 'lupina5', addresses: [], mtu: 1400, routes: [], gateway: '198.51.100.1' };

  it('resolv.conf is rewritten and restored', async () => {
    const resolvConf = join(directory, 'resolv.conf');
    const original = 'nameserver 192.0.2.53\nsearch example.net\n';
    await writeFile(resolvConf, original);
    const journals = join(directory, 'journals');
    const configurator = new NetworkConfigurator(new RecordingRunner(), journals, 'lupina5', silentLog, { type: 'resolv-conf', path: resolvConf });
    await configurator.apply({ ...base, dns: { servers: ['203.0.113.53', '2001:db8:300::53'], domains: ['office.example'] } });
    const during = await readFile(resolvConf, 'utf8');
    assert.match(during, /^nameserver 203\.0\.113\.53$/m);
    assert.match(during, /^nameserver 2001:db8:300::53$/m);
    assert.match(during, /^search office\.example$/m);
    assert.doesNotMatch(during, /192\.0\.2\.53/);

    await configurator.revert();
    assert.equal(await readFile(resolvConf, 'utf8'), original);
  });

  it('resolv.conf comes back after a crash', async () => {
    const resolvConf = join(directory, 'resolv-crash.conf');
    const original = 'nameserver 192.0.2.53\n';
    await writeFile(resolvConf, original);
    const journals = join(directory, 'crash-journals');
    const configurator = new NetworkConfigurator(new RecordingRunner(), journals, 'lupina6', silentLog, { type: 'resolv-conf', path: resolvConf });
    await configurator.apply({ ...base, device: 'lupina6', dns: { servers: ['203.0.113.53'], domains: [] } });
    // Pretend the process died: rewrite the journal's pid to one that cannot run.
    const journalPath = join(journals, 'lupina6.json');
    const journal = JSON.parse(await readFile(journalPath, 'utf8'));
    await writeFile(journalPath, JSON.stringify({ ...journal, pid: 2 ** 30 }));

    assert.equal(await recoverStaleJournals(new RecordingRunner(), journals, silentLog), 1);
    assert.equal(await readFile(resolvConf, 'utf8'), original);
  });

  it('resolvectl gets routing domains', async () => {
    const runner = new RecordingRunner();
    const configurator = new NetworkConfigurator(runner, join(directory, 'resolved'), 'lupina7', silentLog, { type: 'resolvectl' });
    await configurator.apply({ ...base, device: 'lupina7', dns: { servers: ['203.0.113.53'], domains: ['office.example'] } });
    assert.ok(runner.calls.includes('resolvectl dns lupina7 203.0.113.53'));
    assert.ok(runner.calls.includes('resolvectl domain lupina7 ~office.example'));
    runner.calls.length = 0;
    await configurator.revert();
    assert.deepEqual(runner.calls.filter((call) => call.startsWith('resolvectl')), ['resolvectl revert lupina7', 'resolvectl revert lupina7']);
  });
});
