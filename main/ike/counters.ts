/** Counters of dropped IKE messages, one per reason, for diagnostics. */

export type IkeDropReason =
  | 'malformed'
  | 'unknown-spi'
  | 'unexpected-message-id'
  | 'integrity'
  | 'unexpected-exchange'
  | 'fragment';

export class IkeCounters {
  readonly drops: Record<IkeDropReason, number> = {
    malformed: 0,
    'unknown-spi': 0,
    'unexpected-message-id': 0,
    integrity: 0,
    'unexpected-exchange': 0,
    fragment: 0,
  };
  retransmissions = 0;
  cachedResponsesResent = 0;

  drop(reason: IkeDropReason): void {
    this.drops[reason]++;
  }
}
