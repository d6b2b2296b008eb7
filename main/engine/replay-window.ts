/**
 * Receive-side anti-replay window of an ESP or AH SA, with the inference of the high-order
 * 32 bits of extended sequence numbers (RFC 4303 section 3.4.3 and Appendix A). RFC 4302
 * section 3.4.3 and Appendix B define the same rules for AH.
 *
 * Sequence numbers are JavaScript numbers that contain the full 64-bit value
 * (high 32 bits * 2^32 + low 32 bits).
 * NOTE: a number is exact only up to 2^53 - 1 (Number.MAX_SAFE_INTEGER). A sequence number
 * above that gets the verdict 'exhausted' and the SA must be rekeyed. At 10^7 packets per
 * second a sender needs about 28 years to get there.
 */

/** Count of sequence numbers that share one value of the high-order 32 bits (a subspace). */
const SUBSPACE_SIZE = 2 ** 32;

const MAX_LOW_SEQUENCE_NUMBER = SUBSPACE_SIZE - 1;

/**
 * Window used to infer the high-order bits when anti-replay is off. With it, the inferred
 * number is the one closest to the highest authenticated number T: the result lies in
 * [T - 2^31 + 1, T + 2^31], so a tie at distance 2^31 goes to the later number.
 * Appendix A2 assumes windows of at most 2^31 packets, and this is the largest.
 */
const NOTIONAL_WINDOW_WITHOUT_ANTI_REPLAY = 2 ** 31;

export type ReplayVerdict = 'ok' | 'duplicate' | 'too-old' | 'zero' | 'exhausted';

/** Result of the preliminary sequence number check. */
export interface ReplayCheck {
  verdict: ReplayVerdict;
  /** Full inferred sequence number, rounded and so not exact when the verdict is 'exhausted'. */
  seq: number;
}

export interface ReplayWindowOptions {
  /** Window size in packets: 0 turns anti-replay off, otherwise MIN_SIZE to MAX_SIZE. */
  size: number;
  /** True when the SA uses extended (64-bit) sequence numbers. */
  esn: boolean;
  /** Consecutive ICV failures that start the ESN resynchronization, 0 to disable it. */
  resyncThreshold?: number;
}

/**
 * Anti-replay window of one inbound SA. The caller runs `check` before any cryptographic
 * work, verifies the ICV with the returned `seq`, then calls `accept` or `recordIcvFailure`.
 * The received bits live in a Uint32Array used as a ring indexed by `seq % ringBits`.
 * `accept` clears only the words between the old and the new top, and at most the whole ring.
 */
export class ReplayWindow {
  /** RFC 4303 section 3.4.3: a window of 64 packets SHOULD be the default. */
  static readonly DEFAULT_SIZE = 64;

  /** RFC 4303 section 3.4.3: a window of 32 packets MUST be supported. */
  static readonly MIN_SIZE = 32;

  /** Upper bound chosen by this project: 8 KiB of bitmap per SA. */
  static readonly MAX_SIZE = 65536;

  /**
   * Consecutive ICV failures after which `resyncCandidates` offers candidates. RFC 4303
   * Appendix A3.1 leaves the trigger value to the implementation.
   */
  static readonly DEFAULT_RESYNC_THRESHOLD = 32;

  /**
   * Count of larger high-order values tried for one packet during resynchronization.
   * RFC 4303 Appendix A3.2 recommends a local limit, because the packet may be old or forged.
   */
  static readonly RESYNC_MAX_RETRIES = 4;

  readonly size: number;
  readonly esn: boolean;
  readonly resyncThreshold: number;

  private highest = 0;
  private icvFailures = 0;
  private readonly ring: Uint32Array;

  /** Ring length in bits: the window size rounded up to whole words, 0 when anti-replay is off. */
  private readonly ringBits: number;

  constructor(options: ReplayWindowOptions) {
    const { size, esn } = options;
    const resyncThreshold = options.resyncThreshold ?? ReplayWindow.DEFAULT_RESYNC_THRESHOLD;

    const sizeInRange = size >= ReplayWindow.MIN_SIZE && size <= ReplayWindow.MAX_SIZE;
    if (!Number.isInteger(size) || (size !== 0 && !sizeInRange)) {
      throw new RangeError(
        `Invalid anti-replay window size ${size}: expected 0 (anti-replay off) or an ` +
          `integer from ${ReplayWindow.MIN_SIZE} to ${ReplayWindow.MAX_SIZE}`,
      );
    }
    if (!Number.isInteger(resyncThreshold) || resyncThreshold < 0) {
      throw new RangeError(
        `Invalid ESN resync threshold ${resyncThreshold}: expected an integer >= 0 ` +
          '(0 disables resynchronization)',
      );
    }

    this.size = size;
    this.esn = esn;
    this.resyncThreshold = resyncThreshold;
    this.ring = new Uint32Array(Math.ceil(size / 32));
    this.ringBits = this.ring.length * 32;
  }

  /** Highest sequence number accepted so far (T in RFC 4303 Appendix A2), 0 before any. */
  get top(): number {
    return this.highest;
  }

  /** ICV failures recorded since the last accepted packet. */
  get consecutiveIcvFailures(): number {
    return this.icvFailures;
  }

  /**
   * Infers the full sequence number of a packet and checks it against the window, before
   * any cryptographic work. Leaves the window unchanged, because RFC 4303 section 3.4.3
   * forbids updating it before the ICV is verified.
   * Allocates only the returned object. A shared result object would be overwritten when a
   * second packet is checked while the first one is still being decrypted.
   */
  check(seqLow: number): ReplayCheck {
    assertLowSequenceNumber(seqLow);

    // RFC 4303 section 2.2: without ESN only the low 32 bits exist and the high bits are 0.
    const seq = this.esn ? this.inferSequenceNumber(seqLow) : seqLow;

    return { verdict: this.classify(seq), seq };
  }

  /**
   * Returns further full sequence numbers to try the ICV with, after the one from `check`
   * failed, once `resyncThreshold` consecutive ICV failures were recorded. Returns [] before
   * that, without ESN, or when the threshold is 0.
   *
   * RFC 4303 Appendix A3: after a loss of 2^32 or more consecutive packets, the A2.2
   * inference picks a subspace that is too low, and every packet fails the ICV. The
   * receiver then retries a failing packet with successively larger high-order values,
   * one higher per retry, up to a local limit. A success resets the failure count and
   * moves T to that packet, which `accept` does.
   * NOTE: each failing packet costs up to RESYNC_MAX_RETRIES extra ICV computations while
   * the failure count stays at or above the threshold.
   */
  resyncCandidates(seqLow: number): number[] {
    assertLowSequenceNumber(seqLow);

    const triggered = this.resyncThreshold > 0 && this.icvFailures >= this.resyncThreshold;
    if (!this.esn || !triggered) {
      return [];
    }

    // The value from `check` already failed, so the retries start one subspace above it.
    // In the usual case that value has high bits Th, and the first retry has Th + 1.
    const inferred = this.inferSequenceNumber(seqLow);
    const candidates: number[] = [];
    for (let retry = 1; retry <= ReplayWindow.RESYNC_MAX_RETRIES; retry++) {
      const candidate = inferred + retry * SUBSPACE_SIZE;
      if (candidate > Number.MAX_SAFE_INTEGER) {
        break;
      }
      candidates.push(candidate);
    }
    return candidates;
  }

  /**
   * Marks `seq` received and advances the window. Call it only after the ICV passed.
   * Checks the window again, because another packet may have been accepted since `check`,
   * and returns 'ok' only when the number was recorded.
   */
  accept(seq: number): ReplayVerdict {
    this.assertFullSequenceNumber(seq);

    // RFC 4303 Appendix A3.1: a valid packet resets the count of consecutive ICV failures.
    this.icvFailures = 0;

    const verdict = this.classify(seq);
    if (verdict !== 'ok') {
      return verdict;
    }

    if (seq > this.highest) {
      this.advanceTo(seq);
    }
    if (this.ringBits > 0) {
      this.markReceived(seq);
    }
    return 'ok';
  }

  /** Counts an ICV failure toward the resynchronization trigger (RFC 4303 Appendix A3.1). */
  recordIcvFailure(): void {
    this.icvFailures++;
  }

  /**
   * Copies the window for display: bit i, in byte i >> 3 at bit position i & 7, is set
   * when `top - i` was received, for i in [0, size). Returns an empty array when anti-replay
   * is off.
   */
  bitmap(): Uint8Array {
    const snapshot = new Uint8Array(Math.ceil(this.size / 8));
    for (let i = 0; i < this.size; i++) {
      const seq = this.highest - i;
      if (seq < 1) {
        break;
      }
      if (this.isReceived(seq)) {
        snapshot[i >>> 3] = (snapshot[i >>> 3] ?? 0) | (1 << (i & 7));
      }
    }
    return snapshot;
  }

  /** Applies the window rules of RFC 4303 section 3.4.3 to a full sequence number. */
  private classify(seq: number): ReplayVerdict {
    // RFC 4303 section 2.2: the counter starts at 0 and the first packet carries 1, so the
    // full value 0 is never sent. With ESN, low bits 0 with high bits above 0 stay valid.
    if (seq === 0) {
      return 'zero';
    }
    if (seq > Number.MAX_SAFE_INTEGER) {
      return 'exhausted';
    }

    // RFC 4303 section 3.4.3: with anti-replay off no inbound checks are made.
    if (this.size === 0) {
      return 'ok';
    }

    // RFC 4303 section 3.4.3: the right edge is the highest validated number. A larger
    // number lies to the right of the window and passes.
    if (seq > this.highest) {
      return 'ok';
    }

    // RFC 4303 section 3.4.3: numbers below the left edge, top - size + 1, are rejected.
    if (this.highest - seq >= this.size) {
      return 'too-old';
    }

    // RFC 4303 section 3.4.3: a number inside the window must not repeat a received one.
    return this.isReceived(seq) ? 'duplicate' : 'ok';
  }

  /**
   * Infers the full ESN from the transmitted low-order 32 bits (RFC 4303 Appendix A2.2).
   * With T = Th * 2^32 + Tl the top and W the window size, the result is the number
   * congruent to seqLow modulo 2^32 in [T - W + 1, T - W + 2^32].
   */
  private inferSequenceNumber(seqLow: number): number {
    // RFC 4303 section 3.4.3 makes no inbound checks without anti-replay, but the ICV still
    // covers the high-order bits, so a notional window of 2^31 picks the closest number.
    const window = this.size > 0 ? this.size : NOTIONAL_WINDOW_WITHOUT_ANTI_REPLAY;

    const topHigh = Math.floor(this.highest / SUBSPACE_SIZE);
    const topLow = this.highest - topHigh * SUBSPACE_SIZE;

    let seqHigh: number;
    if (topLow >= window - 1) {
      // Appendix A2.2 case A: the window lies within subspace Th, from Bl = Tl - W + 1.
      // A number below Bl belongs to the next subspace.
      const bottomLow = topLow - window + 1;
      seqHigh = seqLow >= bottomLow ? topHigh : topHigh + 1;
    } else {
      // Appendix A2.2 case B: the window spans subspaces Th - 1 and Th, and its bottom is
      // Bl = Tl - W + 1 + 2^32 in subspace Th - 1. A number at or above Bl is in Th - 1.
      const bottomLow = topLow - window + 1 + SUBSPACE_SIZE;
      seqHigh = seqLow >= bottomLow ? topHigh - 1 : topHigh;
    }

    // Before the first wrap the window has no subspace Th - 1 = -1 below it. Section 3.4.3
    // accommodates gaps of up to 2^32 - 1 packets, so the number is read in subspace 0.
    if (seqHigh < 0) {
      seqHigh = 0;
    }

    return seqHigh * SUBSPACE_SIZE + seqLow;
  }

  /**
   * Moves the top to `seq` and clears the bits of the numbers skipped over (RFC 4303
   * Appendix A2.1). Clears at most the whole ring, ringBits / 32 words.
   */
  private advanceTo(seq: number): void {
    const distance = seq - this.highest;

    if (distance >= this.ringBits) {
      this.ring.fill(0);
    } else {
      this.clearRingBits((this.highest + 1) % this.ringBits, distance);
    }

    this.highest = seq;
  }

  /** Clears `count` consecutive ring bits from `startIndex`, wrapping at the ring's end. */
  private clearRingBits(startIndex: number, count: number): void {
    let index = startIndex;
    let remaining = count;

    while (remaining > 0) {
      const bitOffset = index & 31;
      const span = Math.min(32 - bitOffset, remaining);
      const mask = span === 32 ? 0xffffffff : ((1 << span) - 1) << bitOffset;
      const word = index >>> 5;
      this.ring[word] = (this.ring[word] ?? 0) & ~mask;

      index += span;
      if (index === this.ringBits) {
        index = 0;
      }
      remaining -= span;
    }
  }

  private markReceived(seq: number): void {
    const index = seq % this.ringBits;
    const word = index >>> 5;
    this.ring[word] = (this.ring[word] ?? 0) | (1 << (index & 31));
  }

  private isReceived(seq: number): boolean {
    const index = seq % this.ringBits;
    return (((this.ring[index >>> 5] ?? 0) >>> (index & 31)) & 1) === 1;
  }

  private assertFullSequenceNumber(seq: number): void {
    const limit = this.esn ? Infinity : MAX_LOW_SEQUENCE_NUMBER;
    if (!Number.isInteger(seq) || seq < 0 || seq > limit) {
      const expected = this.esn ? 'a non-negative integer' : 'an integer from 0 to 2^32 - 1';
      throw new RangeError(`Invalid sequence number ${seq}: expected ${expected}`);
    }
  }
}

function assertLowSequenceNumber(seqLow: number): void {
  if (!Number.isInteger(seqLow) || seqLow < 0 || seqLow > MAX_LOW_SEQUENCE_NUMBER) {
    throw new RangeError(
      `Invalid sequence number field ${seqLow}: expected an integer from 0 to 2^32 - 1`,
    );
  }
}
