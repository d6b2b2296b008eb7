/** Formatting of counters, rates and times for the window. */

import type { ConnectionStatus } from '../../main/app/ipc-schema';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Formats bytes per second as bits per second, the unit that links are sold in. */
export function formatRate(bytesPerSecond: number): string {
  const bits = bytesPerSecond * 8;
  if (bits < 1000) {
    return `${Math.round(bits)} bit/s`;
  }
  if (bits < 1e6) {
    return `${(bits / 1e3).toFixed(1)} kbit/s`;
  }
  if (bits < 1e9) {
    return `${(bits / 1e6).toFixed(1)} Mbit/s`;
  }
  return `${(bits / 1e9).toFixed(2)} Gbit/s`;
}

export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** Formats seconds as "1 h 02 min", "4 min 05 s" or "12 s"; null as "no limit". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) {
    return 'no limit';
  }
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) {
    return `${hours} h ${String(minutes).padStart(2, '0')} min`;
  }
  if (minutes > 0) {
    return `${minutes} min ${String(rest).padStart(2, '0')} s`;
  }
  return `${rest} s`;
}

export const STATUS_WORDS: Record<ConnectionStatus, string> = {
  disconnected: 'Disconnected',
  connecting: 'Connecting',
  authenticating: 'Authenticating',
  connected: 'Connected',
  rekeying: 'Rekeying',
  reconnecting: 'Reconnecting',
  disconnecting: 'Disconnecting',
};
