/**
 * The iproute2 set-up with a recording command runner: the commands, their undo in reverse
 * order, the journal that survives a crash, the recovery of a stale journal, and the owner
 * check that separates a running journal owner from a zombie or a reused pid.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CommandError, type CommandRunner } from '../../main/net/command-runner.js';
import { NetworkConfigurator, recoverStaleJournals, RouteConflictError } from '../../main/net/network-config.js';
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

/** Returns a log that stores its messages, for checks on what the configurator reported. */
function recordingLog() {
  const messages = { info: [] as string[], warn: [] as string[] };
  return {
    messages,
    info: (message: string) => void messages.info.push(message),
    warn: (message: string) => void messages.warn.push(message),
  };
}

/** Returns the start time (field 22 of /proc/PID/stat) of a running process. */
function startTimeOf(pid: number): string {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[19]!;
}

/** Returns the journal file of a configurator in this process. */
function journalFile(directory: string, device: string): string {
  return join(directory, `${device}.${process.pid}.json`);
}

/** Rewrites a journal as if its process had died: a pid above pid_max cannot run. */
async function orphanJournal(path: string): Promise<void> {
  const journal = JSON.parse(await readFile(path, 'utf8'));
  await writeFile(path, JSON.stringify({ ...journal, pid: 2 ** 30 }));
}

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
      'ip -j -4 route get 198.51.100.1',
      'ip link set dev lupina0 mtu 1400 up',
      'ip address add 192.0.2.200/32 dev lupina0',
      'ip -4 route add 198.51.100.1/32 via 198.51.100.254 dev wan0 proto 76',
      'ip -4 route add 203.0.113.0/24 dev lupina0',
      'ip -j -4 route show table main',
    ]);
    const journal = JSON.parse(await readFile(journalFile(directory, 'lupina0'), 'utf8'));
    assert.equal(journal.steps.length, 4);
    assert.equal(journal.pid, process.pid);
    assert.equal(journal.startTime, startTimeOf(process.pid));

    runner.calls.length = 0;
    await configurator.revert();
    assert.deepEqual(runner.calls, [
      'ip -4 route del 203.0.113.0/24 dev lupina0',
      'ip -4 route del 198.51.100.1/32 proto 76',
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
    assert.ok(runner.calls.includes('ip -4 route del 198.51.100.1/32 proto 76'));
    assert.ok(runner.calls.includes('ip address del 192.0.2.200/32 dev lupina1'));
    assert.deepEqual(await readdir(directory), []);
  });

  it('existing gateway route stays in place', async () => {
    const runner = new RecordingRunner();
    runner.failOn = /route add 198\.51\.100\.1\/32/;
    runner.failWith = 'RTNETLINK answers: File exists';
    const log = recordingLog();
    const configurator = new NetworkConfigurator(runner, directory, 'lupina4', log);
    await configurator.apply({ ...settings, device: 'lupina4' });
    assert.ok(runner.calls.includes('ip -4 route add 203.0.113.0/24 dev lupina4'));
    assert.ok(log.messages.info.some((message) => /existing route to gateway 198\.51\.100\.1.*not delete/.test(message)));
    const journal = JSON.parse(await readFile(journalFile(directory, 'lupina4'), 'utf8'));
    assert.ok(!JSON.stringify(journal.steps).includes('198.51.100.1/32'));

    runner.calls.length = 0;
    await configurator.revert();
    assert.ok(!runner.calls.some((call) => call.includes('route del 198.51.100.1/32')));
    assert.ok(runner.calls.includes('ip -4 route del 203.0.113.0/24 dev lupina4'));
  });

  it('pinned gateway route is recovered', async () => {
    const runner = new RecordingRunner();
    const configurator = new NetworkConfigurator(runner, directory, 'lupina10', silentLog);
    await configurator.apply({ ...settings, device: 'lupina10' });
    assert.ok(runner.calls.includes('ip -4 route add 198.51.100.1/32 via 198.51.100.254 dev wan0 proto 76'));
    await orphanJournal(journalFile(directory, 'lupina10'));

    const recovery = new RecordingRunner();
    assert.equal(await recoverStaleJournals(recovery, directory, silentLog), 1);
    assert.ok(recovery.calls.includes('ip -4 route del 198.51.100.1/32 proto 76'));
    assert.deepEqual(await readdir(directory), []);
  });

  it('existing tunnel route fails the set-up', async () => {
    const runner = new RecordingRunner();
    runner.failOn = /route add 203/;
    runner.failWith = 'RTNETLINK answers: File exists';
    const configurator = new NetworkConfigurator(runner, directory, 'lupina2', silentLog);
    await assert.rejects(configurator.apply({ ...settings, device: 'lupina2' }), (error: unknown) => {
      assert.ok(error instanceof RouteConflictError);
      assert.match(error.message, /route to 203\.0\.113\.0\/24 already exists outside the tunnel.*unencrypted/);
      return true;
    });
    assert.ok(runner.calls.includes('ip link set dev lupina2 down'), 'the rest of the set-up is undone');
    assert.ok(!runner.calls.includes('ip -4 route del 203.0.113.0/24 dev lupina2'), 'the existing route stays');
    assert.deepEqual(await readdir(directory), []);
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

  it('apply recovers stale journals first', async () => {
    const stale = { pid: 2 ** 30, device: 'lupina11', steps: [
      { undo: ['-4', 'route', 'del', '198.51.100.7/32'], description: 'pin the route to gateway 198.51.100.7' },
    ] };
    await writeFile(join(directory, 'lupina11.json'), JSON.stringify(stale));
    const runner = new RecordingRunner();
    const configurator = new NetworkConfigurator(runner, directory, 'lupina11', silentLog);
    await configurator.apply({ ...settings, device: 'lupina11' });
    assert.equal(runner.calls[0], 'ip -4 route del 198.51.100.7/32');
    assert.equal(runner.calls[1], 'ip -j -4 route get 198.51.100.1');
    await configurator.revert();
    assert.deepEqual(await readdir(directory), []);
  });

  it('malformed journal is removed', async () => {
    await writeFile(join(directory, 'lupina12.json'), JSON.stringify({ pid: 2 ** 30, device: 'lupina12', steps: 'none' }));
    const log = recordingLog();
    const runner = new RecordingRunner();
    assert.equal(await recoverStaleJournals(runner, directory, log), 0);
    assert.deepEqual(runner.calls, []);
    assert.match(log.messages.warn[0] ?? '', /unreadable network journal .*lupina12\.json: expected an object/);
    assert.deepEqual(await readdir(directory), []);
  });
});

describe('journal owner check', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'lupina-owner-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  /** Writes a journal whose one step deletes a route named after `device`. */
  async function writeJournal(device: string, owner: { pid: number; startTime?: string }): Promise<void> {
    const steps = [{ undo: ['-4', 'route', 'del', `203.0.113.0/24`, 'dev', device], description: `route via ${device}` }];
    await writeFile(join(directory, `${device}.json`), JSON.stringify({ ...owner, device, steps }));
  }

  /** Runs recovery and returns the devices whose journals it undid. */
  async function recoveredDevices(): Promise<string[]> {
    const runner = new RecordingRunner();
    await recoverStaleJournals(runner, directory, silentLog);
    return runner.calls.map((call) => call.split(' ').at(-1)!).sort();
  }

  it('running owner with its start time', async () => {
    await writeJournal('owner0', { pid: process.ppid, startTime: startTimeOf(process.ppid) });
    assert.deepEqual(await recoveredDevices(), []);
    await rm(join(directory, 'owner0.json'));
  });

  it('own journal with own start time', async () => {
    // Another configurator of this process, such as the privileged helper's second device.
    await writeJournal('owner1', { pid: process.pid, startTime: startTimeOf(process.pid) });
    assert.deepEqual(await recoveredDevices(), []);
    await rm(join(directory, 'owner1.json'));
  });

  it('reused pid is a dead owner', async () => {
    const startTime = String(Number(startTimeOf(process.ppid)) + 1);
    await writeJournal('owner2', { pid: process.ppid, startTime });
    assert.deepEqual(await recoveredDevices(), ['owner2']);
  });

  it('own pid without start time', async () => {
    // A journal of an older version that an earlier process with our pid left behind.
    await writeJournal('owner3', { pid: process.pid });
    assert.deepEqual(await recoveredDevices(), ['owner3']);
  });

  it('zombie owner is dead', { timeout: 20_000 }, async () => {
    // The shell starts a child that exits at once, then becomes `sleep`, which never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 15'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = await new Promise<number>((resolve, reject) => {
        parent.stdout.setEncoding('utf8').once('data', (line: string) => resolve(Number(line.trim())));
        parent.once('error', reject);
      });
      await waitForZombie(zombie);
      await writeJournal('owner4', { pid: zombie, startTime: startTimeOf(zombie) });
      await writeJournal('owner5', { pid: zombie });
      assert.deepEqual(await recoveredDevices(), ['owner4', 'owner5']);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

/** Waits until /proc shows the process as a zombie (state Z). */
async function waitForZombie(pid: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (text.slice(text.lastIndexOf(')') + 2).startsWith('Z')) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`process ${pid} did not become a zombie within 2 s`);
}

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
    await orphanJournal(journalFile(journals, 'lupina6'));

    assert.equal(await recoverStaleJournals(new RecordingRunner(), journals, silentLog), 1);
    assert.equal(await readFile(resolvConf, 'utf8'), original);
  });

  it('second instance keeps the original', async () => {
    const resolvConf = join(directory, 'resolv-shared.conf');
    const original = 'nameserver 192.0.2.53\n';
    await writeFile(resolvConf, original);
    const backend = { type: 'resolv-conf' as const, path: resolvConf };
    const first = new NetworkConfigurator(new RecordingRunner(), join(directory, 'first'), 'lupina0', silentLog, backend);
    await first.apply({ ...base, device: 'lupina0', dns: { servers: ['203.0.113.53'], domains: [] } });
    const written = await readFile(resolvConf, 'utf8');
    assert.match(written, new RegExp(`^# Written by Lupina process ${process.pid} `));

    const log = recordingLog();
    const second = new NetworkConfigurator(new RecordingRunner(), join(directory, 'second'), 'lupina1', log, backend);
    await second.apply({ ...base, device: 'lupina1', dns: { servers: ['203.0.113.54'], domains: [] } });
    assert.equal(await readFile(resolvConf, 'utf8'), written);
    assert.match(log.messages.warn[0] ?? '', /still runs, so it stays unchanged/);
    assert.deepEqual(await readdir(join(directory, 'second')), [`lupina1.${process.pid}.json`]);

    await first.revert();
    assert.equal(await readFile(resolvConf, 'utf8'), original);
    await second.revert();
    assert.equal(await readFile(resolvConf, 'utf8'), original);
  });

  it('stale backup survives a new run', async () => {
    // A crashed run of an older version: its journal and backup use names without the pid.
    const resolvConf = join(directory, 'resolv-stale.conf');
    const original = 'nameserver 192.0.2.53\nsearch example.net\n';
    const journals = join(directory, 'stale-journals');
    await mkdir(journals);
    const staleBackup = join(journals, 'lupina0.resolv.conf');
    await writeFile(staleBackup, original);
    await writeFile(resolvConf, '# Written by Lupina while its tunnel is up; the original returns on disconnect.\nnameserver 203.0.113.53\n');
    await writeFile(join(journals, 'lupina0.json'), JSON.stringify({ pid: 2 ** 30, device: 'lupina0', steps: [
      { undo: [], restore: { path: resolvConf, backup: staleBackup }, description: `restore ${resolvConf}` },
    ] }));

    const configurator = new NetworkConfigurator(new RecordingRunner(), journals, 'lupina0', silentLog, { type: 'resolv-conf', path: resolvConf });
    await configurator.apply({ ...base, device: 'lupina0', dns: { servers: ['203.0.113.54'], domains: [] } });
    assert.match(await readFile(resolvConf, 'utf8'), /^nameserver 203\.0\.113\.54$/m);
    await configurator.revert();
    assert.equal(await readFile(resolvConf, 'utf8'), original);
    assert.deepEqual(await readdir(journals), []);
  });

  it('restore runs only once', async () => {
    const resolvConf = join(directory, 'resolv-once.conf');
    const original = 'nameserver 192.0.2.53\n';
    await writeFile(resolvConf, original);
    const journals = join(directory, 'once-journals');
    const configurator = new NetworkConfigurator(new RecordingRunner(), journals, 'lupina0', silentLog, { type: 'resolv-conf', path: resolvConf });
    await configurator.apply({ ...base, device: 'lupina0', dns: { servers: ['203.0.113.53'], domains: [] } });
    // A copy of the journal, as if the process died after restoring but before the journal was updated.
    const copy = join(journals, 'lupina0.copy.json');
    await writeFile(copy, await readFile(journalFile(journals, 'lupina0'), 'utf8'));
    await orphanJournal(copy);

    await configurator.revert();
    assert.equal(await readFile(resolvConf, 'utf8'), original);
    const later = 'nameserver 198.51.100.53\n';
    await writeFile(resolvConf, later);
    const log = recordingLog();
    assert.equal(await recoverStaleJournals(new RecordingRunner(), journals, log), 1);
    assert.equal(await readFile(resolvConf, 'utf8'), later);
    assert.deepEqual(log.messages.warn, []);
    assert.match(log.messages.info.join('\n'), /restored already/);
  });

  it('missing resolv.conf names the fix', async () => {
    const missing = join(directory, 'no-such-resolv.conf');
    const configurator = new NetworkConfigurator(new RecordingRunner(), join(directory, 'missing'), 'lupina0', silentLog, { type: 'resolv-conf', path: missing });
    await assert.rejects(configurator.apply({ ...base, device: 'lupina0', dns: { servers: ['203.0.113.53'], domains: [] } }),
      /cannot read .*no-such-resolv\.conf.*LUPINA_RESOLV_CONF/);
    assert.deepEqual(await readdir(join(directory, 'missing')), []);
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
