/**
 * Per-SA counters. Every packet that an SA drops is counted under exactly one reason, so the
 * user can see why traffic stops (strongSwan and the Linux kernel split these the same way).
 */

export const DROP_REASONS = [
  /** The sequence number was already received (RFC 4303 section 3.4.3). */
  'replayDuplicate',
  /** The sequence number is left of the replay window. */
  'replayTooOld',
  /** The ICV or AEAD tag did not verify (RFC 4303 section 3.4.4). */
  'icv',
  /** The padding bytes are not 1, 2, 3, ... or the pad length exceeds the payload (RFC 4303 section 2.4). */
  'padding',
  /** The decrypted packet's addresses or ports are outside the SA's traffic selectors (RFC 4301 section 5.2). */
  'policy',
  /** The packet is too short, misaligned, or its headers are inconsistent. */
  'malformed',
  /** A dummy packet, next header 59 (RFC 4303 section 2.6): dropped by design. */
  'dummy',
  /** The hard lifetime has run out, or the SA was deleted. */
  'expired',
  /** The outbound sequence number space is used up and the SA needs a rekey (RFC 4303 section 3.3.3). */
  'sequenceExhausted',
  /** The inner packet is larger than the SA can carry. */
  'tooBig',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

export type DropCounters = Record<DropReason, number>;

export function emptyDropCounters(): DropCounters {
  const counters = {} as DropCounters;
  for (const reason of DROP_REASONS) {
    counters[reason] = 0;
  }
  return counters;
}

export interface SaCounters {
  /** Packets processed successfully: sent for an outbound SA, delivered for an inbound one. */
  packets: number;
  /** Bytes of the inner (plaintext) packets counted in `packets`. */
  bytes: number;
  drops: DropCounters;
}

/** Result of processing one packet: the bytes to pass on, or the reason for the drop. */
export type PacketResult =
  | { ok: true; packet: Uint8Array }
  | { ok: false; reason: DropReason; detail?: string };

export function dropped(reason: DropReason, detail?: string): PacketResult {
  return detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };
}
