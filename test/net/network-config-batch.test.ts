/**
 * The configurator's `ip -force -batch` path: which commands go into one batch, what the
 * journal contains while the batch runs, and how failed lines are handled. The error output that
 * `parseBatchFailures` reads was printed by iproute2 6.1 for a batch with two failing lines.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CommandError,
  parseBatchFailures,
  systemCommandRunner,
  type BatchLineFailure,
  type CommandRunner,
} from '../../main/net/command-runner.js';
import { NetworkConfigurator, RouteConflictError } from '../../main/net/network-config.js';

/** Records single commands and batches; a batch line that matches `failOn` fails with `failWith`. */
class BatchRecordingRunner implements CommandRunner {
  readonly calls: string[] = [];
  readonly batches: string[][] = [];
  /** Steps in the journal file when each batch started. */
  readonly journalStepsAtBatch: number[] = [];
  failOn: RegExp | null = null;
  failWith = 'RTNETLINK answers: Operation not permitted';

  constructor(private readonly journalPath: string) {}

  async run(command: string, args: readonly string[]): Promise<string> {
    this.calls.push([command, ...args].join(' '));
    if (args.includes('get')) {
      return JSON.stringify([{ dst: args.at(-1), gateway: '198.51.100.254', dev: 'wan0' }]);
    }
    return '';
  }

  async runIpBatch(lines: readonly (readonly string[])[]): Promise<BatchLineFailure[]> {
    const journal = JSON.parse(await readFile(this.journalPath, 'utf8'));
    this.journalStepsAtBatch.push(journal.steps.length);
    const texts = lines.map((line) => line.join(' '));
    this.batches.push(texts);
    return texts.flatMap((text, index) => (this.failOn?.test(text) ? [{ index, stderr: this.failWith }] : []));
  }
}

const silentLog = { info: () => undefined, warn: () => undefined };

const settings = {
  device: 'lupina0',
  addresses: ['192.0.2.200/32', '2001:db8::c8/128'],
  mtu: 1400,
  routes: ['203.0.113.0/24', '2001:db8:1::/48'],
  gateway: '198.51.100.1',
};

describe('network configurator with ip batches', () => {
  let directory: string;
  let journalPath: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'lupina-batch-'));
    journalPath = join(directory, `lupina0.${process.pid}.json`);
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('applies device and routes in one batch', async () => {
    const runner = new BatchRecordingRunner(journalPath);
    const configurator = new NetworkConfigurator(runner, directory, 'lupina0', silentLog);
    await configurator.apply(settings);

    assert.deepEqual(runner.calls, [
      'ip -j -4 route get 198.51.100.1',
      'ip -j -4 route show table main',
      'ip -j -6 route show table main',
    ]);
    assert.deepEqual(runner.batches, [[
      'link set dev lupina0 mtu 1400 up',
      'address add 192.0.2.200/32 dev lupina0',
      'address add 2001:db8::c8/128 dev lupina0',
      'route add 198.51.100.1/32 via 198.51.100.254 dev wan0 proto 76',
      'route add 203.0.113.0/24 dev lupina0',
      'route add 2001:db8:1::/48 dev lupina0',
    ]]);
    assert.deepEqual(runner.journalStepsAtBatch, [6], 'every undo step is journaled before the batch runs');

    runner.calls.length = 0;
    await configurator.revert();
    assert.deepEqual(runner.calls, [
      'ip -6 route del 2001:db8:1::/48 dev lupina0',
      'ip -4 route del 203.0.113.0/24 dev lupina0',
      'ip -4 route del 198.51.100.1/32 proto 76',
      'ip address del 2001:db8::c8/128 dev lupina0',
      'ip address del 192.0.2.200/32 dev lupina0',
      'ip link set dev lupina0 down',
    ]);
    assert.deepEqual(await readdir(directory), []);
  });

  it('existing gateway pin leaves the journal', async () => {
    const runner = new BatchRecordingRunner(journalPath);
    runner.failOn = /route add 198\.51\.100\.1\/32/;
    runner.failWith = 'RTNETLINK answers: File exists';
    const configurator = new NetworkConfigurator(runner, directory, 'lupina0', silentLog);
    await configurator.apply(settings);

    const journal = JSON.parse(await readFile(journalPath, 'utf8'));
    const descriptions = journal.steps.map((step: { description: string }) => step.description);
    assert.ok(!descriptions.includes('pin the route to gateway 198.51.100.1'));
    assert.equal(descriptions.length, 5);

    runner.calls.length = 0;
    await configurator.revert();
    assert.ok(!runner.calls.some((call) => call.includes('198.51.100.1/32')), 'a route that was there stays');
  });

  it('existing tunnel route fails the batch', async () => {
    const runner = new BatchRecordingRunner(journalPath);
    runner.failOn = /route add 203\.0\.113\.0\/24/;
    runner.failWith = 'RTNETLINK answers: File exists';
    const configurator = new NetworkConfigurator(runner, directory, 'lupina0', silentLog);
    await assert.rejects(configurator.apply(settings), RouteConflictError);
    assert.ok(runner.calls.includes('ip link set dev lupina0 down'));
    assert.ok(!runner.calls.includes('ip -4 route del 203.0.113.0/24 dev lupina0'), 'the existing route stays');
    assert.deepEqual(await readdir(directory), []);
  });

  it('failed line reverts the batch', async () => {
    const runner = new BatchRecordingRunner(journalPath);
    runner.failOn = /address add 2001/;
    const configurator = new NetworkConfigurator(runner, directory, 'lupina0', silentLog);
    await assert.rejects(configurator.apply(settings), (error: unknown) => {
      assert.ok(error instanceof CommandError);
      assert.match(error.message, /address add 2001:db8::c8\/128 dev lupina0 failed.*Operation not permitted/);
      return true;
    });

    assert.ok(runner.calls.includes('ip -4 route del 203.0.113.0/24 dev lupina0'));
    assert.ok(runner.calls.includes('ip link set dev lupina0 down'));
    assert.ok(!runner.calls.includes('ip address del 2001:db8::c8/128 dev lupina0'), 'the failed line has no undo');
    assert.deepEqual(await readdir(directory), []);
  });
});

describe('ip batch output', () => {
  it('failures map to their lines', () => {
    const stderr = [
      'RTNETLINK answers: File exists',
      'Command failed -:4',
      'Error: ipv4: Address already assigned.',
      'Command failed -:6',
      '',
    ].join('\n');
    assert.deepEqual(parseBatchFailures(stderr), [
      { index: 3, stderr: 'RTNETLINK answers: File exists' },
      { index: 5, stderr: 'Error: ipv4: Address already assigned.' },
    ]);
  });

  it('clean run has no failures', () => {
    assert.deepEqual(parseBatchFailures(''), []);
  });

  it('argument with a blank is rejected', async () => {
    await assert.rejects(
      systemCommandRunner.runIpBatch!([['route', 'add', '203.0.113.0/24 dev', 'eth0']]),
      /invalid batch argument "203\.0\.113\.0\/24 dev"/,
    );
  });

  it('argument with a newline is rejected', async () => {
    await assert.rejects(
      systemCommandRunner.runIpBatch!([['link', 'set', 'dev', 'x\nlink del dev eth0']]),
      /invalid batch argument/,
    );
  });
});
