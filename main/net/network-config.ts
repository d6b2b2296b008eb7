/**
 * Linux network set-up for a tunnel with iproute2: the TUN device's addresses, MTU and routes,
 * plus a host route that keeps the gateway itself outside the tunnel.
 *
 * Every change is written to a journal file before it is made, with the command that undoes it.
 * `revert` undoes the changes in reverse order. After a crash, `recoverStaleJournals` finds the
 * journals of processes that no longer run and undoes what they left behind. Each process
 * writes its own journal file, named after the device and its pid.
 */

import { constants as fsConstants, renameSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CommandError, type CommandRunner } from './command-runner.js';
import { ownIdentity, processRuns, type ProcessIdentity } from './process-liveness.js';
import { findBypassRoutes, type RouteEntry } from './route-bypass.js';

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

/**
 * Routing protocol number of the gateway's pinned host route. Its undo deletes only a route with
 * this number, so it never removes a host route to the gateway that someone else added, also
 * when the undo runs before the batch has reported whether Lupina's own add succeeded. 76 is
 * "L" in ASCII and is not in iproute2's rt_protos list.
 */
export const PINNED_ROUTE_PROTOCOL = 76;

/** A route that the tunnel needs exists already outside it. */
export class RouteConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouteConflictError';
  }
}

/** One change and how to undo it: an `ip` or `resolvectl` command, or a file to restore. */
interface JournalStep {
  undo: string[];
  /** The command of `undo`; `ip` when absent. */
  command?: string;
  /** Restores `path` from `backup`, in place of a command. */
  restore?: { path: string; backup: string };
  description: string;
}

/** An `ip` command with its undo, for `changeAll`. */
interface Change {
  args: string[];
  undo: string[];
  description: string;
  /** Called instead of failing when the kernel reports that the object exists already. */
  whenExists?: () => void;
  /** The error message when the object exists already and that must fail the set-up. */
  conflict?: string;
}

interface Journal {
  pid: number;
  /**
   * Start time of `pid` in clock ticks after boot (field 22 of /proc/PID/stat), so that a later
   * process with the same pid does not pass for the owner. Journals of older versions lack it.
   */
  startTime?: string;
  device: string;
  steps: JournalStep[];
}

/** First words of the comment that marks a resolv.conf written by Lupina. */
const RESOLV_CONF_MARKER = '# Written by Lupina';

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
    this.journalPath = join(journalDirectory, `${device}.${process.pid}.json`);
  }

  /**
   * Applies the settings; on failure reverts what was applied and rethrows. Undoes the journals
   * of crashed processes first, so that their changes, a resolv.conf backup above all, are not
   * mistaken for the system's own.
   */
  async apply(settings: TunnelNetworkSettings): Promise<void> {
    await mkdir(this.journalDirectory, { recursive: true, mode: 0o700 });
    await recoverStaleJournals(this.runner, this.journalDirectory, this.log);
    try {
      await this.configureDeviceAndRoutes(settings);
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

  /**
   * Brings the device up with its addresses, pins the gateway's route and routes the prefixes
   * into the tunnel. Without transport-mode peers that is one `ip -batch` run, because every
   * `ip` process costs a few milliseconds of the time to connect.
   */
  private async configureDeviceAndRoutes(settings: TunnelNetworkSettings): Promise<void> {
    const device = deviceChanges(settings);
    const pin = settings.routes.length > 0 ? await this.gatewayPinChange(settings.gateway) : null;
    const routes = [...(pin ? [pin] : []), ...settings.routes.map((prefix) => routeChange(prefix, settings.device))];
    const peers = settings.transportPeers ?? [];
    if (peers.length === 0) {
      await this.changeAll([...device, ...routes]);
    } else {
      await this.changeAll(device);
      for (const peer of peers) {
        await this.routePeerByPolicy(settings.device, peer);
      }
      await this.changeAll(routes);
    }
    await this.checkBypassRoutes(settings);
  }

  /**
   * Fails when a route of the main table sends part of a tunnel prefix past the tunnel, because
   * that traffic would leave unencrypted. Inside a full tunnel (prefixes of length 1, which is
   * how 0.0.0.0/0 and ::/0 are routed) such routes are the local networks, so they are only
   * reported.
   */
  private async checkBypassRoutes(settings: TunnelNetworkSettings): Promise<void> {
    for (const family of ['-4', '-6'] as const) {
      const prefixes = settings.routes.filter((prefix) => prefix.includes(':') === (family === '-6'));
      if (prefixes.length === 0) {
        continue;
      }
      const output = await this.runner.run(IP, ['-j', family, 'route', 'show', 'table', 'main']);
      const routes = output.trim() === '' ? [] : JSON.parse(output) as RouteEntry[];
      for (const bypass of findBypassRoutes(routes, prefixes, settings.device, PINNED_ROUTE_PROTOCOL)) {
        const fullTunnel = Number(bypass.tunnelPrefix.split('/')[1]) <= 1;
        const message = `the route to ${bypass.route} via ${bypass.dev} takes traffic for part of ${bypass.tunnelPrefix} ` +
          'past the tunnel';
        if (fullTunnel) {
          this.log.warn(`${message}, so that network is reached without encryption`);
        } else {
          throw new RouteConflictError(`${message}, so it would leave unencrypted; remove that route ` +
            `(ip route del ${bypass.route} dev ${bypass.dev}) and connect again`);
        }
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
   * Returns the host route for the gateway through the path it uses now, so that routes into
   * the tunnel never capture the tunnel's own packets, or null for a local gateway. The route
   * is journaled before it is added, so `revert` and crash recovery delete it. A host route that
   * exists already belongs to someone else (the administrator, or another VPN), so it stays out
   * of the journal and stays in place.
   */
  private async gatewayPinChange(gateway: string): Promise<Change | null> {
    const family = gateway.includes(':') ? '-6' : '-4';
    const hostPrefix = `${gateway}/${gateway.includes(':') ? 128 : 32}`;
    const output = await this.runner.run(IP, ['-j', family, 'route', 'get', gateway]);
    const route = parseRouteGet(output);
    if (!route || route.type === 'local') {
      return null;
    }

    const args = [family, 'route', 'add', hostPrefix];
    if (route.gateway) {
      args.push('via', route.gateway);
    }
    args.push('dev', route.dev, 'proto', String(PINNED_ROUTE_PROTOCOL));
    return {
      args,
      undo: [family, 'route', 'del', hostPrefix, 'proto', String(PINNED_ROUTE_PROTOCOL)],
      description: `pin the route to gateway ${gateway}`,
      whenExists: () => this.log.info(
        `keep the existing route to gateway ${gateway}, which Lupina did not add and will not delete`),
    };
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

    await this.rewriteResolvConf(this.dnsBackend.path, dns);
  }

  /**
   * Saves resolv.conf to a backup of this process and rewrites it. The restore step is journaled
   * before the backup exists, and the backup is created exclusively, so no backup is ever
   * overwritten. Leaves the file alone while another running Lupina process has rewritten it,
   * because a backup taken then would hold that tunnel's servers instead of the original.
   */
  private async rewriteResolvConf(path: string, dns: DnsSettings): Promise<void> {
    const writer = parseResolvConfMarker(await readResolvConf(path));
    if (writer !== null && writer !== 'unknown' && await processRuns(writer)) {
      this.log.warn(`${path} contains the DNS servers of the Lupina process ${writer.pid}, which still runs, ` +
        `so it stays unchanged and DNS does not use ${dns.servers.join(', ')}. Disconnect that tunnel first`);
      return;
    }
    if (writer !== null) {
      const writerDescription = writer === 'unknown' ? 'an earlier Lupina process' : `the Lupina process ${writer.pid}, which no longer runs`;
      this.log.warn(`${path} still contains the DNS servers of ${writerDescription}, and no backup of its original content ` +
        `was found in ${this.journalDirectory}, so disconnecting puts those servers back`);
    }

    const backup = join(this.journalDirectory, `${this.device}.${process.pid}.resolv.conf`);
    const step: JournalStep = { undo: [], restore: { path, backup }, description: `restore ${path}` };
    this.steps.push(step);
    await this.writeJournal();
    try {
      await copyFile(path, backup, fsConstants.COPYFILE_EXCL);
    } catch (error) {
      this.steps.pop();
      await this.writeJournal();
      throw new Error(`cannot back up ${path} to ${backup}: ${errorMessage(error)}`);
    }

    const identity = await ownIdentity();
    const lines = [`${RESOLV_CONF_MARKER} process ${identity.pid} (start time ${identity.startTime ?? 'unknown'}) ` +
      'while its tunnel is up; the original returns on disconnect.'];
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

  /**
   * Applies `changes` in order, as one `ip -force -batch` run when the runner offers it and
   * one command each otherwise. All undo steps are journaled before the batch runs. A change
   * that fails with "File exists" and has `whenExists` leaves the journal and counts as done.
   * Any other failure is thrown once every line has run, and `apply` then reverts the rest.
   */
  private async changeAll(changes: Change[]): Promise<void> {
    if (changes.length === 0) {
      return;
    }
    if (!this.runner.runIpBatch || changes.length === 1) {
      for (const change of changes) {
        await this.changeTolerant(change);
      }
      return;
    }

    const steps = changes.map((change): JournalStep => ({ undo: change.undo, description: change.description }));
    this.steps.push(...steps);
    await this.writeJournal();
    const failures = await this.runner.runIpBatch(changes.map((change) => withoutFamilyOption(change.args)));

    let fatal: Error | null = null;
    for (const [index, change] of changes.entries()) {
      const failure = failures.find((candidate) => candidate.index === index);
      if (!failure) {
        this.log.info(change.description);
        continue;
      }
      this.steps.splice(this.steps.indexOf(steps[index]!), 1);
      fatal ??= changeFailure(change, failure.stderr, new CommandError(IP, change.args, 2, failure.stderr));
    }
    await this.writeJournal();
    if (fatal) {
      throw fatal;
    }
  }

  /**
   * Runs one change. "File exists" counts as done when the change has `whenExists`, and fails
   * with RouteConflictError when it has `conflict`.
   */
  private async changeTolerant(change: Change): Promise<void> {
    try {
      await this.change(change.args, change.undo, change.description);
    } catch (error) {
      const failure = error instanceof CommandError ? changeFailure(change, error.stderr, error) : error;
      if (failure) {
        throw failure;
      }
    }
  }

  /**
   * Replaces the journal file through a rename, so a crash leaves the old or the new journal.
   * The writes are synchronous: the file is small and local, and each asynchronous step would
   * add a thread-pool round trip to the time to connect.
   */
  private async writeJournal(): Promise<void> {
    const identity = await ownIdentity();
    const journal: Journal = { ...identity, device: this.device, steps: this.steps };
    const temporary = `${this.journalPath}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(journal), { mode: 0o600 });
    renameSync(temporary, this.journalPath);
  }
}

/**
 * Returns the error that a failed change raises, or null when "File exists" counts as done for
 * it (after calling `whenExists`). A change with `conflict` fails with RouteConflictError.
 */
function changeFailure(change: Change, stderr: string, error: Error): Error | null {
  if (/File exists/i.test(stderr)) {
    if (change.whenExists) {
      change.whenExists();
      return null;
    }
    if (change.conflict) {
      return new RouteConflictError(change.conflict);
    }
  }
  return error;
}

function deviceChanges(settings: TunnelNetworkSettings): Change[] {
  const device = settings.device;
  return [
    {
      args: ['link', 'set', 'dev', device, 'mtu', String(settings.mtu), 'up'],
      undo: ['link', 'set', 'dev', device, 'down'],
      description: `bring ${device} up with MTU ${settings.mtu}`,
    },
    ...settings.addresses.map((address) => ({
      args: ['address', 'add', address, 'dev', device],
      undo: ['address', 'del', address, 'dev', device],
      description: `add address ${address}`,
    })),
  ];
}

/**
 * Returns the route of a tunnel prefix. A route to the same prefix outside the tunnel fails the
 * set-up instead of being kept, because that traffic would leave unencrypted (fail closed).
 */
function routeChange(prefix: string, device: string): Change {
  const family = prefix.includes(':') ? '-6' : '-4';
  return {
    args: [family, 'route', 'add', prefix, 'dev', device],
    undo: [family, 'route', 'del', prefix, 'dev', device],
    description: `route ${prefix} into the tunnel`,
    conflict: `a route to ${prefix} already exists outside the tunnel, so traffic for it would leave ` +
      `unencrypted; remove that route (see "ip route show ${prefix}") and connect again`,
  };
}

/**
 * Drops a leading -4 or -6, which `ip -batch` does not accept on a line. Route commands read
 * the family from their prefix instead.
 */
function withoutFamilyOption(args: string[]): string[] {
  return args[0] === '-4' || args[0] === '-6' ? args.slice(1) : args;
}

async function runUndo(runner: CommandRunner, step: JournalStep, log: NetworkLog): Promise<void> {
  try {
    if (step.restore) {
      await restoreFromBackup(step.restore, log);
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

/**
 * Copies the backup over the file, in place, then deletes the backup. A missing backup means an
 * earlier run of this step restored the file already, so a repeated step leaves the file alone.
 */
async function restoreFromBackup(restore: { path: string; backup: string }, log: NetworkLog): Promise<void> {
  let original: Buffer;
  try {
    original = await readFile(restore.backup);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw error;
    }
    log.info(`${restore.path} was restored already, because its backup ${restore.backup} is gone`);
    return;
  }
  await writeFile(restore.path, original);
  await rm(restore.backup, { force: true });
}

/** Reads resolv.conf before it is backed up; a missing file gets an error that names the fix. */
async function readResolvConf(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path} to back it up before setting the tunnel's DNS servers: ${errorMessage(error)}. ` +
      'Create the file, or point LUPINA_RESOLV_CONF at another one');
  }
}

/**
 * Returns the process named in the first line of a resolv.conf that Lupina wrote, 'unknown' for
 * the marker of older versions, which named no process, and null for a file Lupina did not write.
 */
function parseResolvConfMarker(text: string): ProcessIdentity | 'unknown' | null {
  const firstLine = text.split('\n', 1)[0] ?? '';
  if (!firstLine.startsWith(RESOLV_CONF_MARKER)) {
    return null;
  }
  const match = /^# Written by Lupina process (\d{1,10}) \(start time (\d{1,20}|unknown)\)/.exec(firstLine);
  if (!match) {
    return 'unknown';
  }
  const pid = Number(match[1]);
  return match[2] === 'unknown' ? { pid } : { pid, startTime: match[2]! };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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

/** Parses a journal file and checks the fields that recovery relies on. */
function parseJournal(text: string): Journal {
  const journal = JSON.parse(text) as Partial<Journal> | null;
  if (typeof journal !== 'object' || journal === null || !Number.isInteger(journal.pid) || !Array.isArray(journal.steps)) {
    throw new Error('expected an object with an integer "pid" and a "steps" array');
  }
  if (journal.startTime !== undefined && typeof journal.startTime !== 'string') {
    throw new Error('expected "startTime" to be a string');
  }
  for (const step of journal.steps as unknown[]) {
    const candidate = step as Partial<JournalStep> | null;
    if (typeof candidate !== 'object' || candidate === null || !Array.isArray(candidate.undo) || typeof candidate.description !== 'string') {
      throw new Error('expected every step to have an "undo" array and a "description"');
    }
  }
  return journal as Journal;
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
      journal = parseJournal(await readFile(path, 'utf8'));
    } catch (error) {
      log.warn(`removing unreadable network journal ${path}: ${errorMessage(error)}`);
      await rm(path, { force: true });
      continue;
    }
    if (await processRuns(journal)) {
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
