/**
 * The protocol between the app and its privileged helper: one JSON object per line on the
 * helper's stdin (requests) and stdout (responses). The helper accepts only the operations
 * listed here, and checks every argument, because it runs as root on behalf of a process that
 * it must not trust further than these operations.
 */

import { isIP } from 'node:net';

import type { DnsSettings, TransportPeer, TunnelNetworkSettings } from '../net/network-config.js';

export const HELPER_PROTOCOL_VERSION = 1;

/** The longest request line the helper reads, in bytes; a larger one ends the helper. */
export const MAX_REQUEST_LINE_BYTES = 64 * 1024;

export type HelperRequest =
  | { id: number; op: 'hello' }
  /** Creates a persistent TUN device that the user owns (TUNSETOWNER), so the app can open it. */
  | { id: number; op: 'createTun' }
  /** Applies addresses, MTU, routes and DNS to a device that this helper created. */
  | { id: number; op: 'applyNetwork'; settings: TunnelNetworkSettings }
  | { id: number; op: 'revertNetwork'; device: string }
  | { id: number; op: 'deleteTun'; device: string };

export type HelperOperation = HelperRequest['op'];

export interface HelperValues {
  hello: { version: number; owner: number };
  createTun: { device: string };
  applyNetwork: { device: string };
  revertNetwork: { device: string };
  deleteTun: { device: string };
}

export type HelperResponse =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { code: string; message: string } };

export class HelperProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HelperProtocolError';
  }
}

const LIMITS = { addresses: 16, routes: 1024, transportPeers: 16, dnsServers: 8, dnsDomains: 32 } as const;
/** Linux interface names: at most 15 bytes, no slash, colon or white space. */
const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;
/** A DNS name without a trailing dot, in letters, digits and hyphens (RFC 1123 section 2.1). */
const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function fail(message: string): never {
  throw new HelperProtocolError(message);
}

function record(value: unknown, what: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`${what} must be an object`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      fail(`${what} has the unknown key "${key.slice(0, 40)}"`);
    }
  }
  return value as Record<string, unknown>;
}

function list(value: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(value)) {
    fail(`${what} must be a list`);
  }
  if (value.length > max) {
    fail(`${what} has ${value.length} entries; at most ${max} are allowed`);
  }
  return value;
}

export function checkAddress(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length > 45 || isIP(value) === 0) {
    fail(`${what} must be an IPv4 or IPv6 address`);
  }
  return value;
}

/** Checks "address/length" with a length that fits the family. */
export function checkPrefix(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length > 49) {
    fail(`${what} must be an address with a prefix length, such as 192.0.2.1/32`);
  }
  const [address, length, extra] = value.split('/');
  const family = isIP(address ?? '');
  const bits = family === 4 ? 32 : 128;
  if (family === 0 || extra !== undefined || length === undefined || !/^\d{1,3}$/.test(length) || Number(length) > bits) {
    fail(`${what} must be an address with a prefix length, such as 192.0.2.1/32`);
  }
  return value;
}

export function checkInterfaceName(value: unknown, what: string): string {
  if (typeof value !== 'string' || !INTERFACE_NAME.test(value)) {
    fail(`${what} must be an interface name of 1 to 15 letters, digits, ".", "_" or "-"`);
  }
  return value;
}

function checkPort(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    fail(`${what} must be a port from 1 to 65535`);
  }
  return value;
}

function checkTransportPeer(value: unknown, index: number): TransportPeer {
  const what = `transportPeers[${index}]`;
  const peer = record(value, what, ['address', 'encapsulation', 'udpPort']);
  const encapsulation = peer['encapsulation'];
  if (encapsulation !== 'raw' && encapsulation !== 'udp') {
    fail(`${what}.encapsulation must be "raw" or "udp"`);
  }
  const checked: TransportPeer = { address: checkAddress(peer['address'], `${what}.address`), encapsulation };
  if (peer['udpPort'] !== undefined) {
    checked.udpPort = checkPort(peer['udpPort'], `${what}.udpPort`);
  }
  return checked;
}

function checkDns(value: unknown): DnsSettings {
  const dns = record(value, 'dns', ['servers', 'domains']);
  const servers = list(dns['servers'], 'dns.servers', LIMITS.dnsServers)
    .map((server, index) => checkAddress(server, `dns.servers[${index}]`));
  const domains = list(dns['domains'], 'dns.domains', LIMITS.dnsDomains).map((domain, index) => {
    if (typeof domain !== 'string' || !DOMAIN.test(domain)) {
      fail(`dns.domains[${index}] must be a DNS name such as corp.example`);
    }
    return domain;
  });
  return { servers, domains };
}

/**
 * Checks network settings for `applyNetwork`. Every value that reaches an `ip` or `resolvectl`
 * argument is an address, a prefix, a number or a device name from `ownedDevices`, so no value
 * can turn into an option or another command.
 */
export function checkNetworkSettings(value: unknown, ownedDevices: ReadonlySet<string>): TunnelNetworkSettings {
  const settings = record(value, 'settings', ['device', 'addresses', 'mtu', 'routes', 'gateway', 'transportPeers', 'dns']);
  const device = checkInterfaceName(settings['device'], 'settings.device');
  if (!ownedDevices.has(device)) {
    fail(`device "${device}" was not created by this helper`);
  }
  const mtu = settings['mtu'];
  // RFC 791 makes 576 bytes the smallest IPv4 datagram every host accepts; 65535 is the IP maximum.
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 576 || mtu > 65535) {
    fail('settings.mtu must be a whole number from 576 to 65535');
  }
  const checked: TunnelNetworkSettings = {
    device,
    mtu,
    addresses: list(settings['addresses'], 'settings.addresses', LIMITS.addresses)
      .map((address, index) => checkPrefix(address, `settings.addresses[${index}]`)),
    routes: list(settings['routes'], 'settings.routes', LIMITS.routes)
      .map((route, index) => checkPrefix(route, `settings.routes[${index}]`)),
    gateway: checkAddress(settings['gateway'], 'settings.gateway'),
  };
  if (settings['transportPeers'] !== undefined) {
    checked.transportPeers = list(settings['transportPeers'], 'settings.transportPeers', LIMITS.transportPeers)
      .map((peer, index) => checkTransportPeer(peer, index));
  }
  if (settings['dns'] !== undefined) {
    checked.dns = checkDns(settings['dns']);
  }
  return checked;
}

/** Parses and checks one request line; throws HelperProtocolError with the reason. */
export function parseHelperRequest(line: string, ownedDevices: ReadonlySet<string>): HelperRequest {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    fail('the request is not JSON');
  }
  const base = record(json, 'the request', ['id', 'op', 'settings', 'device']);
  const id = base['id'];
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
    fail('the request id must be a whole number');
  }
  const op = base['op'];
  const onlyKeys = (keys: readonly string[]) => record(json, `the ${String(op)} request`, ['id', 'op', ...keys]);
  switch (op) {
    case 'hello':
    case 'createTun':
      onlyKeys([]);
      return { id, op };
    case 'applyNetwork':
      onlyKeys(['settings']);
      return { id, op, settings: checkNetworkSettings(base['settings'], ownedDevices) };
    case 'revertNetwork':
    case 'deleteTun': {
      onlyKeys(['device']);
      const device = checkInterfaceName(base['device'], 'device');
      if (!ownedDevices.has(device)) {
        fail(`device "${device}" was not created by this helper`);
      }
      return { id, op, device };
    }
    default:
      fail(`unknown operation "${String(op).slice(0, 40)}"; allowed: hello, createTun, applyNetwork, revertNetwork, deleteTun`);
  }
}

/** Reads the id of a request that failed the checks, so the error can still be matched. */
export function requestIdOf(line: string): number {
  try {
    const id = (JSON.parse(line) as { id?: unknown }).id;
    return typeof id === 'number' && Number.isSafeInteger(id) ? id : -1;
  } catch {
    return -1;
  }
}
