/**
 * The client's log: levels with fixed meanings, kept in a ring for the window's log view and
 * passed to listeners such as the CLI's stderr writer. Secrets and keys never go into a message.
 *
 * - error: a connection failed or a change could not be undone; the user must act.
 * - warn: something was skipped or degraded, such as a route that already existed.
 * - info: life-cycle steps: connecting, connected, rekeyed, disconnected.
 * - debug: per-exchange and per-drop detail.
 */

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LogEntry {
  time: string;
  level: LogLevel;
  /** Where the entry comes from, such as "network" or a connection's name. */
  source: string;
  message: string;
}

const LEVEL_ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
/** Entries kept for the log view. */
export const LOG_RING_SIZE = 2000;

export class Log {
  private readonly entries: LogEntry[] = [];
  private readonly listeners = new Set<(entry: LogEntry) => void>();

  constructor(private readonly level: LogLevel = 'info') {}

  subscribe(listener: (entry: LogEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  recent(): LogEntry[] {
    return [...this.entries];
  }

  write(level: LogLevel, source: string, message: string): void {
    if (LEVEL_ORDER[level] > LEVEL_ORDER[this.level]) {
      return;
    }
    const entry = { time: new Date().toISOString(), level, source, message };
    this.entries.push(entry);
    if (this.entries.length > LOG_RING_SIZE) {
      this.entries.shift();
    }
    for (const listener of this.listeners) {
      listener(entry);
    }
  }

  /** Returns a logger that tags each entry with `source`. */
  scope(source: string): ScopedLog {
    return {
      error: (message) => this.write('error', source, message),
      warn: (message) => this.write('warn', source, message),
      info: (message) => this.write('info', source, message),
      debug: (message) => this.write('debug', source, message),
    };
  }
}

export interface ScopedLog {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}
