/**
 * Turns traffic selector address ranges into the CIDR prefixes that the routing table takes.
 * A default route (0.0.0.0/0 or ::/0) becomes two halves (/1), so it wins over the system's
 * default route by being more specific and leaves that route untouched.
 */

import { compareAddresses, formatAddress } from '../engine/address.js';
import { copyBytes } from '../engine/bytes.js';
import { prefixRange, type TrafficSelector } from '../engine/traffic-selector.js';

/** Returns the smallest list of prefixes that covers exactly [start, end], as "address/length". */
export function rangeToPrefixes(start: Uint8Array, end: Uint8Array): string[] {
  const bits = start.length * 8;
  const prefixes: string[] = [];
  let current = copyBytes(start);

  for (;;) {
    // The largest block that starts at `current` and does not pass `end`.
    let length = bits;
    while (length > 0) {
      const [first, last] = prefixRange(current, length - 1);
      if (compareAddresses(first, current) !== 0 || compareAddresses(last, end) > 0) {
        break;
      }
      length -= 1;
    }
    prefixes.push(`${formatAddress(current)}/${length}`);

    const [, last] = prefixRange(current, length);
    if (compareAddresses(last, end) >= 0) {
      return prefixes;
    }
    current = increment(last);
  }
}

function increment(address: Uint8Array): Uint8Array {
  const next = copyBytes(address);
  for (let i = next.length - 1; i >= 0; i--) {
    next[i] = (next[i]! + 1) & 0xff;
    if (next[i] !== 0) {
      break;
    }
  }
  return next;
}

/** Returns the route prefixes for traffic selectors, with default routes split in halves. */
export function selectorRoutes(selectors: readonly TrafficSelector[]): string[] {
  const routes = new Set<string>();
  for (const selector of selectors) {
    for (const prefix of rangeToPrefixes(selector.startAddress, selector.endAddress)) {
      if (prefix === '0.0.0.0/0') {
        routes.add('0.0.0.0/1');
        routes.add('128.0.0.0/1');
      } else if (prefix === '::/0') {
        routes.add('::/1');
        routes.add('8000::/1');
      } else {
        routes.add(prefix);
      }
    }
  }
  return [...routes];
}
