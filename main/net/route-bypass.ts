/**
 * Finds routes of the main table that would carry traffic for a tunnel prefix past the tunnel:
 * routes to a part of the prefix, which win by longest-prefix match over the tunnel's own route.
 */

import { parseAddress } from '../engine/address.js';

/** One entry of `ip -j route show`, with the fields this check reads. */
export interface RouteEntry {
  /** "default", an address (a host route) or a prefix such as "203.0.113.128/25". */
  dst?: string;
  dev?: string;
  /** Route type; absent for unicast. */
  type?: string;
  protocol?: string | number;
  /** The next hops of a multipath route, which has no `dev` of its own. */
  nexthops?: { dev?: string }[];
}

interface Prefix {
  bytes: Uint8Array;
  length: number;
}

function parsePrefix(text: string): Prefix | null {
  const [address, length] = text.split('/');
  try {
    const bytes = parseAddress(address!);
    return { bytes, length: length === undefined ? bytes.length * 8 : Number(length) };
  } catch {
    return null;
  }
}

/** Returns whether `inner` lies inside `outer` (or equals it). */
function contains(outer: Prefix, inner: Prefix): boolean {
  if (outer.bytes.length !== inner.bytes.length || inner.length < outer.length) {
    return false;
  }
  for (let bit = 0; bit < outer.length; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((outer.bytes[bit >> 3]! & mask) !== (inner.bytes[bit >> 3]! & mask)) {
      return false;
    }
  }
  return true;
}

/**
 * Returns each route in `routes` that sends part of a tunnel prefix somewhere other than
 * `device`, with the tunnel prefix it cuts into. Routes that carry no traffic (unreachable,
 * blackhole, prohibit), IPv6 link-local routes and the gateway's pinned route (routing protocol
 * `pinProtocol`) are left out.
 */
export function findBypassRoutes(
  routes: readonly RouteEntry[], tunnelPrefixes: readonly string[], device: string, pinProtocol: number,
): { route: string; dev: string; tunnelPrefix: string }[] {
  const found: { route: string; dev: string; tunnelPrefix: string }[] = [];
  const tunnel = tunnelPrefixes.map((text) => ({ text, prefix: parsePrefix(text) }));
  for (const route of routes) {
    // Link-local routes (fe80::/64 on every IPv6 interface) never carry tunnel traffic.
    // A multipath route stays inside the tunnel only when every one of its next hops does.
    const devices = route.dev !== undefined ? [route.dev] : (route.nexthops ?? []).map((hop) => hop.dev ?? 'unknown');
    const elsewhere = devices.filter((dev) => dev !== device);
    if (!route.dst || route.dst === 'default' || (devices.length > 0 && elsewhere.length === 0) || /^fe80:/i.test(route.dst)) {
      continue;
    }
    if ((route.type !== undefined && route.type !== 'unicast') || String(route.protocol) === String(pinProtocol)) {
      continue;
    }
    const prefix = parsePrefix(route.dst);
    const inside = prefix && tunnel.find((candidate) => candidate.prefix && contains(candidate.prefix, prefix));
    if (inside) {
      found.push({ route: route.dst, dev: elsewhere.join(', ') || 'unknown', tunnelPrefix: inside.text });
    }
  }
  return found;
}
