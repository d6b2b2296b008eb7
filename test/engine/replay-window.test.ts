import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ReplayWindow, type ReplayVerdict } from '../../main/engine/replay-window.js';
import { seededRandom } from '../support/prng.js';

const TWO_32 = 2 ** 32;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Returns a window with every number in `accepted` accepted, asserting each one. */
function windowWith(
  options: { size: number; esn: boolean; resyncThreshold?: number },
  accepted: readonly number[],
): ReplayWindow {
  const window = new ReplayWindow(options);
  for (const seq of accepted) {
    assert.equal(window.accept(seq), 'ok', `setup accept(${seq})`);
  }
  return window;
}

function range(first: number, last: number): number[] {
  const numbers: number[] = [];
  for (let seq = first; seq <= last; seq++) {
    numbers.push(seq);
  }
  return numbers;
}

/**
 * Receiver model written from the rule text of RFC 4303 section 3.4.3, on a Set of the
 * numbers received. 0 is never valid, and a number above the highest received passes.
 * A number at or below highest - size is too old, and one inside the window must not repeat.
 */
class ReferenceReceiver {
  readonly received = new Set<number>();
  highest = 0;

  constructor(readonly size: number) {}

  verdict(seq: number): ReplayVerdict {
    if (seq === 0) {
      return 'zero';
    }
    if (this.size === 0 || seq > this.highest) {
      return 'ok';
    }
    if (seq <= this.highest - this.size) {
      return 'too-old';
    }
    return this.received.has(seq) ? 'duplicate' : 'ok';
  }

  record(seq: number): void {
    this.received.add(seq);
    this.highest = Math.max(this.highest, seq);
  }

  bitmap(): Uint8Array {
    const bytes = new Uint8Array(Math.ceil(this.size / 8));
    for (let i = 0; i < this.size; i++) {
      if (this.received.has(this.highest - i)) {
        bytes[i >> 3] = (bytes[i >> 3] ?? 0) | (1 << (i & 7));
      }
    }
    return bytes;
  }
}

/**
 * ESN inference restated without the case split of RFC 4303 Appendix A2.2: the number
 * congruent to seqLow modulo 2^32 in [top - window + 1, top - window + 2^32]. Before the
 * first wrap a negative result has no subspace, so it is read in subspace 0.
 */
function referenceInference(seqLow: number, top: number, window: number): number {
  const bottom = top - window + 1;
  const offset = (((seqLow - bottom) % TWO_32) + TWO_32) % TWO_32;
  const seq = bottom + offset;
  return seq < 0 ? seq + TWO_32 : seq;
}

describe('ReplayWindow constructor', () => {
  test('constants follow RFC 4303', () => {
    assert.equal(ReplayWindow.DEFAULT_SIZE, 64);
    assert.equal(ReplayWindow.MIN_SIZE, 32);
    assert.equal(ReplayWindow.MAX_SIZE, 65536);
    assert.equal(ReplayWindow.DEFAULT_RESYNC_THRESHOLD, 32);
  });

  test('constructor accepts valid sizes', () => {
    for (const size of [0, 32, 33, 64, 1000, 1024, 65536]) {
      const window = new ReplayWindow({ size, esn: false });
      assert.equal(window.size, size);
      assert.equal(window.esn, false);
      assert.equal(window.top, 0);
      assert.equal(window.consecutiveIcvFailures, 0);
    }
  });

  test('constructor rejects invalid sizes', () => {
    for (const size of [1, 31, 65537, -64, 64.5, NaN, Infinity]) {
      assert.throws(
        () => new ReplayWindow({ size, esn: true }),
        (error: unknown) => {
          assert.ok(error instanceof RangeError, `size ${size}: RangeError`);
          assert.match(error.message, new RegExp(`size ${size}:`));
          assert.match(error.message, /from 32 to 65536/);
          return true;
        },
      );
    }
  });

  test('constructor rejects invalid resync threshold', () => {
    for (const resyncThreshold of [-1, 2.5, NaN]) {
      assert.throws(
        () => new ReplayWindow({ size: 64, esn: true, resyncThreshold }),
        RangeError,
        `threshold ${resyncThreshold}`,
      );
    }
    assert.equal(new ReplayWindow({ size: 64, esn: true, resyncThreshold: 0 }).resyncThreshold, 0);
  });
});

describe('ReplayWindow without ESN', () => {
  test('in-order numbers all accepted', () => {
    for (const size of [32, 64]) {
      const window = new ReplayWindow({ size, esn: false });
      for (let seq = 1; seq <= 300; seq++) {
        const result = window.check(seq);
        assert.equal(result.verdict, 'ok', `size ${size} check(${seq})`);
        assert.equal(result.seq, seq, `size ${size} check(${seq}).seq`);
        assert.equal(window.accept(seq), 'ok', `size ${size} accept(${seq})`);
        assert.equal(window.top, seq);
      }
    }
  });

  test('reordered numbers inside window', () => {
    // Top 100 and size 64: the window is [37, 100] and 100, 98 and 60 were received.
    const cases: { name: string; seq: number; verdict: ReplayVerdict }[] = [
      { name: 'one below top', seq: 99, verdict: 'ok' },
      { name: 'middle of window', seq: 70, verdict: 'ok' },
      { name: 'received in window', seq: 98, verdict: 'duplicate' },
      { name: 'received low in window', seq: 60, verdict: 'duplicate' },
      { name: 'bottom of window', seq: 37, verdict: 'ok' },
      { name: 'below bottom', seq: 36, verdict: 'too-old' },
      { name: 'top itself', seq: 100, verdict: 'duplicate' },
      { name: 'right of window', seq: 101, verdict: 'ok' },
    ];
    const window = windowWith({ size: 64, esn: false }, [60, 98, 100]);
    for (const { name, seq, verdict } of cases) {
      assert.equal(window.check(seq).verdict, verdict, name);
    }
    for (const seq of [99, 70, 37, 50, 64]) {
      assert.equal(window.accept(seq), 'ok', `late accept(${seq})`);
    }
    assert.equal(window.top, 100);
  });

  test('window edge per size', () => {
    for (const size of [32, 40, 64, 1024, 4096]) {
      const top = 5000;
      const window = windowWith({ size, esn: false }, [top]);
      const oldestInWindow = top - size + 1;
      assert.equal(window.check(oldestInWindow).verdict, 'ok', `size ${size}: top - size + 1`);
      assert.equal(window.check(top - size).verdict, 'too-old', `size ${size}: top - size`);
      assert.equal(window.accept(top - size), 'too-old', `size ${size}: accept top - size`);
      assert.equal(window.accept(oldestInWindow), 'ok', `size ${size}: accept top - size + 1`);
      assert.equal(window.check(oldestInWindow).verdict, 'duplicate', `size ${size}: repeat`);
    }
  });

  test('too old numbers rejected', () => {
    const window = windowWith({ size: 64, esn: false }, [1000]);
    for (const seq of [1, 500, 900, 936]) {
      const result = window.check(seq);
      assert.equal(result.verdict, 'too-old', `check(${seq})`);
      assert.equal(result.seq, seq, `check(${seq}).seq`);
    }
    assert.equal(window.check(937).verdict, 'ok');
  });

  test('duplicates before and after accept', () => {
    const window = windowWith({ size: 32, esn: false }, [10]);
    assert.equal(window.check(10).verdict, 'duplicate', 'check after accept');
    assert.equal(window.accept(10), 'duplicate', 'second accept');
    assert.equal(window.check(9).verdict, 'ok', 'neighbour not received');
    assert.equal(window.accept(9), 'ok');
    assert.equal(window.check(9).verdict, 'duplicate', 'late number after accept');
  });

  test('accept rechecks after concurrent check', () => {
    const window = windowWith({ size: 32, esn: false }, [10]);

    // Two copies of 20 pass the preliminary check before either is accepted.
    assert.equal(window.check(20).verdict, 'ok', 'first copy');
    assert.equal(window.check(20).verdict, 'ok', 'second copy');
    assert.equal(window.accept(20), 'ok', 'first accept');
    assert.equal(window.accept(20), 'duplicate', 'second accept');

    // 12 passes the check, then 100 moves the window past it.
    assert.equal(window.check(12).verdict, 'ok', 'check before jump');
    assert.equal(window.accept(100), 'ok');
    assert.equal(window.accept(12), 'too-old', 'accept after jump');
    assert.equal(window.top, 100);
  });

  test('sequence number zero rejected', () => {
    const fresh = new ReplayWindow({ size: 64, esn: false });
    assert.deepEqual(fresh.check(0), { verdict: 'zero', seq: 0 });
    assert.equal(fresh.accept(0), 'zero');
    assert.equal(fresh.top, 0);

    const used = windowWith({ size: 64, esn: false }, [100]);
    assert.equal(used.check(0).verdict, 'zero');
    assert.equal(used.accept(0), 'zero');
  });

  test('highest 32-bit number accepted', () => {
    const window = windowWith({ size: 64, esn: false }, [TWO_32 - 2]);
    assert.deepEqual(window.check(TWO_32 - 1), { verdict: 'ok', seq: TWO_32 - 1 });
    assert.equal(window.accept(TWO_32 - 1), 'ok');
    assert.equal(window.top, TWO_32 - 1);
  });

  test('invalid arguments throw RangeError', () => {
    const window = new ReplayWindow({ size: 64, esn: false });
    for (const seqLow of [-1, TWO_32, 1.5, NaN]) {
      assert.throws(() => window.check(seqLow), RangeError, `check(${seqLow})`);
      assert.throws(() => window.resyncCandidates(seqLow), RangeError, `resync(${seqLow})`);
    }
    for (const seq of [-1, TWO_32, 2.5]) {
      assert.throws(() => window.accept(seq), RangeError, `accept(${seq})`);
    }
  });
});

describe('ReplayWindow with ESN', () => {
  test('low bits wrap into next subspace', () => {
    const window = windowWith({ size: 64, esn: true }, [TWO_32 - 10]);

    const wrapped = window.check(5);
    assert.equal(wrapped.verdict, 'ok');
    assert.equal(wrapped.seq, 1 * TWO_32 + 5, 'low 5 infers high 1');
    assert.equal(window.accept(wrapped.seq), 'ok');
    assert.equal(window.top, TWO_32 + 5);

    const late = window.check(TWO_32 - 20);
    assert.equal(late.verdict, 'ok');
    assert.equal(late.seq, 0 * TWO_32 + (TWO_32 - 20), 'late low infers high 0');
    assert.equal(window.accept(late.seq), 'ok');

    assert.equal(window.check(TWO_32 - 10).verdict, 'duplicate', 'top before wrap');
    assert.equal(window.check(TWO_32 - 20).verdict, 'duplicate', 'late number repeated');
    assert.equal(window.top, TWO_32 + 5);
  });

  test('case A: window in one subspace', () => {
    // Top 2 * 2^32 + 1000 and W 64, so Tl >= W - 1 and Bl = 1000 - 63 = 937.
    const top = 2 * TWO_32 + 1000;
    const cases: { name: string; low: number; seq: number; verdict: ReplayVerdict }[] = [
      { name: 'low equal to Bl', low: 937, seq: 2 * TWO_32 + 937, verdict: 'ok' },
      { name: 'low below Bl', low: 936, seq: 3 * TWO_32 + 936, verdict: 'ok' },
      { name: 'low zero', low: 0, seq: 3 * TWO_32, verdict: 'ok' },
      { name: 'low equal to Tl', low: 1000, seq: top, verdict: 'duplicate' },
      { name: 'low above Tl', low: 5000, seq: 2 * TWO_32 + 5000, verdict: 'ok' },
      { name: 'low maximum', low: TWO_32 - 1, seq: 3 * TWO_32 - 1, verdict: 'ok' },
    ];
    const window = windowWith({ size: 64, esn: true }, [top]);
    for (const { name, low, seq, verdict } of cases) {
      const result = window.check(low);
      assert.equal(result.seq, seq, `${name}: seq`);
      assert.equal(result.verdict, verdict, `${name}: verdict`);
    }
  });

  test('case B: window spans two subspaces', () => {
    // Top 3 * 2^32 + 10 and W 64, so Tl < W - 1 and Bl = 10 - 63 + 2^32 = 2^32 - 53.
    const top = 3 * TWO_32 + 10;
    const cases: { name: string; low: number; seq: number; verdict: ReplayVerdict }[] = [
      { name: 'low equal to Bl', low: TWO_32 - 53, seq: 3 * TWO_32 - 53, verdict: 'ok' },
      { name: 'low below Bl', low: TWO_32 - 54, seq: 4 * TWO_32 - 54, verdict: 'ok' },
      { name: 'low maximum', low: TWO_32 - 1, seq: 3 * TWO_32 - 1, verdict: 'duplicate' },
      { name: 'low zero', low: 0, seq: 3 * TWO_32, verdict: 'ok' },
      { name: 'low equal to Tl', low: 10, seq: top, verdict: 'duplicate' },
      { name: 'low above Tl', low: 11, seq: 3 * TWO_32 + 11, verdict: 'ok' },
    ];
    const window = windowWith({ size: 64, esn: true }, [3 * TWO_32 - 1, top]);
    for (const { name, low, seq, verdict } of cases) {
      const result = window.check(low);
      assert.equal(result.seq, seq, `${name}: seq`);
      assert.equal(result.verdict, verdict, `${name}: verdict`);
    }
  });

  test('zero only as full value', () => {
    const fresh = new ReplayWindow({ size: 64, esn: true });
    assert.deepEqual(fresh.check(0), { verdict: 'zero', seq: 0 });
    assert.equal(fresh.accept(0), 'zero');

    const wrapped = windowWith({ size: 64, esn: true }, [TWO_32 - 10]);
    assert.deepEqual(wrapped.check(0), { verdict: 'ok', seq: TWO_32 });
    assert.equal(wrapped.accept(TWO_32), 'ok');
    assert.equal(wrapped.top, TWO_32);
  });

  test('early SA reads subspace 0', () => {
    // Top 10 < W - 1 is case B, but subspace -1 does not exist.
    const window = windowWith({ size: 64, esn: true }, range(1, 10));
    assert.deepEqual(window.check(TWO_32 - 1), { verdict: 'ok', seq: TWO_32 - 1 });
    assert.deepEqual(window.check(TWO_32 - 53), { verdict: 'ok', seq: TWO_32 - 53 });
    assert.deepEqual(window.check(5), { verdict: 'duplicate', seq: 5 });
  });

  test('exhausted beyond 2^53 - 1', () => {
    const window = windowWith({ size: 64, esn: true }, [MAX_SAFE - 5]);

    // 2^53 - 1 has high bits 2^21 - 1 and low bits 2^32 - 1.
    assert.deepEqual(window.check(TWO_32 - 1), { verdict: 'ok', seq: MAX_SAFE });
    assert.equal(window.accept(MAX_SAFE), 'ok');

    // Low 3 is below Bl, so it infers high bits 2^21 and a value of 2^53 + 3.
    assert.equal(window.check(3).verdict, 'exhausted');
    assert.ok(window.check(3).seq > MAX_SAFE, 'seq beyond 2^53 - 1');
    assert.equal(window.accept(2 ** 53), 'exhausted');
    assert.equal(window.top, MAX_SAFE);
  });

  test('invalid full numbers throw RangeError', () => {
    const window = new ReplayWindow({ size: 64, esn: true });
    for (const seq of [-1, 1.5, NaN]) {
      assert.throws(() => window.accept(seq), RangeError, `accept(${seq})`);
    }
  });
});

describe('ReplayWindow resynchronization', () => {
  test('candidates after threshold failures', () => {
    const window = windowWith({ size: 64, esn: true }, range(1, 5));

    // Packets 6 to 2^32 + 99 were lost, so low 100 with true high bits 1 reads as 100.
    assert.deepEqual(window.check(100), { verdict: 'ok', seq: 100 });
    for (let failure = 1; failure < 32; failure++) {
      window.recordIcvFailure();
    }
    assert.equal(window.consecutiveIcvFailures, 31);
    assert.deepEqual(window.resyncCandidates(100), [], 'one failure short');

    window.recordIcvFailure();
    assert.deepEqual(window.resyncCandidates(100), [
      1 * TWO_32 + 100,
      2 * TWO_32 + 100,
      3 * TWO_32 + 100,
      4 * TWO_32 + 100,
    ]);
  });

  test('accepted candidate moves window', () => {
    const window = windowWith({ size: 64, esn: true }, range(1, 5));
    for (let failure = 0; failure < 32; failure++) {
      window.recordIcvFailure();
    }
    const [candidate] = window.resyncCandidates(100);
    assert.equal(candidate, TWO_32 + 100);

    assert.equal(window.accept(TWO_32 + 100), 'ok');
    assert.equal(window.top, TWO_32 + 100);
    assert.equal(window.consecutiveIcvFailures, 0);
    assert.deepEqual(window.resyncCandidates(100), [], 'count reset');

    const expectedBitmap = new Uint8Array(8);
    expectedBitmap[0] = 1;
    assert.deepEqual(window.bitmap(), expectedBitmap, 'only the new top is marked');
    assert.deepEqual(window.check(99), { verdict: 'ok', seq: TWO_32 + 99 });
    assert.deepEqual(window.check(100), { verdict: 'duplicate', seq: TWO_32 + 100 });
  });

  test('candidates start above inferred subspace', () => {
    // Low 5 already infers high 1, which failed, so the retries start at high 2.
    const window = windowWith({ size: 64, esn: true }, [TWO_32 - 10]);
    assert.equal(window.check(5).seq, TWO_32 + 5);
    for (let failure = 0; failure < 32; failure++) {
      window.recordIcvFailure();
    }
    assert.deepEqual(window.resyncCandidates(5), [
      2 * TWO_32 + 5,
      3 * TWO_32 + 5,
      4 * TWO_32 + 5,
      5 * TWO_32 + 5,
    ]);
  });

  test('custom threshold triggers earlier', () => {
    const window = windowWith({ size: 64, esn: true, resyncThreshold: 3 }, [7]);
    window.recordIcvFailure();
    window.recordIcvFailure();
    assert.deepEqual(window.resyncCandidates(9), []);
    window.recordIcvFailure();
    assert.equal(window.resyncCandidates(9)[0], TWO_32 + 9);
  });

  test('threshold zero disables resync', () => {
    const window = windowWith({ size: 64, esn: true, resyncThreshold: 0 }, [7]);
    for (let failure = 0; failure < 1000; failure++) {
      window.recordIcvFailure();
    }
    assert.deepEqual(window.resyncCandidates(9), []);
  });

  test('no candidates without ESN', () => {
    const window = windowWith({ size: 64, esn: false }, [7]);
    for (let failure = 0; failure < 100; failure++) {
      window.recordIcvFailure();
    }
    assert.equal(window.consecutiveIcvFailures, 100);
    assert.deepEqual(window.resyncCandidates(9), []);
  });

  test('accept resets failure count', () => {
    const window = windowWith({ size: 64, esn: true }, [7]);
    for (let failure = 0; failure < 31; failure++) {
      window.recordIcvFailure();
    }
    assert.equal(window.accept(8), 'ok');
    assert.equal(window.consecutiveIcvFailures, 0);
    window.recordIcvFailure();
    assert.deepEqual(window.resyncCandidates(9), [], 'failures must be consecutive');
  });

  test('candidates stop below 2^53', () => {
    // Top high bits 2^21 - 3: only high 2^21 - 2 and 2^21 - 1 remain exact.
    const top = (2 ** 21 - 3) * TWO_32 + 100;
    const window = windowWith({ size: 64, esn: true }, [top]);
    for (let failure = 0; failure < 32; failure++) {
      window.recordIcvFailure();
    }
    assert.deepEqual(window.resyncCandidates(50), [
      (2 ** 21 - 2) * TWO_32 + 50,
      (2 ** 21 - 1) * TWO_32 + 50,
    ]);
  });
});

describe('ReplayWindow with anti-replay off', () => {
  test('without ESN accepts every nonzero number', () => {
    const window = new ReplayWindow({ size: 0, esn: false });
    assert.deepEqual(window.check(5), { verdict: 'ok', seq: 5 });
    assert.equal(window.accept(5), 'ok');
    assert.equal(window.accept(5), 'ok', 'repeat is not a duplicate');
    assert.equal(window.check(5).verdict, 'ok');
    assert.equal(window.accept(1000), 'ok');
    assert.equal(window.check(1).verdict, 'ok', 'far below top');
    assert.equal(window.accept(3), 'ok');
    assert.equal(window.top, 1000, 'top keeps the highest');
    assert.equal(window.check(0).verdict, 'zero');
    assert.equal(window.accept(0), 'zero');
    assert.equal(window.bitmap().length, 0);
  });

  test('with ESN infers closest number', () => {
    const cases: { name: string; top: number; low: number; seq: number }[] = [
      { name: 'wrap forward', top: TWO_32 - 10, low: 5, seq: TWO_32 + 5 },
      { name: 'late across wrap', top: TWO_32 + 5, low: TWO_32 - 20, seq: TWO_32 - 20 },
      { name: 'tie goes later', top: TWO_32, low: 2 ** 31, seq: TWO_32 + 2 ** 31 },
      { name: 'just inside behind', top: TWO_32, low: 2 ** 31 + 1, seq: 2 ** 31 + 1 },
      { name: 'tie at low zero', top: 5 * TWO_32 + 2 ** 31, low: 0, seq: 6 * TWO_32 },
      { name: 'closest behind', top: 5 * TWO_32 + 2 ** 31, low: 1, seq: 5 * TWO_32 + 1 },
      { name: 'far ahead', top: 7 * TWO_32 + 1, low: 2 ** 31, seq: 7 * TWO_32 + 2 ** 31 },
      { name: 'before first wrap', top: 10, low: TWO_32 - 1, seq: TWO_32 - 1 },
    ];
    for (const { name, top, low, seq } of cases) {
      const window = windowWith({ size: 0, esn: true }, [top]);
      assert.deepEqual(window.check(low), { verdict: 'ok', seq }, name);
    }
  });

  test('with ESN no duplicates reported', () => {
    const window = windowWith({ size: 0, esn: true }, [TWO_32 + 5]);
    assert.equal(window.accept(TWO_32 + 5), 'ok');
    assert.deepEqual(window.check(5), { verdict: 'ok', seq: TWO_32 + 5 });
    assert.deepEqual(window.check(0), { verdict: 'ok', seq: TWO_32 });
    assert.equal(new ReplayWindow({ size: 0, esn: true }).check(0).verdict, 'zero');
  });

  test('with ESN exhausted beyond 2^53 - 1', () => {
    const window = windowWith({ size: 0, esn: true }, [MAX_SAFE]);
    assert.equal(window.check(0).verdict, 'exhausted');
    assert.equal(window.accept(2 ** 53), 'exhausted');
  });
});

describe('ReplayWindow bitmap', () => {
  test('bitmap marks received numbers', () => {
    // Top 10: bit i is 10 - i, so 10, 5, 3, 2, 1 are bits 0, 5, 7, 8, 9.
    const window = windowWith({ size: 32, esn: false }, [1, 2, 3, 5, 10]);
    assert.deepEqual(window.bitmap(), Uint8Array.from([0b10100001, 0b00000011, 0, 0]));
  });

  test('bitmap shifts as top advances', () => {
    const window = windowWith({ size: 32, esn: false }, [1, 2, 3, 5, 10]);
    assert.equal(window.accept(12), 'ok');

    // Top 12: 12, 10, 5, 3, 2, 1 are bits 0, 2, 7, 9, 10, 11.
    assert.deepEqual(window.bitmap(), Uint8Array.from([0b10000101, 0b00001110, 0, 0]));
  });

  test('bitmap clears on large jump', () => {
    const window = windowWith({ size: 32, esn: false }, range(1, 40));
    assert.deepEqual(window.bitmap(), Uint8Array.from([0xff, 0xff, 0xff, 0xff]));
    assert.equal(window.accept(40 + 32), 'ok');
    assert.deepEqual(window.bitmap(), Uint8Array.from([1, 0, 0, 0]));
    assert.equal(window.check(40).verdict, 'too-old');
    assert.equal(window.check(41).verdict, 'ok', 'skipped number not marked');
  });

  test('bitmap with size 40', () => {
    // The ring has 64 bits but the window 40: top 100 covers 61 to 100, and 70 is bit 30.
    const accepted = range(1, 100).filter((seq) => seq !== 70);
    const window = windowWith({ size: 40, esn: false }, accepted);
    assert.deepEqual(window.bitmap(), Uint8Array.from([0xff, 0xff, 0xff, 0xbf, 0xff]));
    assert.equal(window.check(61).verdict, 'duplicate');
    assert.equal(window.check(60).verdict, 'too-old');
    assert.equal(window.check(70).verdict, 'ok');
  });

  test('bitmap before window fills', () => {
    const fresh = new ReplayWindow({ size: 64, esn: false });
    assert.deepEqual(fresh.bitmap(), new Uint8Array(8));

    const window = windowWith({ size: 64, esn: false }, [1, 3]);
    const expected = new Uint8Array(8);
    expected[0] = 0b101;
    assert.deepEqual(window.bitmap(), expected);
  });
});

/** Verdict counts of one randomized run, so a run that misses a case fails. */
interface TrafficCounts {
  verdicts: Map<ReplayVerdict, number>;
  icvFailures: number;
  caseBChecks: number;
}

interface Packet {
  trueSeq: number;
  low: number;
  check: { verdict: ReplayVerdict; seq: number };
}

/**
 * Sends seeded random traffic through a window and a ReferenceReceiver and asserts that
 * they agree. The traffic mixes in-order packets, reordering around the window edge,
 * replays, gaps, very late packets and, without ESN, sequence number 0. The ICV is
 * simulated: it passes only when the inferred number equals the number the sender used.
 */
function runRandomTraffic(size: number, esn: boolean, seed: number): TrafficCounts {
  const random = seededRandom(seed);
  const randomInt = (limit: number): number => Math.floor(random() * limit);
  const packetCount = 20000;

  const window = new ReplayWindow({ size, esn, resyncThreshold: 0 });
  const reference = new ReferenceReceiver(size);
  const counts: TrafficCounts = { verdicts: new Map(), icvFailures: 0, caseBChecks: 0 };

  // With ESN the traffic starts 10000 below 3 * 2^32 and crosses into subspace 3.
  let next = 1;
  if (esn) {
    const start = 3 * TWO_32 - packetCount / 2;
    assert.equal(window.accept(start), 'ok');
    reference.record(start);
    next = start + 1;
  }

  const nextPacket = (): number => {
    const roll = random();
    if (roll < 0.55) {
      return next++;
    }
    if (roll < 0.7) {
      return Math.max(0, next - 1 - randomInt(Math.floor(size * 1.25)));
    }
    if (roll < 0.8) {
      return Math.max(0, reference.highest - randomInt(size + 2));
    }
    if (roll < 0.9) {
      next += 1 + randomInt(3 * size);
      return next++;
    }
    if (roll < 0.97) {
      return Math.max(0, next - 1 - size - randomInt(20 * size));
    }
    return esn ? next++ : 0;
  };

  const checkPacket = (trueSeq: number): Packet => {
    const low = esn ? trueSeq % TWO_32 : trueSeq;
    const expectedSeq = esn ? referenceInference(low, reference.highest, size) : low;
    if (esn && reference.highest % TWO_32 < size - 1) {
      counts.caseBChecks++;
    }

    const result = window.check(low);
    assert.equal(result.seq, expectedSeq, `check(${low}) seq, true ${trueSeq}`);
    assert.equal(result.verdict, reference.verdict(expectedSeq), `check(${low}) verdict`);
    counts.verdicts.set(result.verdict, (counts.verdicts.get(result.verdict) ?? 0) + 1);
    return { trueSeq, low, check: result };
  };

  const finishPacket = (packet: Packet): void => {
    const shouldDeliver = reference.verdict(packet.trueSeq) === 'ok';
    let delivered = false;

    if (packet.check.verdict === 'ok' && packet.check.seq !== packet.trueSeq) {
      window.recordIcvFailure();
      counts.icvFailures++;
    } else if (packet.check.verdict === 'ok') {
      const verdict = window.accept(packet.trueSeq);
      assert.equal(verdict, reference.verdict(packet.trueSeq), `accept(${packet.trueSeq})`);
      delivered = verdict === 'ok';
      if (delivered) {
        reference.record(packet.trueSeq);
      }
    }

    assert.equal(delivered, shouldDeliver, `delivery of ${packet.trueSeq}`);
    assert.equal(window.top, reference.highest, `top after ${packet.trueSeq}`);
  };

  for (let step = 0; step < packetCount; step++) {
    // One packet in ten arrives with a second one that is checked before either is
    // accepted, as when two packets are decrypted at the same time.
    const batch = random() < 0.1 ? [nextPacket(), nextPacket()] : [nextPacket()];
    const packets = batch.map(checkPacket);
    packets.forEach(finishPacket);

    if (step % 997 === 0) {
      assert.deepEqual(window.bitmap(), reference.bitmap(), `bitmap at step ${step}`);
    }
  }

  assert.deepEqual(window.bitmap(), reference.bitmap(), 'final bitmap');
  return counts;
}

describe('ReplayWindow against reference model', () => {
  for (const size of [32, 64, 1024, 4096]) {
    test(`random traffic size ${size}`, () => {
      const counts = runRandomTraffic(size, false, 0x5eed + size);
      for (const verdict of ['ok', 'duplicate', 'too-old', 'zero'] as const) {
        assert.ok((counts.verdicts.get(verdict) ?? 0) > 0, `run saw '${verdict}'`);
      }
    });

    test(`random ESN traffic size ${size}`, () => {
      const counts = runRandomTraffic(size, true, 0xe5e + size);
      assert.ok((counts.verdicts.get('ok') ?? 0) > 0, "run saw 'ok'");
      assert.ok((counts.verdicts.get('duplicate') ?? 0) > 0, "run saw 'duplicate'");
      assert.ok(counts.icvFailures > 0, 'run saw too-old packets fail the ICV');
      assert.ok(counts.caseBChecks > 0, 'run saw the window span two subspaces');
    });
  }
});
