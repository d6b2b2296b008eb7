/**
 * Turns the controller's profiles and tunnel snapshots into the plain views of the IPC
 * contract: profile summaries, SA rows that pair the inbound and outbound SA of a transform,
 * and the connection totals that survive rekeys.
 */

import type { ControllerStatus } from '../controller/controller.js';
import type { SaSnapshot } from '../engine/security-association.js';
import { formatTrafficSelector } from '../engine/traffic-selector.js';
import type { Profile } from '../profile/model.js';
import type { ConnectionView, ProfileSummary, SaPairView, SaView, StatusView } from './ipc-schema.js';

/** Returns the address that a profile connects to: the gateway, or the first static SA's peer. */
export function profilePeer(profile: Profile): string {
  return profile.gateway?.address ?? profile.staticSas[0]?.peerAddress ?? '';
}

export function summarizeProfile(profile: Profile): ProfileSummary {
  const modes = profile.kind === 'manual' ? [...new Set(profile.staticSas.map((sa) => sa.mode))] : ['tunnel'];
  return {
    id: profile.id,
    name: profile.name,
    kind: profile.kind,
    peer: profilePeer(profile),
    mode: modes.join(', '),
  };
}

/**
 * Returns seconds until the SA's next time limit: the soft one, which starts a rekey, or the
 * hard one once the soft one passed. Null when the SA has no time limit.
 */
export function secondsToRekey(snapshot: SaSnapshot): number | null {
  const usage = snapshot.lifetime;
  const limits = [usage.soft.seconds, usage.hard.seconds]
    .filter((limit): limit is number => limit !== undefined && limit > usage.seconds);
  if (limits.length === 0) {
    return null;
  }
  return Math.max(0, Math.round(Math.min(...limits) - usage.seconds));
}

export function viewSa(snapshot: SaSnapshot): SaView {
  return {
    spi: snapshot.spi,
    direction: snapshot.direction,
    protocol: snapshot.protocol,
    mode: snapshot.mode,
    transform: snapshot.transform,
    state: snapshot.state,
    packets: snapshot.packets,
    bytes: snapshot.bytes,
    seq: snapshot.seq,
    drops: { ...snapshot.drops },
    replay: snapshot.replay
      ? { window: snapshot.replay.window, top: snapshot.replay.top, bitmap: snapshot.replay.bitmap }
      : null,
    secondsToRekey: secondsToRekey(snapshot),
    trafficSelectors: {
      local: snapshot.trafficSelectors.local.map((selector) => formatTrafficSelector(selector)),
      remote: snapshot.trafficSelectors.remote.map((selector) => formatTrafficSelector(selector)),
    },
  };
}

const REPLAY_AND_ICV = new Set(['replayDuplicate', 'replayTooOld', 'icv']);

function otherDrops(sa: SaView | undefined): number {
  if (!sa) {
    return 0;
  }
  return Object.entries(sa.drops)
    .filter(([reason]) => !REPLAY_AND_ICV.has(reason))
    .reduce((sum, [, count]) => sum + count, 0);
}

function minimum(values: (number | null)[]): number | null {
  const known = values.filter((value): value is number => value !== null);
  return known.length === 0 ? null : Math.min(...known);
}

/**
 * Pairs each outbound SA with the first unpaired inbound SA of the same protocol, mode and
 * transform, in installation order, which is how both IKE and manual keying create them.
 * An SA without a partner gets a row of its own.
 */
export function pairSas(sas: SaView[], peer: string): SaPairView[] {
  const inbound = sas.filter((sa) => sa.direction === 'in');
  const rows: SaPairView[] = [];
  for (const out of sas.filter((sa) => sa.direction === 'out')) {
    const index = inbound.findIndex((candidate) => candidate.protocol === out.protocol
      && candidate.mode === out.mode && candidate.transform === out.transform);
    const partner = index >= 0 ? inbound.splice(index, 1)[0] : undefined;
    rows.push(pairRow(partner, out, peer));
  }
  for (const orphan of inbound) {
    rows.push(pairRow(orphan, undefined, peer));
  }
  return rows;
}

function pairRow(inbound: SaView | undefined, outbound: SaView | undefined, peer: string): SaPairView {
  const any = (outbound ?? inbound)!;
  return {
    spiIn: inbound?.spi ?? null,
    spiOut: outbound?.spi ?? null,
    mode: any.mode,
    transform: any.transform,
    peer,
    localSelectors: any.trafficSelectors.local,
    remoteSelectors: any.trafficSelectors.remote,
    packetsIn: inbound?.packets ?? 0,
    packetsOut: outbound?.packets ?? 0,
    bytesIn: inbound?.bytes ?? 0,
    bytesOut: outbound?.bytes ?? 0,
    replayDuplicate: inbound?.drops.replayDuplicate ?? 0,
    replayTooOld: inbound?.drops.replayTooOld ?? 0,
    icvFailures: inbound?.drops.icv ?? 0,
    otherDrops: otherDrops(inbound) + otherDrops(outbound),
    seqOut: outbound?.seq ?? 0,
    secondsToRekey: minimum([inbound?.secondsToRekey ?? null, outbound?.secondsToRekey ?? null]),
  };
}

/** Builds the status view; `profile` is the connected profile, when it is still saved. */
export function viewStatus(status: ControllerStatus, profile: Profile | undefined, now = new Date()): StatusView {
  const tunnel = status.tunnel;
  if (!tunnel) {
    return { state: status.state, connection: null, time: now.toISOString() };
  }
  const peer = profile ? profilePeer(profile) : '';
  const sas = tunnel.sas.map((snapshot) => viewSa(snapshot));
  const connection: ConnectionView = {
    profileId: status.state.profileId ?? '',
    profileName: status.state.profileName ?? '',
    peer,
    device: tunnel.device,
    mtu: tunnel.mtu,
    sas,
    pairs: pairSas(sas, peer),
    totals: { ...tunnel.totals },
  };
  return { state: status.state, connection, time: now.toISOString() };
}

/** Returns the SA table as pretty JSON text, for the export button. */
export function exportTableJson(view: StatusView): string {
  const document = {
    exportedAt: view.time,
    state: view.state,
    connection: view.connection && {
      profileName: view.connection.profileName,
      peer: view.connection.peer,
      device: view.connection.device,
      mtu: view.connection.mtu,
      totals: view.connection.totals,
      pairs: view.connection.pairs,
      sas: view.connection.sas,
    },
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
