/**
 * A CommandRunner that performs the `ip` commands of tunnel set-up and undo over routing
 * netlink in this process, and passes every other command to another runner.
 *
 * Each `ip` process costs a fork of the whole Node process, 3 to 6 ms that block the event loop,
 * and connecting needed several of them (docs/benchmarks.md). The commands keep their `ip`
 * form, so the network journal, crash recovery and the tests read the same either way, and the
 * errors carry the text that `ip` prints, such as "RTNETLINK answers: File exists".
 */

import { formatAddress } from '../../engine/address.js';
import { CommandError, systemCommandRunner, type BatchLineFailure, type CommandRunner } from '../command-runner.js';
import { loadNative, type LupinaNative } from '../native.js';
import { parseIpCommand, type IpOperation } from './ip-command.js';
import {
  addressBody,
  AF_INET,
  AF_INET6,
  encodeRequest,
  errnoText,
  IFA_ADDRESS,
  IFA_LOCAL,
  IFF_UP,
  IFLA_MTU,
  linkBody,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  readDoneErrno,
  readErrorReply,
  readRouteMessage,
  routeBody,
  RT_SCOPE_LINK,
  RT_SCOPE_NOWHERE,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTM_DELADDR,
  RTM_DELROUTE,
  RTM_F_CLONED,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTN_UNICAST,
  RTPROT_BOOT,
  splitMessages,
  u32Attribute,
  type Attribute,
  type NetlinkMessage,
  type RouteMessage,
} from './rtnetlink-message.js';

/** The addon functions this runner uses. */
export type NetlinkNative = Pick<LupinaNative, 'rtnetlinkRequest' | 'interfaceIndex' | 'interfaceName'>;

/** Exit codes of `ip`: 1 for a bad argument such as an unknown device, 2 for a kernel error. */
const EXIT_ARGUMENT = 1;
const EXIT_KERNEL = 2;

/** Route types as `ip` names them; unicast is left out of its JSON. */
const ROUTE_TYPE_NAMES: Record<number, string> = {
  2: 'local', 3: 'broadcast', 4: 'anycast', 5: 'multicast', 6: 'blackhole', 7: 'unreachable', 8: 'prohibit', 9: 'throw',
  10: 'nat',
};
/** Some of the routing protocol names of iproute2's rt_protos; this runner prints others as numbers. */
const PROTOCOL_NAMES: Record<number, string> = { 1: 'redirect', 2: 'kernel', 3: 'boot', 4: 'static', 9: 'ra', 16: 'dhcp' };

/** An entry of `ip -j route get` or `ip -j route show`, with the fields Lupina reads. */
interface RouteJson {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  prefsrc?: string;
  /** The next hops of a multipath route, which has no top-level `dev`, as in `ip -j`. */
  nexthops?: { gateway?: string; dev?: string }[];
}

/** How often a main-table listing is repeated when a route change interrupts the dump. */
const DUMP_ATTEMPTS = 3;

/** A dump reply with NLM_F_DUMP_INTR: the table changed while the kernel dumped it. */
class DumpInterrupted extends Error {}

/** A failed operation, with the error output that `ip` would print for it. */
class IpFailure extends Error {
  constructor(readonly stderr: string, readonly exitCode: number) {
    super(stderr);
  }
}

function familyOf(address: Uint8Array): number {
  return address.length === 4 ? AF_INET : AF_INET6;
}

/** Loads the addon, or returns null when it is missing, so that the real `ip` runs instead. */
function loadNetlink(): NetlinkNative | null {
  try {
    return loadNative();
  } catch {
    return null;
  }
}

export class NetlinkIpRunner implements CommandRunner {
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private native: NetlinkNative | null | undefined;

  /**
   * @param fallback runs what netlink does not: other commands, and every command when the
   *   addon cannot load
   * @param loadAddon returns the addon functions, or null without the addon
   */
  constructor(
    private readonly fallback: CommandRunner,
    private readonly loadAddon: () => NetlinkNative | null = loadNetlink,
  ) {}

  run(command: string, args: readonly string[]): Promise<string> {
    const operation = command === 'ip' ? parseIpCommand(args) : null;
    const native = operation ? this.addon() : null;
    if (!operation || !native) {
      return this.fallback.run(command, args);
    }
    try {
      return Promise.resolve(this.perform(native, operation));
    } catch (error) {
      return Promise.reject(commandError(args, error));
    }
  }

  runIpBatch(lines: readonly (readonly string[])[]): Promise<BatchLineFailure[]> {
    const operations = lines.map((line) => parseIpCommand(line));
    const native = operations.every((operation) => operation !== null) ? this.addon() : null;
    if (!native) {
      return this.fallbackBatch(lines);
    }

    const failures: BatchLineFailure[] = [];
    for (const [index, operation] of operations.entries()) {
      try {
        this.perform(native, operation!);
      } catch (error) {
        failures.push({ index, stderr: commandError(lines[index]!, error).stderr });
      }
    }
    return Promise.resolve(failures);
  }

  private addon(): NetlinkNative | null {
    if (this.native === undefined) {
      this.native = this.loadAddon();
    }
    return this.native;
  }

  private async fallbackBatch(lines: readonly (readonly string[])[]): Promise<BatchLineFailure[]> {
    if (this.fallback.runIpBatch) {
      return this.fallback.runIpBatch(lines);
    }
    const failures: BatchLineFailure[] = [];
    for (const [index, line] of lines.entries()) {
      try {
        await this.fallback.run('ip', line);
      } catch (error) {
        failures.push({ index, stderr: error instanceof CommandError ? error.stderr : String(error) });
      }
    }
    return failures;
  }

  /** Performs one operation and returns what `ip` prints on success. */
  private perform(native: NetlinkNative, operation: IpOperation): string {
    switch (operation.kind) {
      case 'link-set':
        this.setLink(native, operation);
        return '';
      case 'address':
        this.changeAddress(native, operation);
        return '';
      case 'route':
        this.changeRoute(native, operation);
        return '';
      case 'route-get':
        return JSON.stringify([this.getRoute(native, operation.address)]);
      case 'route-list-main':
        return JSON.stringify(this.listMainRoutes(native, operation.family));
    }
  }

  private setLink(native: NetlinkNative, operation: Extract<IpOperation, { kind: 'link-set' }>): void {
    const index = deviceIndex(native, operation.device);
    const attributes = operation.mtu === undefined ? [] : [u32Attribute(IFLA_MTU, operation.mtu)];
    const change = operation.up === undefined ? 0 : IFF_UP;
    const flags = operation.up ? IFF_UP : 0;
    this.request(native, RTM_NEWLINK, NLM_F_ACK, linkBody(index, flags, change), attributes);
  }

  /** Adds or deletes an address like `ip address`: the local address and, as there is no peer, the same address again. */
  private changeAddress(native: NetlinkNative, operation: Extract<IpOperation, { kind: 'address' }>): void {
    const index = deviceIndex(native, operation.device);
    const body = addressBody(familyOf(operation.address), operation.prefixLength, index);
    const attributes = [{ type: IFA_LOCAL, value: operation.address }, { type: IFA_ADDRESS, value: operation.address }];
    if (operation.action === 'add') {
      this.request(native, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, body, attributes);
    } else {
      this.request(native, RTM_DELADDR, NLM_F_ACK, body, attributes);
    }
  }

  /**
   * Adds or deletes a route in the main table like `ip route`. An add gets protocol "boot" unless
   * one is named, and link scope for an IPv4 route without a gateway. A delete matches any scope,
   * type and, unless one is named, protocol.
   */
  private changeRoute(native: NetlinkNative, operation: Extract<IpOperation, { kind: 'route' }>): void {
    const family = familyOf(operation.dst);
    const attributes: Attribute[] = [{ type: RTA_DST, value: operation.dst }];
    if (operation.device !== undefined) {
      attributes.push(u32Attribute(RTA_OIF, deviceIndex(native, operation.device)));
    }
    if (operation.via) {
      attributes.push({ type: RTA_GATEWAY, value: operation.via });
    }

    if (operation.action === 'add') {
      const scope = family === AF_INET && !operation.via ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
      const body = routeBody({
        family, dstLength: operation.dstLength, table: RT_TABLE_MAIN, protocol: operation.protocol ?? RTPROT_BOOT, scope,
        type: RTN_UNICAST,
      });
      this.request(native, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, body, attributes);
      return;
    }
    const body = routeBody({
      family, dstLength: operation.dstLength, table: RT_TABLE_MAIN, protocol: operation.protocol ?? 0, scope: RT_SCOPE_NOWHERE,
      type: 0,
    });
    this.request(native, RTM_DELROUTE, NLM_F_ACK, body, attributes);
  }

  private getRoute(native: NetlinkNative, address: Uint8Array): RouteJson {
    const body = routeBody({
      family: familyOf(address), dstLength: address.length * 8, table: 0, protocol: 0, scope: 0, type: 0,
    });
    const reply = this.request(native, RTM_GETROUTE, NLM_F_ACK, body, [{ type: RTA_DST, value: address }]);
    const route = reply.find((message) => message.type === RTM_NEWROUTE);
    if (!route) {
      throw new IpFailure(`RTNETLINK answers: the route lookup for ${formatAddress(address)} returned no route`, EXIT_KERNEL);
    }
    return routeJson(cachedInterfaceNames(native), readRouteMessage(route.payload));
  }

  /**
   * Lists the main table's routes without cached clones, like `ip route show table main`. A dump
   * that a concurrent route change interrupted may miss routes, so it is repeated.
   */
  private listMainRoutes(native: NetlinkNative, family: 4 | 6): RouteJson[] {
    const body = routeBody({ family: family === 4 ? AF_INET : AF_INET6, dstLength: 0, table: 0, protocol: 0, scope: 0, type: 0 });
    for (let attempt = 1; ; attempt++) {
      let reply: NetlinkMessage[];
      try {
        reply = this.request(native, RTM_GETROUTE, NLM_F_DUMP, body, []);
      } catch (error) {
        if (error instanceof DumpInterrupted && attempt < DUMP_ATTEMPTS) {
          continue;
        }
        throw error instanceof DumpInterrupted
          ? new IpFailure(`Dump was interrupted ${DUMP_ATTEMPTS} times by route changes; try again`, EXIT_KERNEL)
          : error;
      }

      const names = cachedInterfaceNames(native);
      return reply
        .filter((message) => message.type === RTM_NEWROUTE)
        .map((message) => readRouteMessage(message.payload))
        .filter((route) => route.table === RT_TABLE_MAIN && (route.flags & RTM_F_CLONED) === 0)
        .map((route) => routeJson(names, route));
    }
  }

  /** Sends one request and returns the reply's messages; throws IpFailure on a kernel error. */
  private request(native: NetlinkNative, type: number, flags: number, body: Uint8Array, attributes: readonly Attribute[]): NetlinkMessage[] {
    this.seq = (this.seq + 1) >>> 0;
    const seq = this.seq;
    const reply = native.rtnetlinkRequest(encodeRequest(type, NLM_F_REQUEST | flags, seq, body, attributes));
    const messages = splitMessages(reply).filter((message) => message.seq === seq);

    for (const message of messages) {
      if ((message.flags & NLM_F_DUMP_INTR) !== 0) {
        throw new DumpInterrupted();
      }
      if (message.type === NLMSG_ERROR) {
        const error = readErrorReply(message);
        if (error.errno !== 0) {
          const explanation = error.explanation ? ` (${error.explanation})` : '';
          throw new IpFailure(`RTNETLINK answers: ${errnoText(error.errno)}${explanation}`, EXIT_KERNEL);
        }
      }
      const dumpErrno = message.type === NLMSG_DONE ? readDoneErrno(message) : 0;
      if (dumpErrno > 0) {
        throw new IpFailure(`RTNETLINK answers: ${errnoText(dumpErrno)}`, EXIT_KERNEL);
      }
    }
    return messages.filter((message) => message.type !== NLMSG_ERROR && message.type !== NLMSG_DONE);
  }
}

function deviceIndex(native: NetlinkNative, device: string): number {
  const index = native.interfaceIndex(device);
  if (index === 0) {
    throw new IpFailure(`Cannot find device "${device}"`, EXIT_ARGUMENT);
  }
  return index;
}

/** Returns interfaceName with a cache, for one listing in which many routes share devices. */
function cachedInterfaceNames(native: NetlinkNative): (index: number) => string | null {
  const names = new Map<number, string | null>();
  return (index) => {
    if (!names.has(index)) {
      names.set(index, native.interfaceName(index));
    }
    return names.get(index)!;
  };
}

/** Formats a destination as `ip` does: "default", a bare address for a host route, else a prefix. */
function routeDestination(route: RouteMessage): string {
  if (!route.dst || route.dstLength === 0) {
    return 'default';
  }
  const address = formatAddress(route.dst);
  const hostLength = route.family === AF_INET ? 32 : 128;
  return route.dstLength === hostLength ? address : `${address}/${route.dstLength}`;
}

/** Formats a route as `ip -j` does, with the fields that Lupina reads. */
function routeJson(interfaceName: (index: number) => string | null, route: RouteMessage): RouteJson {
  const json: RouteJson = { dst: routeDestination(route) };
  if (route.type !== RTN_UNICAST) {
    json.type = ROUTE_TYPE_NAMES[route.type] ?? String(route.type);
  }
  if (route.gateway) {
    json.gateway = formatAddress(route.gateway);
  }
  const dev = route.oif === undefined ? null : interfaceName(route.oif);
  if (dev !== null) {
    json.dev = dev;
  }
  if (route.nextHops) {
    json.nexthops = route.nextHops.map((hop) => {
      const hopDev = hop.oif === undefined ? null : interfaceName(hop.oif);
      return {
        ...(hop.gateway ? { gateway: formatAddress(hop.gateway) } : {}),
        ...(hopDev === null ? {} : { dev: hopDev }),
      };
    });
  }
  if (route.protocol !== RTPROT_BOOT && route.protocol !== 0) {
    json.protocol = PROTOCOL_NAMES[route.protocol] ?? String(route.protocol);
  }
  if (route.prefsrc) {
    json.prefsrc = formatAddress(route.prefsrc);
  }
  return json;
}

/** Turns a failure into the CommandError that the `ip` binary's failure would give. */
function commandError(args: readonly string[], error: unknown): CommandError {
  if (error instanceof IpFailure) {
    return new CommandError('ip', args, error.exitCode, error.stderr);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CommandError('ip', args, EXIT_KERNEL, message);
}

/** The runner for network changes on this system: netlink where it can, the `ip` binary otherwise. */
export const systemNetworkRunner: CommandRunner = new NetlinkIpRunner(systemCommandRunner);
