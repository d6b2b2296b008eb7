/**
 * SA lifetimes (RFC 4301 section 4.4.2.1): a soft limit asks for a rekey, a hard limit ends the
 * SA. Each limit may count bytes, packets or seconds; a missing field means no limit.
 */

export interface LifetimeLimits {
  bytes?: number;
  packets?: number;
  seconds?: number;
}

export interface Lifetimes {
  soft?: LifetimeLimits;
  hard?: LifetimeLimits;
}

export type LifetimeState = 'valid' | 'soft-expired' | 'hard-expired';

/** How much of each limit is used, for display: used and limit per measure. */
export interface LifetimeUsage {
  bytes: number;
  packets: number;
  seconds: number;
  soft: LifetimeLimits;
  hard: LifetimeLimits;
  state: LifetimeState;
}

export class LifetimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LifetimeError';
  }
}

const MEASURES = ['bytes', 'packets', 'seconds'] as const;

/** Rejects negative or non-finite limits, and a soft limit above its hard one. */
export function validateLifetimes(lifetimes: Lifetimes): void {
  for (const kind of ['soft', 'hard'] as const) {
    for (const measure of MEASURES) {
      const value = lifetimes[kind]?.[measure];
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
        throw new LifetimeError(`invalid ${kind} ${measure} lifetime ${value}: expected a positive number`);
      }
    }
  }
  for (const measure of MEASURES) {
    const soft = lifetimes.soft?.[measure];
    const hard = lifetimes.hard?.[measure];
    if (soft !== undefined && hard !== undefined && soft > hard) {
      throw new LifetimeError(`soft ${measure} lifetime ${soft} exceeds the hard one ${hard}`);
    }
  }
}

/** Tracks use against the limits and reports each state change once. */
export class LifetimeTracker {
  private bytes = 0;
  private packets = 0;
  private current: LifetimeState = 'valid';

  constructor(
    private readonly limits: Lifetimes,
    private readonly startedAt: number,
  ) {
    validateLifetimes(limits);
  }

  get state(): LifetimeState {
    return this.current;
  }

  /** Adds one packet of `bytes` and returns the new state when it changed, else null. */
  recordPacket(bytes: number, now: number): LifetimeState | null {
    this.bytes += bytes;
    this.packets += 1;
    return this.evaluate(now);
  }

  /** Re-evaluates the time limits; returns the new state when it changed, else null. */
  evaluate(now: number): LifetimeState | null {
    if (this.current === 'hard-expired') {
      return null;
    }
    const next = this.exceeds(this.limits.hard, now) ? 'hard-expired'
      : this.exceeds(this.limits.soft, now) ? 'soft-expired' : this.current;
    if (next === this.current) {
      return null;
    }
    this.current = next;
    return next;
  }

  usage(now: number): LifetimeUsage {
    return {
      bytes: this.bytes,
      packets: this.packets,
      seconds: (now - this.startedAt) / 1000,
      soft: { ...this.limits.soft },
      hard: { ...this.limits.hard },
      state: this.current,
    };
  }

  /** Milliseconds until the next time limit, or null when none is pending. */
  millisecondsToNextLimit(now: number): number | null {
    const elapsed = now - this.startedAt;
    const pending = [this.limits.soft?.seconds, this.limits.hard?.seconds]
      .filter((seconds): seconds is number => seconds !== undefined && seconds * 1000 > elapsed)
      .map((seconds) => seconds * 1000 - elapsed);
    return pending.length === 0 ? null : Math.min(...pending);
  }

  private exceeds(limits: LifetimeLimits | undefined, now: number): boolean {
    if (!limits) {
      return false;
    }
    const seconds = (now - this.startedAt) / 1000;
    return (limits.bytes !== undefined && this.bytes >= limits.bytes) ||
      (limits.packets !== undefined && this.packets >= limits.packets) ||
      (limits.seconds !== undefined && seconds >= limits.seconds);
  }
}
