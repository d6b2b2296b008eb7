/** Reassembly of IKE messages sent as SKF fragments (RFC 7383 section 2.6). */

import { concatBytes } from './bytes.js';

/** Maximum number of fragments of one message, which bounds the memory one message can use. */
export const MAX_FRAGMENTS = 64;

interface PendingMessage {
  total: number;
  firstInnerType: number;
  parts: Map<number, Uint8Array>;
}

export type FragmentResult =
  | { state: 'incomplete' }
  | { state: 'complete'; firstInnerType: number; plaintext: Uint8Array }
  | { state: 'rejected'; reason: string };

export class FragmentAssembler {
  private readonly pending = new Map<string, PendingMessage>();

  /**
   * Stores one authenticated fragment. The key names the message (ID and direction), so that
   * fragments of different messages never mix.
   */
  add(
    key: string,
    fragmentNumber: number,
    total: number,
    firstInnerType: number,
    plaintext: Uint8Array,
  ): FragmentResult {
    if (total > MAX_FRAGMENTS) {
      return {
        state: 'rejected',
        reason: `${total} fragments exceed the limit of ${MAX_FRAGMENTS}`,
      };
    }
    let message = this.pending.get(key);
    // RFC 7383 section 2.6.2: a larger total means the sender refragmented a retransmission,
    // so the older fragments are dropped. A smaller total belongs to an older attempt.
    if (message !== undefined && total > message.total) {
      message = undefined;
    } else if (message !== undefined && total < message.total) {
      return { state: 'rejected', reason: `fragment total ${total} is below ${message.total}` };
    }
    if (message === undefined) {
      message = { total, firstInnerType: 0, parts: new Map() };
      this.pending.set(key, message);
    }
    if (fragmentNumber === 1) {
      message.firstInnerType = firstInnerType;
    }
    message.parts.set(fragmentNumber, plaintext);
    if (message.parts.size < message.total) {
      return { state: 'incomplete' };
    }

    this.pending.delete(key);
    const ordered: Uint8Array[] = [];
    for (let number = 1; number <= message.total; number++) {
      ordered.push(message.parts.get(number)!);
    }
    return {
      state: 'complete',
      firstInnerType: message.firstInnerType,
      plaintext: concatBytes(...ordered),
    };
  }

  clear(): void {
    this.pending.clear();
  }
}
