/** Formats the controller status as the table that `lupina status` prints. */

import type { ControllerStatus } from '../controller/controller.js';
import type { TunnelSnapshot } from '../controller/tunnel.js';
import { escapeControlCharacters } from './terminal-text.js';

const TRANSFORM_HEADING = 'transform';

export function formatStatus(status: ControllerStatus): string {
  const lines = [stateLine(status)];
  const tunnel = status.tunnel;
  if (!tunnel) {
    return lines.join('\n');
  }
  lines.push(countersLine(tunnel));
  const totals = tunnel.totals;
  lines.push(`totals: in ${totals.packetsIn} packets (${totals.bytesIn} bytes), out ${totals.packetsOut} packets (${totals.bytesOut} bytes), ${totals.drops} drops, ${totals.retiredSas} SAs retired`);
  lines.push('');
  lines.push(...saTable(tunnel));
  return lines.join('\n');
}

function stateLine({ state }: ControllerStatus): string {
  const name = state.profileName === undefined ? 'no profile' : escapeControlCharacters(state.profileName);
  const reason = state.reason ? ` (${escapeControlCharacters(state.reason)})` : '';
  return `${name}: ${state.status}${reason} since ${state.since}`;
}

/** Formats the tunnel counters, with the device and MTU only once the TUN device exists (after IKE_AUTH). */
function countersLine(tunnel: TunnelSnapshot): string {
  const device = tunnel.device === '' ? '' : `device ${escapeControlCharacters(tunnel.device)}, MTU ${tunnel.mtu}, `;
  return `${device}unknown SPI ${tunnel.sad.unknownSpi}, no policy ${tunnel.sad.noPolicy}, too big ${tunnel.dataPlane.tooBig}`;
}

function saTable(tunnel: TunnelSnapshot): string[] {
  const transforms = tunnel.sas.map((sa) => escapeControlCharacters(sa.transform));
  const transformWidth = Math.max(TRANSFORM_HEADING.length, ...transforms.map((transform) => transform.length));
  const rows = [[
    'SPI'.padEnd(8), 'dir', 'mode'.padEnd(9), TRANSFORM_HEADING.padEnd(transformWidth), 'packets'.padStart(10), 'bytes'.padStart(12),
    'seq'.padStart(10), 'dup'.padStart(6), 'old'.padStart(6), 'icv'.padStart(6), 'pad'.padStart(5), 'policy'.padStart(6),
    'malformed'.padStart(9),
  ].join(' ')];
  tunnel.sas.forEach((sa, index) => {
    rows.push([
      sa.spi.padEnd(8), sa.direction.padEnd(3), sa.mode.padEnd(9), transforms[index]!.padEnd(transformWidth),
      String(sa.packets).padStart(10), String(sa.bytes).padStart(12), String(sa.seq).padStart(10),
      String(sa.drops.replayDuplicate).padStart(6), String(sa.drops.replayTooOld).padStart(6),
      String(sa.drops.icv).padStart(6), String(sa.drops.padding).padStart(5), String(sa.drops.policy).padStart(6),
      String(sa.drops.malformed).padStart(9),
    ].join(' '));
  });
  return rows;
}
