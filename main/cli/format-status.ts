/** Formats the controller status as the table that `lupina status` prints. */

import type { ControllerStatus } from '../controller/controller.js';

export function formatStatus(status: ControllerStatus): string {
  const { state, tunnel } = status;
  const lines = [`${state.profileName ?? 'no profile'}: ${state.status}${state.reason ? ` (${state.reason})` : ''} since ${state.since}`];
  if (!tunnel) {
    return lines.join('\n');
  }
  lines.push(`device ${tunnel.device}, MTU ${tunnel.mtu}, unknown SPI ${tunnel.sad.unknownSpi}, no policy ${tunnel.sad.noPolicy}, too big ${tunnel.dataPlane.tooBig}`);
  const totals = tunnel.totals;
  lines.push(`totals: in ${totals.packetsIn} packets (${totals.bytesIn} bytes), out ${totals.packetsOut} packets (${totals.bytesOut} bytes), ${totals.drops} drops, ${totals.retiredSas} SAs retired`);
  lines.push('');
  lines.push([
    'SPI'.padEnd(8), 'dir', 'mode'.padEnd(9), 'transform'.padEnd(36), 'packets'.padStart(10), 'bytes'.padStart(12),
    'seq'.padStart(10), 'dup'.padStart(6), 'old'.padStart(6), 'icv'.padStart(6), 'pad'.padStart(5), 'policy'.padStart(6),
    'malformed'.padStart(9),
  ].join(' '));
  for (const sa of tunnel.sas) {
    lines.push([
      sa.spi.padEnd(8), sa.direction.padEnd(3), sa.mode.padEnd(9), sa.transform.padEnd(36),
      String(sa.packets).padStart(10), String(sa.bytes).padStart(12), String(sa.seq).padStart(10),
      String(sa.drops.replayDuplicate).padStart(6), String(sa.drops.replayTooOld).padStart(6),
      String(sa.drops.icv).padStart(6), String(sa.drops.padding).padStart(5), String(sa.drops.policy).padStart(6),
      String(sa.drops.malformed).padStart(9),
    ].join(' '));
  }
  return lines.join('\n');
}
