/**
 * The main process's side of the IPC contract as plain functions over the Controller. Nothing
 * here imports Electron, so tests and the browser test bridge call the same code as the app.
 * Every call is validated first (ipc-validate.ts) and answers with an envelope; a handler's
 * exception becomes `{ ok: false, error }` and never reaches the window as a rejection.
 */

import { Controller, ControllerError } from '../controller/controller.js';
import type { Log, LogEntry, LogLevel } from '../controller/log.js';
import type { PasswordRequest } from '../profile/import-result.js';
import type { Profile } from '../profile/model.js';
import type {
  AppInfo, ConnectionState, ExportTableResult, ImportProfileRequest, ImportProfileResult, InvokeChannel,
  InvokeContract, IpcError, IpcErrorCode, IpcResult, ProfileSummary, PushChannel, PushContract, StatusView,
  ThemePreference,
} from './ipc-schema.js';
import { validateCall } from './ipc-validate.js';
import { exportTableJson, summarizeProfile, viewStatus } from './status-view.js';

/** How the app stores secrets, and whether it may store them now. */
export interface SecretStoragePolicy {
  info(): AppInfo['secretStorage'];
  /** Records the user's answer to storing secrets without OS-level protection. */
  allowPlainText(allow: boolean): Promise<void>;
  /** True when secrets may be stored now. */
  acceptsSecrets(): boolean;
}

export interface HandlerDependencies {
  controller: Controller;
  log: Log;
  secretStorage: SecretStoragePolicy;
  /** Facts about the app that the Electron side knows, such as whether a tray shows. */
  appInfo(): Omit<AppInfo, 'secretStorage' | 'theme'>;
  theme: { get(): ThemePreference; set(theme: ThemePreference): Promise<void> };
  /** Runs before a connect, for example to have the privileged helper create the TUN device. */
  prepareConnect?(profile: Profile): Promise<void>;
  /** Saves an exported table through a dialog; returns the path, or null when cancelled. */
  saveExport?(fileName: string, json: string): Promise<string | null>;
  /** Told about every connect and disconnect that the user asks for, for the tray and notifications. */
  onUserAction?(action:
    | { type: 'connect'; profile: Profile }
    | { type: 'connect-failed'; message: string }
    | { type: 'disconnect' }): void;
}

export interface IpcHandlers {
  /** Validates and runs one call; resolves with an envelope in every case. */
  invoke(channel: unknown, args: readonly unknown[]): Promise<IpcResult<unknown>>;
  /** The current status view, as the `status` call and push return it. */
  status(): StatusView;
}

/** Turns an exception into the error half of an envelope. */
export function toIpcError(error: unknown): IpcError {
  if (error instanceof ControllerError) {
    const codes: Record<ControllerError['code'], IpcErrorCode> = {
      'not-found': 'not-found',
      busy: 'busy',
      unsupported: 'unsupported',
      exists: 'exists',
      invalid: 'invalid-argument',
    };
    return { code: codes[error.code], message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'failed', message };
}

const LEVEL_ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function createIpcHandlers(deps: HandlerDependencies): IpcHandlers {
  const profiles = new Map<string, Profile>();

  async function refreshProfiles(): Promise<Profile[]> {
    const list = await deps.controller.listProfiles();
    profiles.clear();
    for (const profile of list) {
      profiles.set(profile.id, profile);
    }
    return list;
  }

  function status(): StatusView {
    const current = deps.controller.status();
    const profileId = current.state.profileId;
    return viewStatus(current, profileId === undefined ? undefined : profiles.get(profileId));
  }

  async function importProfile(request: ImportProfileRequest): Promise<ImportProfileResult> {
    const bytes = typeof request.bytes === 'string' ? new Uint8Array(Buffer.from(request.bytes, 'base64')) : request.bytes;
    let passwordRequest: PasswordRequest | undefined;
    const options = {
      fileName: request.fileName,
      connectionName: request.connectionName,
      passwords: async (asked: PasswordRequest) => {
        passwordRequest = asked;
        return asked.attempt === 1 ? request.password : undefined;
      },
    };

    // A dry run first, so that a file with secrets is not saved half-way when the secret store
    // refuses them (an unprotected store that the user has not agreed to).
    const checked = await deps.controller.importFile(bytes, { ...options, dryRun: true });
    if (!checked.ok) {
      const failed: ImportProfileResult = { imported: false, errors: checked.errors };
      if (checked.format !== undefined) {
        failed.format = checked.format;
      }
      if (passwordRequest) {
        failed.passwordRequest = { label: passwordRequest.label, kind: passwordRequest.kind };
      }
      return failed;
    }
    if (Object.keys(checked.secrets).length > 0 && !deps.secretStorage.acceptsSecrets()) {
      return {
        imported: false,
        format: checked.format,
        errors: [{
          path: '(file)',
          message: 'this profile contains secrets, and this desktop has no keyring to protect them; ' +
            'allow storing secrets without protection, or start a keyring (such as GNOME Keyring or KWallet) and import again',
        }],
      };
    }

    try {
      const result = await deps.controller.importFile(bytes, { ...options, replace: request.replace ?? false });
      if (!result.ok) {
        return { imported: false, format: result.format, errors: result.errors };
      }
      await refreshProfiles();
      deps.log.write('info', 'app', `imported "${result.profile.name}" from ${request.fileName} (${result.format} format)`);
      return { imported: true, profile: summarizeProfile(result.profile), format: result.format, warnings: result.warnings };
    } catch (error) {
      if (error instanceof ControllerError && error.code === 'exists') {
        return { imported: false, format: checked.format, exists: true, errors: [{ path: '(file)', message: error.message }] };
      }
      throw error;
    }
  }

  async function connect(profileId: string): Promise<ConnectionState> {
    const profile = await deps.controller.findProfile(profileId);
    profiles.set(profile.id, profile);
    deps.onUserAction?.({ type: 'connect', profile });
    try {
      await deps.prepareConnect?.(profile);
      await deps.controller.connect(profile);
    } catch (error) {
      deps.onUserAction?.({ type: 'connect-failed', message: toIpcError(error).message });
      throw error;
    }
    return deps.controller.status().state;
  }

  async function disconnect(): Promise<ConnectionState> {
    deps.onUserAction?.({ type: 'disconnect' });
    await deps.controller.disconnect('disconnected by the user');
    return deps.controller.status().state;
  }

  async function exportTable(): Promise<ExportTableResult> {
    const view = status();
    const stamp = view.time.replace(/[:.]/g, '-');
    const fileName = `lupina-sas-${stamp}.json`;
    const json = exportTableJson(view);
    const savedTo = deps.saveExport ? await deps.saveExport(fileName, json) : null;
    return { fileName, json, savedTo };
  }

  function logs(request: InvokeContract['logs']['request']): LogEntry[] {
    const minimum = LEVEL_ORDER[request?.minLevel ?? 'debug'];
    const entries = deps.log.recent().filter((entry) => LEVEL_ORDER[entry.level] <= minimum);
    return entries.slice(-(request?.limit ?? entries.length));
  }

  function appInfo(): AppInfo {
    return { ...deps.appInfo(), secretStorage: deps.secretStorage.info(), theme: deps.theme.get() };
  }

  const calls: { [C in InvokeChannel]: (request: InvokeContract[C]['request']) => Promise<InvokeContract[C]['value']> } = {
    listProfiles: async (): Promise<ProfileSummary[]> => (await refreshProfiles()).map(summarizeProfile),
    importProfile,
    deleteProfile: async ({ profileId }) => {
      const profile = await deps.controller.findProfile(profileId);
      await deps.controller.deleteProfile(profile.id);
      await refreshProfiles();
      deps.log.write('info', 'app', `deleted profile "${profile.name}" and its secrets`);
      return { deleted: profile.id };
    },
    connect: ({ profileId }) => connect(profileId),
    disconnect: () => disconnect(),
    status: async () => status(),
    exportTable,
    logs: async (request) => logs(request),
    appInfo: async () => appInfo(),
    setTheme: async ({ theme }) => {
      await deps.theme.set(theme);
      return theme;
    },
    allowPlainTextSecrets: async ({ allow }) => {
      await deps.secretStorage.allowPlainText(allow);
      return deps.secretStorage.info();
    },
  };

  return {
    async invoke(channel, args) {
      const checked = validateCall(channel, args);
      if (!checked.ok) {
        return checked;
      }
      try {
        const call = calls[checked.value.channel] as (request: unknown) => Promise<unknown>;
        return { ok: true, value: await call(checked.value.request) };
      } catch (error) {
        const failure = toIpcError(error);
        deps.log.write('warn', 'app', `${checked.value.channel} failed: ${failure.message}`);
        return { ok: false, error: failure };
      }
    },
    status,
  };
}

export type PushSender = <P extends PushChannel>(channel: P, payload: PushContract[P]) => void;

/**
 * Starts the pushes: the state on every change, log entries as they are written, and the
 * status every `intervalMs`. Returns a function that stops them.
 */
export function startPushes(deps: Pick<HandlerDependencies, 'controller' | 'log'>, handlers: IpcHandlers,
  send: PushSender, intervalMs = 1000): () => void {
  const safely = (action: () => void) => {
    try {
      action();
    } catch {
      // A window that closed or reloaded cannot take a push; the next one goes through.
    }
  };
  const stopState = deps.controller.onState((state) => safely(() => send('state', state)));
  const stopLog = deps.log.subscribe((entry) => safely(() => send('log', entry)));
  const timer = setInterval(() => safely(() => send('status', handlers.status())), intervalMs);
  timer.unref?.();
  return () => {
    clearInterval(timer);
    stopState();
    stopLog();
  };
}
