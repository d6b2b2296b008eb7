/**
 * The tray as data: which icon a connection state shows, and the menu items. The Electron side
 * turns the model into a Menu; tests check the model directly.
 */

import type { ConnectionState } from '../controller/connection-state.js';
import type { ProfileSummary, TrayIconName } from './ipc-schema.js';

export type TrayAction =
  | { type: 'connect'; profileId: string }
  | { type: 'disconnect' }
  | { type: 'show-window' }
  | { type: 'quit' };

export type TrayMenuItem =
  | { type: 'separator' }
  | { type: 'label'; label: string }
  | { type: 'action'; label: string; enabled: boolean; action: TrayAction }
  | { type: 'profile'; label: string; checked: boolean; enabled: boolean; action: TrayAction };

/** The state that the tray shows: the controller's state and the last failure, if any. */
export interface TrayState {
  connection: ConnectionState;
  /** The reason of a failure since the last successful connect or user disconnect; null if none. */
  error: string | null;
}

const BUSY_STATUSES = new Set(['connecting', 'authenticating', 'rekeying', 'reconnecting', 'disconnecting']);

/** Maps a state to its tray icon; a failure shows the error icon until the next connect. */
export function trayIconFor(state: TrayState): TrayIconName {
  const status = state.connection.status;
  if (status === 'connected') {
    return 'connected';
  }
  if (BUSY_STATUSES.has(status)) {
    return 'connecting';
  }
  return state.error === null ? 'disconnected' : 'error';
}

/** The tray's tooltip: the state in words, with the profile and the reason. */
export function trayTooltip(state: TrayState): string {
  const connection = state.connection;
  const name = connection.profileName ? ` ${connection.profileName}` : '';
  if (state.error !== null && trayIconFor(state) === 'error') {
    return `Lupina: failed to connect${name}: ${state.error}`;
  }
  const words: Record<ConnectionState['status'], string> = {
    disconnected: 'disconnected',
    connecting: `connecting${name}`,
    authenticating: `authenticating${name}`,
    connected: `connected${name}`,
    rekeying: `rekeying${name}`,
    reconnecting: `reconnecting${name}`,
    disconnecting: `disconnecting${name}`,
  };
  return `Lupina: ${words[connection.status]}`;
}

/**
 * Builds the tray menu: the state, the profiles with the active one checked (choosing another
 * connects it), a Connect or Disconnect toggle for the last-used profile, Show window and Quit.
 * `lastUsed` is a profile id; a profile that no longer exists is ignored.
 */
export function trayMenuModel(state: TrayState, profiles: readonly ProfileSummary[], lastUsed: string | null): TrayMenuItem[] {
  const connection = state.connection;
  const active = connection.status === 'disconnected' ? undefined : connection.profileId;
  const idle = connection.status === 'disconnected';
  const items: TrayMenuItem[] = [{ type: 'label', label: trayTooltip(state).replace(/^Lupina: /, 'Status: ') }];
  items.push({ type: 'separator' });

  if (profiles.length === 0) {
    items.push({ type: 'label', label: 'No profiles: import one in the window' });
  }
  for (const profile of profiles) {
    items.push({
      type: 'profile',
      label: profile.name,
      checked: profile.id === active,
      enabled: idle,
      action: { type: 'connect', profileId: profile.id },
    });
  }
  items.push({ type: 'separator' });

  const toggleTarget = profiles.find((profile) => profile.id === (active ?? lastUsed)) ?? profiles[0];
  if (!idle) {
    const name = connection.profileName ?? toggleTarget?.name ?? '';
    items.push({
      type: 'action',
      label: name ? `Disconnect ${name}` : 'Disconnect',
      enabled: connection.status !== 'disconnecting',
      action: { type: 'disconnect' },
    });
  } else if (toggleTarget) {
    items.push({
      type: 'action',
      label: `Connect ${toggleTarget.name}`,
      enabled: true,
      action: { type: 'connect', profileId: toggleTarget.id },
    });
  } else {
    items.push({ type: 'action', label: 'Connect', enabled: false, action: { type: 'show-window' } });
  }
  items.push({ type: 'action', label: 'Show window', enabled: true, action: { type: 'show-window' } });
  items.push({ type: 'action', label: 'Quit', enabled: true, action: { type: 'quit' } });
  return items;
}
