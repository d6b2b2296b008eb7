/**
 * Reads the few `ip` command lines that tunnel set-up and undo use into operations that the
 * netlink runner performs itself. Any other line, or one with an option or word these shapes
 * lack, reads as null and goes to the real `ip`.
 */

import { parseAddress } from '../../engine/address.js';

export type IpOperation =
  /** `link set dev D [mtu M] [up|down]` */
  | { kind: 'link-set'; device: string; mtu?: number; up?: boolean }
  /** `address add|del A/P dev D` */
  | { kind: 'address'; action: 'add' | 'del'; address: Uint8Array; prefixLength: number; device: string }
  /** `route add P [via G] dev D [proto N]`, `route del P [via G] [dev D] [proto N]` */
  | {
    kind: 'route';
    action: 'add' | 'del';
    dst: Uint8Array;
    dstLength: number;
    /** Absent only for a delete, which then matches a route through any device. */
    device?: string;
    via?: Uint8Array;
    protocol?: number;
  }
  /** `-j route get A` */
  | { kind: 'route-get'; address: Uint8Array }
  /** `-j -4|-6 route show table main` */
  | { kind: 'route-list-main'; family: 4 | 6 };

interface Options {
  json: boolean;
  family: 4 | 6 | null;
  words: readonly string[];
}

function readOptions(args: readonly string[]): Options | null {
  let json = false;
  let family: 4 | 6 | null = null;
  let index = 0;
  for (; index < args.length && args[index]!.startsWith('-'); index++) {
    const option = args[index];
    if (option === '-j') {
      json = true;
    } else if (option === '-4' || option === '-6') {
      family = option === '-4' ? 4 : 6;
    } else {
      return null;
    }
  }
  return { json, family, words: args.slice(index) };
}

function readAddress(text: string | undefined): Uint8Array | null {
  if (text === undefined) {
    return null;
  }
  try {
    return parseAddress(text);
  } catch {
    return null;
  }
}

/** Reads "A/P" or a bare address, which is a host prefix. */
function readPrefix(text: string | undefined): { address: Uint8Array; length: number } | null {
  const [addressText, lengthText, extra] = (text ?? '').split('/');
  const address = readAddress(addressText);
  if (!address || extra !== undefined) {
    return null;
  }
  const length = lengthText === undefined ? address.length * 8 : Number(lengthText);
  if (!/^\d{1,3}$/.test(lengthText ?? '0') || length > address.length * 8) {
    return null;
  }
  return { address, length };
}

function matchesFamily(family: 4 | 6 | null, address: Uint8Array): boolean {
  return family === null || (family === 4) === (address.length === 4);
}

/** Reads `name value` pairs and bare flags, or returns null on a word in neither list. */
function readKeywords(words: readonly string[], withValue: readonly string[], flags: readonly string[]): Map<string, string> | null {
  const found = new Map<string, string>();
  for (let index = 0; index < words.length; index++) {
    const word = words[index]!;
    if (flags.includes(word)) {
      found.set(word, '');
    } else if (withValue.includes(word) && index + 1 < words.length && !found.has(word)) {
      found.set(word, words[++index]!);
    } else {
      return null;
    }
  }
  return found;
}

function readLinkSet(words: readonly string[]): IpOperation | null {
  const keywords = readKeywords(words, ['dev', 'mtu'], ['up', 'down']);
  const device = keywords?.get('dev');
  if (!keywords || !device || (keywords.has('up') && keywords.has('down'))) {
    return null;
  }
  const mtuText = keywords.get('mtu');
  if (mtuText !== undefined && !/^\d{1,6}$/.test(mtuText)) {
    return null;
  }
  return {
    kind: 'link-set',
    device,
    mtu: mtuText === undefined ? undefined : Number(mtuText),
    up: keywords.has('up') ? true : keywords.has('down') ? false : undefined,
  };
}

function readAddressChange(action: 'add' | 'del', words: readonly string[], family: 4 | 6 | null): IpOperation | null {
  const prefix = readPrefix(words[0]);
  const keywords = readKeywords(words.slice(1), ['dev'], []);
  const device = keywords?.get('dev');
  if (!prefix || !device || !matchesFamily(family, prefix.address)) {
    return null;
  }
  return { kind: 'address', action, address: prefix.address, prefixLength: prefix.length, device };
}

function readRouteChange(action: 'add' | 'del', words: readonly string[], family: 4 | 6 | null): IpOperation | null {
  const prefix = readPrefix(words[0]);
  const keywords = readKeywords(words.slice(1), ['dev', 'via', 'proto'], []);
  const device = keywords?.get('dev');
  if (!prefix || !keywords || (!device && action === 'add') || !matchesFamily(family, prefix.address)) {
    return null;
  }
  const viaText = keywords.get('via');
  const via = viaText === undefined ? undefined : readAddress(viaText);
  const protocolText = keywords.get('proto');
  if (via === null || (via && via.length !== prefix.address.length)) {
    return null;
  }
  if (protocolText !== undefined && !(/^\d{1,3}$/.test(protocolText) && Number(protocolText) <= 255)) {
    return null;
  }
  return {
    kind: 'route',
    action,
    dst: prefix.address,
    dstLength: prefix.length,
    device,
    via,
    protocol: protocolText === undefined ? undefined : Number(protocolText),
  };
}

/** Returns the operation of an `ip` argument list, or null when the netlink runner does not do it. */
export function parseIpCommand(args: readonly string[]): IpOperation | null {
  const options = readOptions(args);
  if (!options) {
    return null;
  }
  const { json, family, words } = options;
  const [object, action, ...rest] = words;

  if (json) {
    if (object === 'route' && action === 'get' && rest.length === 1) {
      const address = readAddress(rest[0]);
      return address && matchesFamily(family, address) ? { kind: 'route-get', address } : null;
    }
    if (object === 'route' && action === 'show' && family !== null && rest.join(' ') === 'table main') {
      return { kind: 'route-list-main', family };
    }
    return null;
  }
  if (object === 'link' && action === 'set') {
    return readLinkSet(rest);
  }
  if ((object === 'address' || object === 'addr') && (action === 'add' || action === 'del')) {
    return readAddressChange(action, rest, family);
  }
  if (object === 'route' && (action === 'add' || action === 'del')) {
    return readRouteChange(action, rest, family);
  }
  return null;
}
