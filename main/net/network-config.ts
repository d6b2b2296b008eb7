/**
 * Linux network set-up for a tunnel with iproute2: the TUN device's addresses, MTU and routes,
 * plus a host route that keeps the gateway itself outside the tunnel.
 *
 * Every change is written to a journal file before it is made, with the command that undoes it.
 * `revert` undoes the changes in reverse order. After a crash, `recoverStaleJournals` finds the
 * journals of processes that no longer run and undoes what they left behind.
 */

import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CommandError, type CommandRunner } from './command-runner.js';

export interface TunnelNetworkSettings {
  /** Name of the TUN device. */
  device: string;
  /** Addresses with prefix length for the device, such as "192.0.2.200/32". */
  addresses: string[];
  mtu: number;
  /** Prefixes routed into the tunnel, such as "203.0.113.0/24". */
  routes: string[];
  /** The gateway's outer address, which must keep its route outside the tunnel. */
  gateway: string;
  /**
   * Transport-mode peers. Their packets are routed into the tunnel by policy rules, except the
   * ESP, AH or NAT-T packets themselves, which share the peer's address (see `routePeerByPolicy`).
   */
  transportPeers?: TransportPeer[];
  /** DNS servers and domains from the gateway (RFC 7296 section 3.15, RFC 8598) or the profile. */
  dns?: DnsSettings;
}

export interface DnsSettings {
  servers: string[];
  /** Domains whose names the servers resolve; none means every name. */
  domains: string[];
}

/** The DNS destination: systemd-resolved through resolvectl, or a resolv.conf file. */
export type DnsBackend = { type: 'resolvectl' } | { type: 'resolv-conf'; path: string };

export interface TransportPeer {
  address: string;
  /** The SAs' encapsulation towards the peer: raw ESP or AH, or ESP in UDP to `udpPort`. */
  encapsulation: 'raw' | 'udp';
  udpPort?: number;
}

/** Routing table for transport-mode peers; "LP" in ASCII, chosen to stay clear of common tables. */
export const POLICY_ROUTING_TABLE = 0x4c50;
/** Firewall mark of the packets that the raw-socket transport sends, so rules can tell them apart. */
export const TUNNEL_PACKET_MARK = 0x4c50;
/** Priority of the rule that keeps IPsec packets to a peer in the main table. */
export const BYPASS_RULE_PRIORITY = 0x4c50;
/** Priority of the rule that sends all other packets to a peer into the tunnel. */
export const TUNNEL_RULE_PRIORITY = 0x4c51;

/** One change and how to undo it: an `ip` or `resolvectl` command, or a file to restore. */
interface JournalStep {
  undo: string[];
  /** The command of `undo`; `ip` when absent. */
  command?: string;
  /** Restores `path` from `backup`, in place of a command. */
  restore?: { path: string; backup: string };
  description: string;
}

interface Journal {
  pid: number;
  device: string;
  steps: JournalStep[];
}

export interface NetworkLog {
  info(message: string): void;
  warn(message: string): void;
}

const IP = 'ip';

export class NetworkConfigurator {
  private readonly steps: JournalStep[] = [];
  private readonly journalPath: string;

  constructor(
    private readonly runner: CommandRunner,
    private readonly journalDirectory: string,
    private readonly device: string,
    private readonly log: NetworkLog,
    private readonly dnsBackend: DnsBackend = { type: 'resolv-conf', path: '/etc/resolv.conf' },
  ) {
    this.journalPath = join(journalDirectory, `${device}.json`);
  }

  /** Applies the settings; on failure reverts what was applied and rethrows. */
  async apply(settings: TunnelNetworkSettings): Promise<void> {
    await mkdir(this.journalDirectory, { recursive: true, mode: 0o700 });
    try {
      await this.configureDevice(settings);
      await this.addRoutes(settings);
      if (settings.dns && settings.dns.servers.length > 0) {
        await this.configureDns(settings.device, settings.dns);
      }
    } catch (error) {
      await this.revert();
      throw error;
    }
  }

  /** Undoes every recorded change in reverse order, logging the ones that fail, then drops the journal. */
  async revert(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      await runUndo(this.runner, step, this.log);
      await this.writeJournal();
    }
    await rm(this.journalPath, { force: true });
  }

  private async configureDevice(settings: TunnelNetworkSettings): Promise<void> {
    await this.change(['link', 'set', 'dev', settings.device, 'mtu', String(settings.mtu), 'up'],
      ['link', 'set', 'dev', settings.device, 'down'], `bring ${settings.device} up with MTU ${settings.mtu}`);
    for (const address of settings.addresses) {
      await this.change(['address', 'add', address, 'dev', settings.device],
        ['address', 'del', address, 'dev', settings.device], `add address ${address}`);
    }
  }

  private async addRoutes(settings: TunnelNetworkSettings): Promise<void> {
    for (const peer of settings.transportPeers ?? []) {
      await this.routePeerByPolicy(settings.device, peer);
    }
    if (settings.routes.length > 0) {
      await this.pinGatewayRoute(settings.gateway);
    }
    for (const prefix of settings.routes) {
      const family = prefix.includes(':') ? '-6' : '-4';
      try {
        await this.change([family, 'route', 'add', prefix, 'dev', settings.device],
          [family, 'route', 'del', prefix, 'dev', settings.device], `route ${prefix} into the tunnel`);
      } catch (error) {
        if (!(error instanceof CommandError) || !/File exists/i.test(error.stderr)) {
          throw error;
        }
        this.log.warn(`route ${prefix} already exists outside the tunnel, so that traffic does not use it`);
      }
    }
  }

  /**
   * Routes a transport-mode peer into the tunnel with policy rules. In transport mode the
   * protected packets carry the peer's own address, so a plain route would loop them back into
   * the TUN device. A first rule keeps ESP and AH (marked) or UDP to the NAT-T port in the main table,
   * and a second one sends everything else to the peer through a table that points at the device.
   */
  private async routePeerByPolicy(device: string, peer: TransportPeer): Promise<void> {
    const family = peer.address.includes(':') ? '-6' : '-4';
    const host = `${peer.address}/${peer.address.includes(':') ? 128 : 32}`;
    const table = String(POLICY_ROUTING_TABLE);
    // A raw socket with IP_HDRINCL is routed as protocol 255, not ESP or AH, so the raw
    // transport marks its packets instead (SO_MARK). UDP sockets route by port as usual.
    const bypassSelectors = peer.encapsulation === 'udp'
      ? [['ipproto', 'udp', 'dport', String(peer.udpPort ?? 4500)]]
      : [['fwmark', `0x${TUNNEL_PACKET_MARK.toString(16)}`]];

    for (const selector of bypassSelectors) {
      const rule = ['to', host, ...selector, 'lookup', 'main', 'priority', String(BYPASS_RULE_PRIORITY)];
      await this.change([family, 'rule', 'add', ...rule], [family, 'rule', 'del', ...rule],
        `keep ${selector.join(' ')} to ${peer.address} outside the tunnel`);
    }
    await this.change([family, 'route', 'add', host, 'dev', device, 'table', table],
      [family, 'route', 'del', host, 'dev', device, 'table', table], `route ${peer.address} into the tunnel (table ${table})`);
    const rule = ['to', host, 'lookup', table, 'priority', String(TUNNEL_RULE_PRIORITY)];
    await this.change([family, 'rule', 'add', ...rule], [family, 'rule', 'del', ...rule],
      `send other traffic to ${peer.address} through table ${table}`);
  }

  /**
   * Adds a host route for the gateway through the path it uses now, so that routes into the
   * tunnel never capture the tunnel's own packets.
   */
  private async pinGatewayRoute(gateway: string): Promise<void> {
    const family = gateway.includes(':') ? '-6' : '-4';
    const hostPrefix = `${gateway}/${gateway.includes(':') ? 128 : 32}`;
    const output = await this.runner.run(IP, ['-j', family, 'route', 'get', gateway]);
    const route = parseRouteGet(output);
    if (!route || route.type === 'local') {
      return;
    }

    const args = [family, 'route', 'add', hostPrefix];
    if (route.gateway) {
      args.push('via', route.gateway);
    }
    args.push('dev', route.dev);
    try {
      await this.change(args, [family, 'route', 'del', hostPrefix], `pin the route to gateway ${gateway}`);
    } catch (error) {
      if (!(error instanceof CommandError) || !/File exists/i.test(error.stderr)) {
        throw error;
      }
    }
  }

  /**
   * Sends DNS to the tunnel's servers. With systemd-resolved, the servers belong to the TUN
   * device and resolve only the domains (routing domains, "~domain"), or every name when there
   * are none. Without it, resolv.conf is saved and rewritten, and restored on disconnect.
   */
  private async configureDns(device: string, dns: DnsSettings): Promise<void> {
    if (this.dnsBackend.type === 'resolvectl') {
      const domains = dns.domains.length > 0 ? dns.domains.map((domain) => `~${domain}`) : ['~.'];
      await this.change(['dns', device, ...dns.servers], ['revert', device],
        `use DNS servers ${dns.servers.join(', ')} on ${device}`, 'resolvectl');
      await this.change(['domain', device, ...domains], ['revert', device],
        `resolve ${domains.join(' ')} through ${device}`, 'resolvectl');
      return;
    }

    const path = this.dnsBackend.path;
    const backup = join(this.journalDirectory, `${this.device}.resolv.conf`);
    await copyFile(path, backup);
    const step: JournalStep = { undo: [], restore: { path, backup }, description: `restore ${path}` };
    this.steps.push(step);
    await this.writeJournal();
    const lines = ['# Written by Lupina while its tunnel is up; the original returns on disconnect.'];
    lines.push(...dns.servers.map((server) => `nameserver ${server}`));
    if (dns.domains.length > 0) {
      lines.push(`search ${dns.domains.join(' ')}`);
    }
    // Written in place, not renamed over, because resolv.conf is often a symlink to keep.
    await writeFile(path, `${lines.join('\n')}\n`);
    this.log.info(`use DNS servers ${dns.servers.join(', ')} in ${path}`);
  }

  /** Records the undo step, then runs the command; the record goes first so a crash cannot lose it. */
  private async change(args: string[], undo: string[], description: string, command = IP): Promise<void> {
    const step: JournalStep = command === IP ? { undo, description } : { undo, command, description };
    this.steps.push(step);
    await this.writeJournal();
    try {
      await this.runner.run(command, args);
    } catch (error) {
      this.steps.pop();
      await this.writeJournal();
      throw error;
    }
    this.log.info(description);
  }

  private async writeJournal(): Promise<void> {
    const journal: Journal = { pid: process.pid, device: this.device, steps: this.steps };
    const temporary = `${this.journalPath}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(journal), { mode: 0o600 });
    await rename(temporary, this.journalPath);
  }
}

async function runUndo(runner: CommandRunner, step: JournalStep, log: NetworkLog): Promise<void> {
  try {
    if (step.restore) {
      await copyFile(step.restore.backup, step.restore.path);
      await rm(step.restore.backup, { force: true });
    } else {
      await runner.run(step.command ?? IP, step.undo);
    }
    log.info(`undo: ${step.description}`);
  } catch (error) {
    // A step whose device is gone already is undone by the kernel; anything else is reported.
    const message = error instanceof Error ? error.message : String(error);
    if (!/Cannot find device|No such process|No such device|Cannot assign/i.test(message)) {
      log.warn(`could not undo "${step.description}": ${message}`);
    }
  }
}

interface RouteGetResult {
  dev: string;
  gateway?: string;
  type?: string;
}

function parseRouteGet(output: string): RouteGetResult | null {
  try {
    const parsed = JSON.parse(output) as unknown;
    const first = Array.isArray(parsed) ? parsed[0] : null;
    if (first && typeof first === 'object' && typeof (first as RouteGetResult).dev === 'string') {
      return first as RouteGetResult;
    }
  } catch {
    return null;
  }
  return null;
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Undoes the changes recorded by processes that ended without cleaning up, such as after a
 * crash or SIGKILL. Returns the number of journals recovered.
 */
export async function recoverStaleJournals(runner: CommandRunner, journalDirectory: string, log: NetworkLog): Promise<number> {
  let names: string[];
  try {
    names = await readdir(journalDirectory);
  } catch {
    return 0;
  }

  let recovered = 0;
  for (const name of names.filter((entry) => entry.endsWith('.json') && !entry.endsWith('.tmp'))) {
    const path = join(journalDirectory, name);
    let journal: Journal;
    try {
      journal = JSON.parse(await readFile(path, 'utf8')) as Journal;
    } catch {
      log.warn(`removing unreadable network journal ${path}`);
      await rm(path, { force: true });
      continue;
    }
    if (journal.pid !== process.pid && processRuns(journal.pid)) {
      continue;
    }
    log.info(`undoing the network changes of process ${journal.pid} on ${journal.device}, which ended without cleaning up`);
    for (const step of [...journal.steps].reverse()) {
      await runUndo(runner, step, log);
    }
    await rm(path, { force: true });
    recovered += 1;
  }
  return recovered;
}
