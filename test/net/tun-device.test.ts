// TunDevice and the lupina_native addon against the real kernel. Every test creates its own
// network namespace and runs a scenario from fixtures/tun-scenarios.ts inside it, so the
// tests need root; without root they are skipped.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';

import { loadNative } from '../../main/net/native.js';
import {
  createNamespace,
  deleteNamespace,
  hasCommand,
  NOBODY,
  needsRoot,
  runInNamespace,
  type ChildOutcome,
} from './fixtures/netns.js';
import { ipv6Bytes, parseIpv4 } from './fixtures/packets.js';

const SCENARIOS = './tun-scenarios.ts';

interface ErrorFields {
  code?: string;
  errno?: number;
  syscall?: string;
  message?: string;
}

/** Result fields are checked one by one, so the scenario output is typed loosely. */
type Result = Record<string, any>;

function resultOf(outcome: ChildOutcome): Result {
  assert.equal(outcome.code, 0, `scenario failed:\n${outcome.stderr}`);
  assert.ok(outcome.result, `scenario printed no result:\n${outcome.stdout}${outcome.stderr}`);
  return outcome.result as Result;
}

describe('TunDevice', { skip: needsRoot }, () => {
  let namespace = '';

  beforeEach(() => {
    namespace = createNamespace();
  });

  afterEach(() => {
    deleteNamespace(namespace);
  });

  const run = async (scenario: string, ...args: string[]): Promise<Result> =>
    resultOf(await runInNamespace(namespace, SCENARIOS, [scenario, ...args]));

  test(
    'ping request read, reply written',
    { skip: hasCommand('ping') ? false : 'ping is not installed (apt-get install iputils-ping)' },
    async () => {
      const result = await run('ping');

      assert.equal(result.request?.source, '192.0.2.1');
      assert.equal(result.request?.destination, '192.0.2.2');
      assert.equal(result.request?.icmpType, 8);
      assert.equal(result.request?.icmpCode, 0);
      assert.equal(result.pingExit, 0, result.output);
      assert.match(result.output, /1 received/);
      assert.equal(result.stats.packetsSent, 1);
      assert.ok(result.stats.packetsReceived >= 1);
    },
  );

  test('IPv4 UDP out and in', async () => {
    const result = await run('udp4');
    const packet = parseIpv4(Buffer.from(result.packetHex, 'hex'));
    const udp = packet.payload;

    assert.equal(packet.protocol, 17);
    assert.equal(packet.source, '192.0.2.1');
    assert.equal(packet.destination, '192.0.2.2');
    assert.equal(udp.readUInt16BE(0), result.port);
    assert.equal(udp.readUInt16BE(2), 40000);
    assert.equal(udp.subarray(8).toString(), 'outbound');
    assert.equal(result.written, true);
    assert.deepEqual(result.inbound, { data: 'inbound', address: '192.0.2.2', port: 40001 });
  });

  test('IPv6 UDP out and in', async () => {
    const result = await run('udp6');
    const packet = Buffer.from(result.packetHex, 'hex');
    const udp = packet.subarray(40);

    assert.equal((packet[0] ?? 0) >> 4, 6);
    assert.equal(packet[6], 17);
    assert.deepEqual(packet.subarray(8, 24), ipv6Bytes('2001:db8::1'));
    assert.deepEqual(packet.subarray(24, 40), ipv6Bytes('2001:db8::2'));
    assert.equal(udp.readUInt16BE(2), 40000);
    assert.equal(udp.subarray(8).toString(), 'outbound');
    assert.deepEqual(result.inbound, { data: 'inbound', address: '2001:db8::2', port: 40001 });
  });

  test('kernel-chosen names', async () => {
    const result = await run('kernel-name');
    const [first, second] = result.names as string[];

    assert.match(first ?? '', /^lupina\d+$/);
    assert.match(second ?? '', /^lupina\d+$/);
    assert.notEqual(first, second);
    assert.deepEqual(result.listedWhileOpen, [true, true]);
    assert.deepEqual(result.listedAfterClose, [false, false]);
  });

  test('persistent device survives close', async () => {
    const result = await run('persist', 'lupinakeep0');

    assert.equal(result.name, 'lupinakeep0');
    assert.match(result.details, /lupinakeep0/);
    assert.match(result.details, /persist on/);
    assert.match(result.details, /user (65534|nobody)/);
    assert.match(result.details, /group (65534|nogroup)/);
    assert.equal(result.existsAfterDelete, false);
    assert.equal(result.secondDelete?.code, 'ENODEV');
  });

  test('close twice is safe', async () => {
    const result = await run('close-twice');

    assert.equal(result.secondClose, null);
    assert.equal(result.closed, true);
    assert.equal(result.writeAfterClose?.code, 'ERR_LUPINA_CLOSED');
    assert.equal(result.onPacketsAfterClose?.code, 'ERR_LUPINA_CLOSED');
  });

  test('close inside callback stops callbacks', async () => {
    const result = await run('close-in-callback');

    assert.equal(result.calls, 1);
    assert.ok(result.packetsInFirstCall >= 20, `first call had ${result.packetsInFirstCall}`);
  });

  test('reads drain in bounded batches', async () => {
    const count = 150;
    const limit = loadNative().batchLimit;
    const result = await run('batch', String(count));
    const sizes = result.batchSizes as number[];

    assert.equal(limit, 64);
    assert.equal(result.udpPackets, count);
    assert.equal(sizes[0], limit);
    assert.ok(sizes.every((size) => size >= 1 && size <= limit), `batches ${sizes.join(',')}`);
    assert.equal(result.stats.batches, sizes.length);
    assert.equal(result.stats.packetsReceived, sizes.reduce((sum, size) => sum + size, 0));
  });

  test('reading device keeps process alive', async () => {
    const result = await run('keeps-alive');

    assert.equal(result.closedByTimer, true);
  });

  test('unref lets process exit', async () => {
    const result = await run('unref');

    assert.equal(result.timerFired, false);
    assert.equal(result.closed, false);
  });

  test('errors carry code and hint', async () => {
    const result = await run('errors');
    const { tooLong, busy, notTun, badOwner, deleteMissing, writeWhileDown, writeNotIp } =
      result as Record<string, ErrorFields>;

    assert.equal(tooLong?.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(tooLong?.message ?? '', /'lupina-name-too-long' is 20 bytes long/);
    assert.match(tooLong?.message ?? '', /1 to 15 bytes/);
    assert.equal(busy?.code, 'EBUSY');
    assert.equal(busy?.errno, -16);
    assert.equal(busy?.syscall, 'ioctl(TUNSETIFF)');
    assert.match(busy?.message ?? '', /name is in use/);
    assert.equal(notTun?.code, 'EINVAL');
    assert.match(notTun?.message ?? '', /not a TUN device/);
    assert.equal(badOwner?.code, 'ERR_INVALID_ARG_VALUE');
    assert.equal(deleteMissing?.code, 'ENODEV');
    assert.equal(writeWhileDown?.code, 'EIO');
    assert.match(writeWhileDown?.message ?? '', /ip link set/);
    assert.equal(writeNotIp?.code, 'EINVAL');
    assert.match(writeNotIp?.message ?? '', /IPv4 or IPv6 header/);
  });

  test('unprivileged open explains CAP_NET_ADMIN', async () => {
    const outcome = await runInNamespace(namespace, SCENARIOS, ['unprivileged'], {
      unprivilegedAs: NOBODY,
    });
    const error = resultOf(outcome).open as ErrorFields | null;

    assert.ok(error, 'open succeeded without privileges');
    assert.ok(['EACCES', 'EPERM'].includes(error.code ?? ''), `code ${error.code}`);
    assert.match(error.message ?? '', /root or the CAP_NET_ADMIN capability/);
  });

  test('deleted interface reports EBADFD', async () => {
    const result = await run('deleted');
    const error = result.error as ErrorFields | null;

    assert.equal(error?.code, 'EBADFD');
    assert.equal(error?.syscall, 'poll');
    assert.match(error?.message ?? '', /interface was deleted/);
  });
});
