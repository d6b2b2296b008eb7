/**
 * The one contract between the window and the main process: every invoke call with its
 * argument and result, every push, and the limits that the main process enforces on arguments.
 * Both sides import these types; the renderer imports nothing else from `main/`. The values
 * crossing the boundary are plain JSON-like data, never engine objects.
 */

import type { ConnectionState, ConnectionStatus } from '../controller/connection-state.js';
import type { LogEntry, LogLevel } from '../controller/log.js';

export type { ConnectionState, ConnectionStatus, LogEntry, LogLevel };

/** Limits on call arguments; a call over any of them is rejected before a handler runs. */
export const IPC_LIMITS = {
  /** A profile file, the same cap as the importer's own (1 MiB). */
  profileFileBytes: 1024 * 1024,
  /** The base64 text of a 1 MiB file. */
  profileFileBase64Chars: Math.ceil((1024 * 1024) / 3) * 4,
  fileNameChars: 255,
  /** A profile id or name. */
  profileKeyChars: 200,
  passwordChars: 1024,
  /** Connection names inside a swanctl.conf. */
  connectionNameChars: 200,
  /** Entries that one `logs` call returns. */
  logEntries: 2000,
} as const;

export type ThemePreference = 'system' | 'light' | 'dark';

export interface ProfileSummary {
  id: string;
  name: string;
  kind: 'ikev2' | 'manual';
  /** The gateway or the first static SA's peer address. */
  peer: string;
  /** "tunnel", "transport" or both, from the static SAs; "tunnel" for IKEv2. */
  mode: string;
}

export interface ImportIssueView {
  /** A key path such as `remote.addrs`, or `line N`, or `(file)`. */
  path: string;
  value?: string;
  message: string;
}

export interface ImportProfileRequest {
  fileName: string;
  /** The file's bytes; the Electron preload passes a Uint8Array, the test bridge base64 text. */
  bytes: Uint8Array | string;
  replace?: boolean;
  /** The password of a PKCS#12 file or an encrypted private key. */
  password?: string;
  /** The connection to import from a swanctl.conf that defines several. */
  connectionName?: string;
}

export type ImportProfileResult =
  | { imported: true; profile: ProfileSummary; format: string; warnings: ImportIssueView[] }
  | {
    imported: false;
    format?: string;
    errors: ImportIssueView[];
    /** Set when the file needs a password that was missing or wrong; ask and import again. */
    passwordRequest?: { label: string; kind: string };
    /** Set when a profile with this name or id exists; import again with `replace`. */
    exists?: boolean;
  };

/** Drop counters of one SA, under the engine's reason names. */
export interface DropCountsView {
  replayDuplicate: number;
  replayTooOld: number;
  icv: number;
  padding: number;
  policy: number;
  malformed: number;
  dummy: number;
  expired: number;
  sequenceExhausted: number;
  tooBig: number;
}

export interface SaView {
  /** 8 hex digits. */
  spi: string;
  direction: 'in' | 'out';
  protocol: 'esp' | 'ah';
  mode: 'tunnel' | 'transport';
  transform: string;
  state: string;
  packets: number;
  bytes: number;
  /** Outbound: the last sequence number sent. Inbound: the highest one accepted. */
  seq: number;
  drops: DropCountsView;
  /** The anti-replay window of an inbound SA; the bitmap is hex, bit i of byte i/8 is `top - i`. */
  replay: { window: number; top: number; bitmap: string } | null;
  /** Seconds until the soft lifetime starts a rekey, or the hard one ends the SA; null without a time limit. */
  secondsToRekey: number | null;
  trafficSelectors: { local: string[]; remote: string[] };
}

/** One row of the SA table: an inbound and an outbound SA of the same transform. */
export interface SaPairView {
  spiIn: string | null;
  spiOut: string | null;
  mode: string;
  transform: string;
  peer: string;
  localSelectors: string[];
  remoteSelectors: string[];
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  replayDuplicate: number;
  replayTooOld: number;
  icvFailures: number;
  /** Every other drop reason of both SAs, added up. */
  otherDrops: number;
  /** The outbound SA's last sequence number. */
  seqOut: number;
  secondsToRekey: number | null;
}

/** Counters of a connection over all its SAs, retired ones included, so rekeys keep them. */
export interface ConnectionTotalsView {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  drops: number;
  retiredSas: number;
}

export interface ConnectionView {
  profileId: string;
  profileName: string;
  peer: string;
  device: string;
  mtu: number;
  sas: SaView[];
  pairs: SaPairView[];
  totals: ConnectionTotalsView;
}

export interface StatusView {
  state: ConnectionState;
  /** Null while no tunnel runs. */
  connection: ConnectionView | null;
  /** ISO time of the sample, for rates. */
  time: string;
}

export interface ExportTableResult {
  fileName: string;
  json: string;
  /** Where the main process saved the file, or null when the window must save it itself. */
  savedTo: string | null;
}

export interface AppInfo {
  version: string;
  platform: string;
  /** False on systems without a TUN backend (every platform but Linux). */
  tunSupported: boolean;
  secretStorage: {
    /** Electron's safeStorage backend, such as "gnome_libsecret" or "basic_text"; "test" in tests. */
    backend: string;
    /** False when secrets would be stored without OS-level protection. */
    protected: boolean;
    /** True once the user agreed to store secrets without protection. */
    plainTextAllowed: boolean;
  };
  theme: ThemePreference;
  /** A sentence for the user when the desktop shows no tray icon; null when it does. */
  trayHint: string | null;
}

/** Invoke calls: the argument and the value of a successful result. */
export interface InvokeContract {
  listProfiles: { request: undefined; value: ProfileSummary[] };
  importProfile: { request: ImportProfileRequest; value: ImportProfileResult };
  deleteProfile: { request: { profileId: string }; value: { deleted: string } };
  connect: { request: { profileId: string }; value: ConnectionState };
  disconnect: { request: undefined; value: ConnectionState };
  status: { request: undefined; value: StatusView };
  exportTable: { request: undefined; value: ExportTableResult };
  logs: { request: { limit?: number; minLevel?: LogLevel } | undefined; value: LogEntry[] };
  appInfo: { request: undefined; value: AppInfo };
  setTheme: { request: { theme: ThemePreference }; value: ThemePreference };
  allowPlainTextSecrets: { request: { allow: boolean }; value: AppInfo['secretStorage'] };
}

export type InvokeChannel = keyof InvokeContract;

export const INVOKE_CHANNELS = [
  'listProfiles', 'importProfile', 'deleteProfile', 'connect', 'disconnect', 'status',
  'exportTable', 'logs', 'appInfo', 'setTheme', 'allowPlainTextSecrets',
] as const satisfies readonly InvokeChannel[];

/** Pushes from the main process: the state on every change, the status every second, log entries. */
export interface PushContract {
  state: ConnectionState;
  status: StatusView;
  log: LogEntry;
}

export type PushChannel = keyof PushContract;

export const PUSH_CHANNELS = ['state', 'status', 'log'] as const satisfies readonly PushChannel[];

/** The prefix of every Electron IPC channel name, such as `lupina:connect`. */
export const CHANNEL_PREFIX = 'lupina:';

export type IpcErrorCode =
  | 'unknown-call'
  | 'forbidden-sender'
  | 'invalid-argument'
  | 'too-large'
  | 'not-found'
  | 'busy'
  | 'exists'
  | 'unsupported'
  | 'secret-storage'
  | 'failed';

export interface IpcError {
  code: IpcErrorCode;
  message: string;
}

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: IpcError };

/**
 * The object that the preload puts at `window.lupina`. Calls resolve with an envelope and never
 * reject for a handler's error; `on` returns a function that removes the listener.
 */
export type LupinaApi = {
  [C in InvokeChannel]: InvokeContract[C]['request'] extends undefined
    ? () => Promise<IpcResult<InvokeContract[C]['value']>>
    : undefined extends InvokeContract[C]['request']
      ? (request?: InvokeContract[C]['request']) => Promise<IpcResult<InvokeContract[C]['value']>>
      : (request: InvokeContract[C]['request']) => Promise<IpcResult<InvokeContract[C]['value']>>;
} & {
  on<P extends PushChannel>(channel: P, listener: (payload: PushContract[P]) => void): () => void;
};

/** The tray icons, one for each group of connection states. */
export type TrayIconName = 'disconnected' | 'connecting' | 'connected' | 'error';
