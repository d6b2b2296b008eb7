/**
 * Throughput history per connection, from the status pushes. Rates come from the connection
 * totals, which include retired SAs, so a rekey (new SPIs) does not show as a drop or a spike.
 */

import type { StatusView } from '../../main/app/ipc-schema';

export interface ThroughputSample {
  /** Milliseconds since the epoch. */
  time: number;
  bytesIn: number;
  bytesOut: number;
}

/** Samples per profile id. */
export type ThroughputHistory = Record<string, ThroughputSample[]>;

/** Samples kept per connection: two minutes at one status push per second. */
export const HISTORY_LENGTH = 120;

export function appendSample(history: ThroughputHistory, view: StatusView): ThroughputHistory {
  const connection = view.connection;
  if (!connection) {
    return history;
  }
  const samples = history[connection.profileId] ?? [];
  const sample = { time: Date.parse(view.time), bytesIn: connection.totals.bytesIn, bytesOut: connection.totals.bytesOut };
  const last = samples[samples.length - 1];
  // Totals start again at zero on a new connection; the old line would only mislead.
  const restarted = last !== undefined && (sample.bytesIn < last.bytesIn || sample.bytesOut < last.bytesOut);
  const kept = restarted ? [] : samples.slice(-(HISTORY_LENGTH - 1));
  return { ...history, [connection.profileId]: [...kept, sample] };
}

export interface RatePoint {
  time: number;
  /** Bytes per second. */
  rateIn: number;
  rateOut: number;
}

export function ratesOf(samples: readonly ThroughputSample[]): RatePoint[] {
  const points: RatePoint[] = [];
  for (let i = 1; i < samples.length; i++) {
    const previous = samples[i - 1]!;
    const current = samples[i]!;
    const seconds = (current.time - previous.time) / 1000;
    if (seconds <= 0) {
      continue;
    }
    points.push({
      time: current.time,
      rateIn: (current.bytesIn - previous.bytesIn) / seconds,
      rateOut: (current.bytesOut - previous.bytesOut) / seconds,
    });
  }
  return points;
}
