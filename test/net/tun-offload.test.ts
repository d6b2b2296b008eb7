// TCP offload of TunDevice against the kernel: two namespaces, each with a TUN device, and a
// relay (fixtures/offload-relay.ts) that copies packets between the devices with writeBatch().
// TCP transfers across the relay show that split packets carry valid checksums, that merged
// frames are accepted, and that the data arrives intact. Needs root; skipped without it.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';

import type { PacketDeviceStats } from '../../main/net/packet-device.js';
import { createNamespace, deleteNamespace, needsRoot, runInNamespace } from './fixtures/netns.js';

const RELAY = './offload-relay.ts';

/** Bytes sent in each direction. */
const TRANSFER_BYTES = 8 * 1024 * 1024;

interface ChildResult {
  code: number | null;
  stderr: string;
  result?: { bytes: number; sha256: string };
}

interface Transfer {
  sent: ChildResult;
  received: ChildResult;
  milliseconds: number;
}

interface Tally {
  packets: number;
  valid: number;
  unchecked: number;
  invalid: number;
  largest: number;
  written: number;
  problems: unknown[];
}

type Counters = { tcp: number; udp: number };

interface RelayResult {
  forward: Transfer;
  backward: Transfer;
  statsAfterForward: { a: PacketDeviceStats; b: PacketDeviceStats };
  stats: { a: PacketDeviceStats; b: PacketDeviceStats };
  errorsBefore: { a: Counters; b: Counters };
  errorsAfter: { a: Counters; b: Counters };
  aToB: Tally;
  bToA: Tally;
}

function assertTransfer(transfer: Transfer, direction: string): void {
  assert.equal(transfer.sent.code, 0, `${direction} sender failed:\n${transfer.sent.stderr}`);
  assert.equal(transfer.received.code, 0, `${direction} receiver failed:\n${transfer.received.stderr}`);
  assert.equal(transfer.sent.result?.bytes, TRANSFER_BYTES, `${direction} bytes sent`);
  assert.equal(transfer.received.result?.bytes, TRANSFER_BYTES, `${direction} bytes received`);
  assert.equal(transfer.received.result?.sha256, transfer.sent.result?.sha256, `${direction} SHA-256 of the data`);
}

function assertChecked(tally: Tally, direction: string): void {
  assert.deepEqual(tally.problems, [], `${direction} packets with bad lengths or checksums`);
  assert.equal(tally.invalid, 0, `${direction} invalid packets`);
  assert.ok(tally.valid > TRANSFER_BYTES / 1500, `${direction} checked only ${tally.valid} packets`);
  assert.ok(tally.largest <= 1500, `${direction} relayed a packet of ${tally.largest} bytes, more than the MTU`);
  assert.equal(tally.written, tally.packets, `${direction} packets the kernel took from writeBatch()`);
}

function assertNoChecksumErrors(result: RelayResult): void {
  assert.deepEqual(result.errorsAfter.a, result.errorsBefore.a, 'InCsumErrors in namespace A');
  assert.deepEqual(result.errorsAfter.b, result.errorsBefore.b, 'InCsumErrors in namespace B');
}

function assertNoDeviceErrors(stats: PacketDeviceStats, device: string): void {
  assert.equal(stats.offloadErrors, 0, `${device} offloadErrors`);
  assert.equal(stats.sendErrors, 0, `${device} sendErrors`);
  assert.equal(stats.receiveErrors, 0, `${device} receiveErrors`);
  assert.equal(stats.receiveTruncated, 0, `${device} receiveTruncated`);
}

describe('TunDevice TCP offload', { skip: needsRoot }, () => {
  let namespaceA = '';
  let namespaceB = '';

  beforeEach(() => {
    namespaceA = createNamespace();
    namespaceB = createNamespace();
  });

  afterEach(() => {
    deleteNamespace(namespaceA);
    deleteNamespace(namespaceB);
  });

  async function relay(family: 4 | 6, offload: boolean): Promise<RelayResult> {
    const args = ['relay', namespaceA, namespaceB, String(family), offload ? 'on' : 'off', String(TRANSFER_BYTES)];
    const outcome = await runInNamespace(namespaceA, RELAY, args, { timeoutMs: 60_000 });
    assert.equal(outcome.code, 0, `relay failed:\n${outcome.stderr}`);
    assert.ok(outcome.result, `relay printed no result:\n${outcome.stdout}${outcome.stderr}`);
    return outcome.result as RelayResult;
  }

  for (const family of [4, 6] as const) {
    test(`IPv${family} transfer splits and merges`, async () => {
      const result = await relay(family, true);

      assertTransfer(result.forward, 'A to B');
      assertTransfer(result.backward, 'B to A');
      assertChecked(result.aToB, 'A to B');
      assertChecked(result.bToA, 'B to A');
      assertNoChecksumErrors(result);
      assertNoDeviceErrors(result.stats.a, 'device A');
      assertNoDeviceErrors(result.stats.b, 'device B');

      const forward = result.statsAfterForward;
      assert.ok(forward.a.offloadSplits > 0, 'A to B: device A split large packets');
      assert.ok(forward.b.offloadMerged > 0, 'A to B: device B wrote merged packets');
      assert.ok(result.stats.b.offloadSplits > forward.b.offloadSplits, 'B to A: device B split large packets');
      assert.ok(result.stats.a.offloadMerged > forward.a.offloadMerged, 'B to A: device A wrote merged packets');
    });
  }

  test('IPv4 transfer without offload', async () => {
    const result = await relay(4, false);

    assertTransfer(result.forward, 'A to B');
    assertTransfer(result.backward, 'B to A');
    assertChecked(result.aToB, 'A to B');
    assertChecked(result.bToA, 'B to A');
    assertNoChecksumErrors(result);
    for (const [device, stats] of Object.entries(result.stats)) {
      assertNoDeviceErrors(stats, `device ${device.toUpperCase()}`);
      assert.equal(stats.offloadSplits, 0, `device ${device.toUpperCase()} offloadSplits`);
      assert.equal(stats.offloadMerged, 0, `device ${device.toUpperCase()} offloadMerged`);
    }
  });
});
