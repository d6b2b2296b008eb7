/**
 * The netlink runner: which `ip` commands it performs itself, and its fallback to the `ip`
 * binary. In a namespace, a cross-check runs the same commands through the real `ip` and compares
 * the changes, the JSON of route lookups and listings, and the errors.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { CommandError, type CommandRunner } from '../../main/net/command-runner.js';
import { parseIpCommand } from '../../main/net/netlink/ip-command.js';
import { loadNative } from '../../main/net/native.js';
import { NetlinkIpRunner, type NetlinkNative } from '../../main/net/netlink/netlink-ip-runner.js';
import {
  AF_INET, encodeRequest, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, routeBody, RTM_GETROUTE, splitMessages,
} from '../../main/net/netlink/rtnetlink-message.js';
import { createNamespace, deleteNamespace, ipIn, needsRoot, runInNamespace } from './fixtures/netns.js';

const SCENARIO = './netlink-scenario.ts';

/** Returns a fallback runner that records each call and returns `output` for every command. */
function recordingFallback(output = 'from ip'): CommandRunner & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    run(command, args) {
      calls.push([command, ...args].join(' '));
      return Promise.resolve(output);
    },
    runIpBatch(lines) {
      calls.push(...lines.map((line) => `batch ${line.join(' ')}`));
      return Promise.resolve([]);
    },
  };
}

function fakeNative(reply: () => Buffer, indexes: Record<string, number> = { lupina0: 5 }): NetlinkNative {
  return {
    rtnetlinkRequest: reply,
    interfaceIndex: (name) => indexes[name] ?? 0,
    interfaceName: (index) => Object.keys(indexes).find((name) => indexes[name] === index) ?? null,
  };
}

describe('ip commands that netlink performs', () => {
  it('set-up and undo shapes are read', () => {
    const supported = [
      ['link', 'set', 'dev', 'lupina0', 'mtu', '1446', 'up'],
      ['link', 'set', 'dev', 'lupina0', 'down'],
      ['address', 'add', '198.51.100.17/32', 'dev', 'lupina0'],
      ['address', 'del', '2001:db8::17/128', 'dev', 'lupina0'],
      ['-4', 'route', 'add', '203.0.113.0/24', 'dev', 'lupina0'],
      ['route', 'add', '192.0.2.1/32', 'via', '198.51.100.1', 'dev', 'wan0', 'proto', '76'],
      ['-4', 'route', 'del', '192.0.2.1/32', 'proto', '76'],
      ['-6', 'route', 'del', '2001:db8:5::/48', 'dev', 'lupina0'],
      ['-j', '-4', 'route', 'get', '192.0.2.1'],
      ['-j', '-6', 'route', 'show', 'table', 'main'],
    ];
    for (const args of supported) {
      assert.notEqual(parseIpCommand(args), null, args.join(' '));
    }
  });

  it('other commands go to ip', () => {
    const unsupported = [
      ['-4', 'rule', 'add', 'to', '192.0.2.1/32', 'lookup', 'main'],
      ['route', 'add', '203.0.113.0/24', 'dev', 'lupina0', 'table', '19536'],
      ['route', 'add', '203.0.113.0/24'],
      ['-6', 'route', 'add', '203.0.113.0/24', 'dev', 'lupina0'],
      ['route', 'add', '203.0.113.0/33', 'dev', 'lupina0'],
      ['route', 'add', '2001:db8::/48', 'via', '192.0.2.1', 'dev', 'lupina0'],
      ['route', 'add', '203.0.113.0/24', 'dev', 'lupina0', 'proto', '256'],
      ['link', 'set', 'dev', 'lupina0', 'mtu', 'large'],
      ['link', 'set', 'dev', 'lupina0', 'up', 'down'],
      ['link', 'set', 'dev', 'lupina0', 'dev', 'eth0'],
      ['-batch', '-'],
      ['route', 'get', '192.0.2.1'],
      ['-j', 'route', 'show'],
      ['-j', 'link', 'show', 'dev', 'lupina0'],
    ];
    for (const args of unsupported) {
      assert.equal(parseIpCommand(args), null, args.join(' '));
    }
  });
});

describe('rtnetlink addon requests', () => {
  it('invalid requests are rejected', () => {
    const native = loadNative();
    const header = (length: number, flags: number) => {
      const bytes = Buffer.alloc(16);
      bytes.writeUInt32LE(length, 0);
      bytes.writeUInt16LE(RTM_GETROUTE, 4);
      bytes.writeUInt16LE(flags, 6);
      return bytes;
    };
    assert.throws(() => native.rtnetlinkRequest('request' as unknown as Uint8Array), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => native.rtnetlinkRequest(header(17, NLM_F_REQUEST | NLM_F_DUMP)), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => native.rtnetlinkRequest(header(16, NLM_F_REQUEST)), /NLM_F_ACK or NLM_F_DUMP/);
  });

  it('route dump ends with done', () => {
    const body = routeBody({ family: AF_INET, dstLength: 0, table: 0, protocol: 0, scope: 0, type: 0 });
    const reply = loadNative().rtnetlinkRequest(encodeRequest(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 7, body, []));
    const messages = splitMessages(reply);
    assert.equal(messages.at(-1)?.type, NLMSG_DONE);
    assert.ok(messages.every((message) => message.seq === 7));
  });
});

describe('netlink runner fallback', () => {
  it('missing addon runs ip', async () => {
    const fallback = recordingFallback();
    const runner = new NetlinkIpRunner(fallback, () => null);
    assert.equal(await runner.run('ip', ['-j', '-4', 'route', 'get', '192.0.2.1']), 'from ip');
    await runner.runIpBatch([['link', 'set', 'dev', 'lupina0', 'up']]);
    assert.deepEqual(fallback.calls, ['ip -j -4 route get 192.0.2.1', 'batch link set dev lupina0 up']);
  });

  it('batch with one unsupported line runs in ip', async () => {
    const fallback = recordingFallback();
    const runner = new NetlinkIpRunner(fallback, () => fakeNative(() => {
      throw new Error('netlink must not run');
    }));
    await runner.runIpBatch([['link', 'set', 'dev', 'lupina0', 'up'], ['rule', 'add', 'to', '192.0.2.1/32', 'lookup', 'main']]);
    assert.equal(fallback.calls.length, 2);
  });

  it('unknown device fails like ip', async () => {
    const runner = new NetlinkIpRunner(recordingFallback(), () => fakeNative(() => Buffer.alloc(0)));
    await assert.rejects(runner.run('ip', ['address', 'add', '198.51.100.17/32', 'dev', 'nosuch0']), (error: unknown) => {
      assert.ok(error instanceof CommandError);
      assert.equal(error.exitCode, 1);
      assert.equal(error.stderr, 'Cannot find device "nosuch0"');
      return true;
    });
  });

  it('malformed kernel reply is a command error', async () => {
    const runner = new NetlinkIpRunner(recordingFallback(), () => fakeNative(() => Buffer.from([0xff, 0, 0, 0, 2, 0])));
    const failures = await runner.runIpBatch([['link', 'set', 'dev', 'lupina0', 'up']]);
    assert.equal(failures.length, 1);
    assert.match(failures[0]!.stderr, /malformed routing netlink reply/);
  });
});

interface ScenarioResult {
  outcomes: { output?: string; exitCode?: number | null; stderr?: string; failures?: { index: number; stderr: string }[] }[];
  fallbackCalls: string[];
}

/** Returns the fields of `ip -j` route entries that Lupina reads, from next hops too. */
function routeFields(json: string): Record<string, unknown>[] {
  const pick = (entry: Record<string, unknown>, keys: string[]) =>
    Object.fromEntries(keys.filter((key) => entry[key] !== undefined).map((key) => [key, entry[key]]));
  return (JSON.parse(json) as Record<string, unknown>[]).map((entry) => {
    const fields = pick(entry, ['dst', 'gateway', 'dev', 'type', 'protocol', 'prefsrc']);
    if (Array.isArray(entry['nexthops'])) {
      fields['nexthops'] = (entry['nexthops'] as Record<string, unknown>[]).map((hop) => pick(hop, ['gateway', 'dev']));
    }
    return fields;
  });
}

/** Runs `ip -n NS ARGS` and returns its exit code and error output. */
function realIp(namespace: string, args: string[]): { exitCode: number; stderr: string } {
  try {
    execFileSync('ip', ['-n', namespace, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    return { exitCode: 0, stderr: '' };
  } catch (error) {
    const failed = error as { status: number; stderr: Buffer | string };
    return { exitCode: failed.status, stderr: String(failed.stderr) };
  }
}

describe('netlink runner against the real ip', { skip: needsRoot }, () => {
  let namespace: string;

  before(() => {
    namespace = createNamespace();
    ipIn(namespace, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'a1');
    ipIn(namespace, 'link', 'set', 'a0', 'up');
    ipIn(namespace, 'address', 'add', '192.0.2.10/24', 'dev', 'a0');
    ipIn(namespace, '-6', 'address', 'add', '2001:db8::10/64', 'dev', 'a0', 'nodad');
    ipIn(namespace, 'route', 'add', '198.51.100.0/24', 'via', '192.0.2.1', 'proto', '76');
    ipIn(namespace, 'route', 'add', '203.0.113.128/25', 'via', '192.0.2.1', 'proto', 'static');
    ipIn(namespace, 'route', 'add', '203.0.113.64/26', 'nexthop', 'via', '192.0.2.1', 'dev', 'a0', 'nexthop', 'via', '192.0.2.2', 'dev', 'a0');
  });
  after(() => {
    deleteNamespace(namespace);
  });

  async function scenario(steps: unknown[]): Promise<ScenarioResult> {
    const outcome = await runInNamespace(namespace, SCENARIO, [JSON.stringify(steps)]);
    assert.equal(outcome.code, 0, outcome.stderr);
    const result = outcome.result as ScenarioResult;
    assert.deepEqual(result.fallbackCalls, [], 'every command ran over netlink');
    return result;
  }

  it('lookups and listings match ip', async () => {
    const queries = [
      ['-j', '-4', 'route', 'get', '198.51.100.7'],
      ['-j', '-4', 'route', 'get', '203.0.113.200'],
      ['-j', '-4', 'route', 'get', '192.0.2.10'],
      ['-j', '-6', 'route', 'get', '2001:db8::99'],
      ['-j', '-4', 'route', 'show', 'table', 'main'],
      ['-j', '-6', 'route', 'show', 'table', 'main'],
    ];
    const result = await scenario(queries.map((run) => ({ run })));
    for (const [index, query] of queries.entries()) {
      const ours = result.outcomes[index]!;
      assert.equal(ours.stderr, undefined, `${query.join(' ')}: ${ours.stderr}`);
      assert.deepEqual(routeFields(ours.output!), routeFields(ipIn(namespace, ...query)), query.join(' '));
    }
  });

  it('set-up changes are made', async () => {
    const result = await scenario([{
      batch: [
        ['link', 'set', 'dev', 'a1', 'mtu', '1400', 'up'],
        ['address', 'add', '198.51.100.77/32', 'dev', 'a1'],
        ['address', 'add', '2001:db8:1::5/128', 'dev', 'a1'],
        ['route', 'add', '203.0.113.0/25', 'dev', 'a1'],
        ['route', 'add', '2001:db8:5::/48', 'dev', 'a1'],
        ['route', 'add', '192.0.2.99/32', 'via', '192.0.2.1', 'dev', 'a0', 'proto', '76'],
      ],
    }]);
    assert.deepEqual(result.outcomes[0]!.failures, []);

    const link = JSON.parse(ipIn(namespace, '-j', 'link', 'show', 'dev', 'a1')) as { mtu: number; flags: string[] }[];
    assert.equal(link[0]!.mtu, 1400);
    assert.ok(link[0]!.flags.includes('UP'));
    const addresses = ipIn(namespace, '-o', 'address', 'show', 'dev', 'a1');
    assert.match(addresses, /inet 198\.51\.100\.77\/32 scope global a1/);
    assert.match(addresses, /inet6 2001:db8:1::5\/128 scope global/);
    assert.match(ipIn(namespace, 'route', 'show', '203.0.113.0/25'), /^203\.0\.113\.0\/25 dev a1 scope link \n?$/);
    assert.match(ipIn(namespace, '-6', 'route', 'show', '2001:db8:5::/48'), /^2001:db8:5::\/48 dev a1 metric 1024/);
    assert.match(ipIn(namespace, 'route', 'show', '192.0.2.99'), /^192\.0\.2\.99 via 192\.0\.2\.1 dev a0 proto 76/);
  });

  it('errors match ip', async () => {
    const failing = [
      ['-4', 'route', 'add', '203.0.113.128/25', 'dev', 'a1'],
      ['-4', 'route', 'del', '203.0.113.64/26', 'dev', 'a1'],
      ['address', 'add', '198.51.100.78/32', 'dev', 'nosuch0'],
      ['-4', 'route', 'del', '198.51.100.0/24', 'proto', '77'],
    ];
    const result = await scenario(failing.map((run) => ({ run })));
    for (const [index, args] of failing.entries()) {
      const ours = result.outcomes[index]!;
      const theirs = realIp(namespace, args);
      assert.equal(ours.exitCode, theirs.exitCode, args.join(' '));
      assert.ok(theirs.stderr.includes(ours.stderr!.replace(/^RTNETLINK answers: /, '').replace(/ \(.*\)$/, '')),
        `${args.join(' ')}: ours "${ours.stderr}", ip "${theirs.stderr.trim()}"`);
    }
    assert.match(result.outcomes[0]!.stderr!, /File exists/);
    assert.match(result.outcomes[1]!.stderr!, /No such process/);
  });

  it('undo removes the changes', async () => {
    const result = await scenario([{
      batch: [
        ['-4', 'route', 'del', '192.0.2.99/32', 'proto', '76'],
        ['-6', 'route', 'del', '2001:db8:5::/48', 'dev', 'a1'],
        ['-4', 'route', 'del', '203.0.113.0/25', 'dev', 'a1'],
        ['address', 'del', '198.51.100.77/32', 'dev', 'a1'],
        ['link', 'set', 'dev', 'a1', 'down'],
      ],
    }]);
    assert.deepEqual(result.outcomes[0]!.failures, []);
    assert.equal(ipIn(namespace, 'route', 'show', '192.0.2.99'), '');
    assert.equal(ipIn(namespace, 'route', 'show', '203.0.113.0/25'), '');
    assert.doesNotMatch(ipIn(namespace, '-o', 'address', 'show', 'dev', 'a1'), /198\.51\.100\.77/);
    const link = JSON.parse(ipIn(namespace, '-j', 'link', 'show', 'dev', 'a1')) as { flags: string[] }[];
    assert.ok(!link[0]!.flags.includes('UP'));
    // The administrator's routes stay.
    assert.match(ipIn(namespace, 'route', 'show', '198.51.100.0/24'), /proto 76/);
  });
});
