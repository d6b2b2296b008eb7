/**
 * The desktop app without Electron: the controller over the profile store, the safeStorage
 * secret store and the helper's TunnelIo, the IPC handlers, the session tracker and the
 * settings. electron-main.ts wraps this in a window and a tray; the end-to-end test runs it in
 * Node behind a test bridge.
 */

import { join } from 'node:path';

import { Controller } from '../controller/controller.js';
import { Log } from '../controller/log.js';
import { ProfileStore } from '../profile/profile-store.js';
import { AppSettings } from './app-settings.js';
import { HelperClient, type HelperLaunch } from './helper-client.js';
import { createHelperTunnelIo, type HelperTunnelIo } from './helper-tunnel-io.js';
import { createIpcHandlers, type HandlerDependencies, type IpcHandlers, type SecretStoragePolicy } from './ipc-handlers.js';
import type { AppInfo, ProfileSummary } from './ipc-schema.js';
import { SafeStorageSecretStore, type StringEncryptor } from './safe-storage-secret-store.js';
import { SessionTracker, type DesktopNotification } from './session-tracker.js';
import { summarizeProfile } from './status-view.js';

export interface AppCoreOptions {
  /** The app's data folder: profiles, secrets, settings and journals go below it. */
  dataDirectory: string;
  encryptor: StringEncryptor;
  helperLaunch: HelperLaunch;
  log?: Log;
  appInfo(): Omit<AppInfo, 'secretStorage' | 'theme'>;
  saveExport?: HandlerDependencies['saveExport'];
  /** Shows a desktop notification; the tracker already dropped repeats. */
  notify?(notification: DesktopNotification): void;
  /** Told after every change that the tray shows: state, failure, profiles or last-used profile. */
  onTrayChange?(): void;
}

export interface AppCore {
  controller: Controller;
  log: Log;
  handlers: IpcHandlers;
  tracker: SessionTracker;
  settings: AppSettings;
  io: HelperTunnelIo;
  secrets: SafeStorageSecretStore;
  /** The saved profiles as the tray lists them. */
  profiles(): Promise<ProfileSummary[]>;
  /** Connects a profile the way the window's Connect button does, for the tray. */
  connect(profileId: string): Promise<void>;
  disconnect(): Promise<void>;
  /** Disconnects, deletes the device and stops the helper, for quitting. */
  shutDown(): Promise<void>;
}

export async function createAppCore(options: AppCoreOptions): Promise<AppCore> {
  const log = options.log ?? new Log('info');
  const settings = await AppSettings.load(join(options.dataDirectory, 'settings.json'));
  const secrets = new SafeStorageSecretStore({
    directory: join(options.dataDirectory, 'secrets'),
    encryptor: options.encryptor,
    plainTextAllowed: () => settings.current.plainTextSecretsAllowed,
  });
  const helper = new HelperClient(options.helperLaunch, log.scope('helper'));
  const io = createHelperTunnelIo({ helper, journalDirectory: join(options.dataDirectory, 'journals'), log: log.scope('network') });
  const controller = new Controller({
    profiles: new ProfileStore(join(options.dataDirectory, 'profiles')),
    secrets,
    io,
    log,
  });
  const tracker = new SessionTracker(controller.status().state);
  const changed = () => options.onTrayChange?.();

  controller.onState((state) => {
    const notification = tracker.observe(state);
    if (notification) {
      options.notify?.(notification);
    }
    changed();
  });

  const secretStorage: SecretStoragePolicy = {
    info: () => ({
      backend: secrets.backend,
      protected: secrets.protected,
      plainTextAllowed: settings.current.plainTextSecretsAllowed,
    }),
    allowPlainText: async (allow) => {
      await settings.update({ plainTextSecretsAllowed: allow });
      log.write('info', 'app', allow ? 'the user allowed storing secrets without keyring protection'
        : 'secrets are stored only with keyring protection');
    },
    acceptsSecrets: () => secrets.acceptsSecrets(),
  };

  const handlers = createIpcHandlers({
    controller,
    log,
    secretStorage,
    appInfo: options.appInfo,
    theme: {
      get: () => settings.current.theme,
      set: (theme) => settings.update({ theme }),
    },
    prepareConnect: async () => {
      await io.prepareDevice();
    },
    saveExport: options.saveExport,
    onUserAction: (action) => {
      if (action.type === 'connect') {
        tracker.connectRequested();
        void settings.update({ lastUsedProfileId: action.profile.id }).then(changed);
      } else if (action.type === 'connect-failed') {
        const notification = tracker.connectFailed(action.message);
        if (notification) {
          options.notify?.(notification);
        }
        changed();
      } else {
        tracker.disconnectRequested();
      }
    },
  });

  /** Runs a call for the tray; a failed connect already notified through onUserAction. */
  async function invokeForTray(channel: 'connect' | 'disconnect', request?: object): Promise<void> {
    const result = await handlers.invoke(channel, request === undefined ? [] : [request]);
    if (!result.ok && channel === 'disconnect') {
      options.notify?.({ title: 'Lupina: disconnect failed', body: result.error.message, error: true });
    }
  }

  return {
    controller,
    log,
    handlers,
    tracker,
    settings,
    io,
    secrets,
    profiles: async () => (await controller.listProfiles()).map(summarizeProfile),
    connect: (profileId) => invokeForTray('connect', { profileId }),
    disconnect: () => invokeForTray('disconnect'),
    async shutDown() {
      await controller.disconnect('the app quit');
      await io.close();
    },
  };
}
