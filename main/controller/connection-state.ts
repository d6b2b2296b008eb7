/**
 * The life cycle of a connection as the CLI and the window show it. Every state but
 * `connected` may carry a reason that a user understands.
 */

export const CONNECTION_STATUSES = [
  'disconnected', 'connecting', 'authenticating', 'connected', 'rekeying', 'reconnecting', 'disconnecting',
] as const;

export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

export interface ConnectionState {
  status: ConnectionStatus;
  profileId?: string;
  profileName?: string;
  /** Why the connection is in this state, such as why it failed. */
  reason?: string;
  /** ISO time of the change. */
  since: string;
}

export function connectionState(status: ConnectionStatus, details: Omit<ConnectionState, 'status' | 'since'> = {}): ConnectionState {
  return { status, ...details, since: new Date().toISOString() };
}
