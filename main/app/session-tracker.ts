/**
 * Follows the connection's states on behalf of the tray and the desktop notifications: it tells
 * a disconnect that the user asked for from a failure, remembers the last failure for the error
 * icon, and turns state changes into notifications with repeats suppressed.
 */

import type { ConnectionState } from '../controller/connection-state.js';
import type { TrayState } from './tray-model.js';

export interface DesktopNotification {
  title: string;
  body: string;
  /** True for failures, which the Electron side marks as urgent. */
  error: boolean;
}

/** The same notification is shown at most once in this many milliseconds. */
export const NOTIFICATION_REPEAT_MS = 60_000;

export class SessionTracker {
  private connection: ConnectionState;
  private error: string | null = null;
  private userDisconnect = false;
  private readonly lastShown = new Map<string, number>();
  /** Notifications left out because the same one was shown recently. */
  suppressed = 0;

  constructor(initial: ConnectionState, private readonly clock: () => number = Date.now) {
    this.connection = initial;
  }

  get trayState(): TrayState {
    return { connection: this.connection, error: this.error };
  }

  /** Records that the user asked to connect: an old failure no longer shows. */
  connectRequested(): void {
    this.error = null;
    this.userDisconnect = false;
  }

  /** Records that the user asked to disconnect, so the next disconnected state is no failure. */
  disconnectRequested(): void {
    this.userDisconnect = true;
  }

  /**
   * Records a failed connect call. A failure that already showed as a state change (a
   * connection that started and failed) is not notified twice.
   */
  connectFailed(reason: string): DesktopNotification | null {
    if (this.error !== null) {
      return null;
    }
    this.error = reason;
    return this.throttle({ title: 'Lupina: connection failed', body: reason, error: true });
  }

  /** Takes the next state and returns the notification to show, if any. */
  observe(next: ConnectionState): DesktopNotification | null {
    const previous = this.connection;
    this.connection = next;
    if (next.status === previous.status) {
      return null;
    }
    const name = next.profileName ?? previous.profileName ?? 'the VPN';

    if (next.status === 'connected') {
      this.error = null;
      return this.throttle({ title: 'Lupina: connected', body: `Connected to ${name}.`, error: false });
    }
    if (next.status !== 'disconnected') {
      return null;
    }
    if (this.userDisconnect) {
      this.userDisconnect = false;
      return this.throttle({ title: 'Lupina: disconnected', body: `Disconnected from ${name}.`, error: false });
    }
    const reason = next.reason ?? 'the connection ended without a reason';
    this.error = reason;
    const title = previous.status === 'connected' || previous.status === 'rekeying'
      ? 'Lupina: connection lost'
      : 'Lupina: connection failed';
    return this.throttle({ title, body: `${name}: ${reason}`, error: true });
  }

  private throttle(notification: DesktopNotification): DesktopNotification | null {
    const key = `${notification.title}\n${notification.body}`;
    const now = this.clock();
    const last = this.lastShown.get(key);
    if (last !== undefined && now - last < NOTIFICATION_REPEAT_MS) {
      this.suppressed += 1;
      return null;
    }
    this.lastShown.set(key, now);
    return notification;
  }
}
