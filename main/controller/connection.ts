/** What the controller needs from a connection, whether keyed by IKEv2 or manually. */

import type { ConnectionState } from './connection-state.js';
import type { TunnelSnapshot } from './tunnel.js';

export type ConnectionListener = (state: ConnectionState) => void;

export interface Connection {
  readonly current: ConnectionState;
  onState(listener: ConnectionListener): () => void;
  /** Brings the connection up; rejects with an error whose message a user understands. */
  start(): Promise<void>;
  /** Tears everything down; safe to call in any state. */
  stop(reason?: string): Promise<void>;
  snapshot(): TunnelSnapshot;
}
