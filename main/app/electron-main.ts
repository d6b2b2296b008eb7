/**
 * The Electron main process: one locked-down window, the tray, notifications and the IPC
 * bridge to the app core (app-core.ts), which holds everything that does not need Electron.
 *
 * Security settings: the renderer is sandboxed with context isolation and no Node.js; every
 * response carries a strict Content-Security-Policy; navigation, new windows, webviews and
 * permission requests are refused; the session cancels every request except the app's own
 * files; IPC calls are accepted only from the app's own page and are validated in the core.
 */

import {
  app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, nativeTheme, net, Notification, protocol,
  safeStorage, session, Tray, type IpcMainInvokeEvent, type MenuItemConstructorOptions, type WebFrameMain,
} from 'electron';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { createAppCore, type AppCore } from './app-core.js';
import { helperLaunch } from './helper-client.js';
import { startPushes } from './ipc-handlers.js';
import { CHANNEL_PREFIX, INVOKE_CHANNELS, type TrayIconName } from './ipc-schema.js';
import type { DesktopNotification } from './session-tracker.js';
import { hasTrayHost, NO_TRAY_HINT } from './tray-host.js';
import { trayIconFor, trayMenuModel, trayTooltip, type TrayAction, type TrayMenuItem } from './tray-model.js';

/** The policy for the window: only the app's own scripts, styles and images, no network at all. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

const appRoot = app.getAppPath();
const rendererRoot = join(appRoot, 'renderer', 'dist');
const indexUrl = pathToFileURL(join(rendererRoot, 'index.html')).toString();
const moduleDirectory = fileURLToPath(new URL('.', import.meta.url));

let core: AppCore | null = null;
let window: BrowserWindow | null = null;
let tray: Tray | null = null;
let trayHint: string | null = null;
let quitting = false;

/** True for a file URL inside renderer/dist, the only content the window may load. */
function isAppFile(url: string): boolean {
  if (!url.startsWith('file:')) {
    return false;
  }
  try {
    const path = resolve(fileURLToPath(url));
    const inside = relative(rendererRoot, path);
    return inside !== '' && !inside.startsWith('..') && !inside.startsWith(sep);
  } catch {
    return false;
  }
}

/** Accepts IPC only from the app's own page in the main frame of the app's window. */
function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  const frame: WebFrameMain | null = event.senderFrame;
  return frame !== null && window !== null && event.sender === window.webContents
    && frame === window.webContents.mainFrame && isAppFile(frame.url);
}

function helperCommand(): string[] {
  if (app.isPackaged) {
    return [join(process.resourcesPath, 'helper', 'lupina-helper')];
  }
  // From a source checkout, the system's Node.js runs the compiled helper.
  let node = '/usr/bin/node';
  try {
    node = execFileSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).trim() || node;
  } catch {
    // Keep /usr/bin/node; pkexec reports it if it is missing.
  }
  return [node, join(moduleDirectory, 'privileged-helper.js')];
}

function lockDownSession(): void {
  const defaultSession = session.defaultSession;
  defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  defaultSession.setPermissionCheckHandler(() => false);
  defaultSession.webRequest.onBeforeRequest((details, callback) => {
    const allowed = isAppFile(details.url) || details.url.startsWith('devtools:');
    callback({ cancel: !allowed });
  });
  defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });

  // File responses bypass onHeadersReceived, so the file protocol itself adds the policy header
  // and serves nothing outside renderer/dist.
  protocol.handle('file', async (request) => {
    if (!isAppFile(request.url)) {
      return new Response('not found', { status: 404 });
    }
    const response = await net.fetch(request.url, { bypassCustomProtocolHandlers: true });
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  });

  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (navigation) => navigation.preventDefault());
    contents.on('will-redirect', (navigation) => navigation.preventDefault());
    contents.on('will-attach-webview', (attach) => attach.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

function createWindow(): BrowserWindow {
  const created = new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 420,
    minHeight: 400,
    show: false,
    title: 'Lupina',
    icon: join(appRoot, 'assets', 'icons', 'lupina.png'),
    autoHideMenuBar: true,
    webPreferences: {
      preload: join(moduleDirectory, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      devTools: !app.isPackaged,
    },
  });
  created.once('ready-to-show', () => created.show());
  created.on('close', (event) => {
    // With a tray the app keeps running; without one, closing the window quits.
    if (!quitting && tray !== null) {
      event.preventDefault();
      created.hide();
    }
  });
  created.on('closed', () => {
    window = null;
  });
  void created.loadURL(indexUrl);
  return created;
}

function showWindow(): void {
  window ??= createWindow();
  if (window.isMinimized()) {
    window.restore();
  }
  window.show();
  window.focus();
}

function trayImage(name: TrayIconName) {
  return nativeImage.createFromPath(join(appRoot, 'assets', 'tray', `${name}.png`));
}

function toMenuItem(item: TrayMenuItem): MenuItemConstructorOptions {
  switch (item.type) {
    case 'separator':
      return { type: 'separator' };
    case 'label':
      return { label: item.label, enabled: false };
    case 'action':
      return { label: item.label, enabled: item.enabled, click: () => void runTrayAction(item.action) };
    case 'profile':
      return {
        label: item.label, type: 'checkbox', checked: item.checked, enabled: item.enabled,
        click: () => void runTrayAction(item.action),
      };
  }
}

async function runTrayAction(action: TrayAction): Promise<void> {
  switch (action.type) {
    case 'connect':
      await core?.connect(action.profileId);
      return;
    case 'disconnect':
      await core?.disconnect();
      return;
    case 'show-window':
      showWindow();
      return;
    case 'quit':
      app.quit();
      return;
  }
}

async function refreshTray(): Promise<void> {
  if (!tray || !core) {
    return;
  }
  const state = core.tracker.trayState;
  const model = trayMenuModel(state, await core.profiles(), core.settings.current.lastUsedProfileId);
  tray.setImage(trayImage(trayIconFor(state)));
  tray.setToolTip(trayTooltip(state));
  tray.setContextMenu(Menu.buildFromTemplate(model.map(toMenuItem)));
}

function notify(notification: DesktopNotification): void {
  if (!Notification.isSupported()) {
    return;
  }
  new Notification({
    title: notification.title,
    body: notification.body,
    urgency: notification.error ? 'critical' : 'normal',
    icon: join(appRoot, 'assets', 'tray', notification.error ? 'error.png' : 'connected.png'),
  }).show();
}

async function saveExport(fileName: string, json: string): Promise<string | null> {
  const options = { defaultPath: join(app.getPath('documents'), fileName), filters: [{ name: 'JSON', extensions: ['json'] }] };
  const result = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
  if (result.canceled || !result.filePath) {
    return null;
  }
  await writeFile(result.filePath, json, { mode: 0o600 });
  return result.filePath;
}

function registerIpc(appCore: AppCore): void {
  for (const channel of INVOKE_CHANNELS) {
    ipcMain.handle(CHANNEL_PREFIX + channel, async (event, ...args: unknown[]) => {
      if (!isTrustedSender(event)) {
        appCore.log.write('warn', 'app', `rejected ${channel} from ${event.senderFrame?.url ?? 'an unknown frame'}`);
        return { ok: false, error: { code: 'forbidden-sender', message: 'calls are accepted only from the Lupina window' } };
      }
      const result = await appCore.handlers.invoke(channel, args);
      if (channel === 'setTheme' && result.ok) {
        nativeTheme.themeSource = appCore.settings.current.theme;
      }
      return result;
    });
  }
  startPushes(appCore, appCore.handlers, (channel, payload) => {
    if (window && !window.isDestroyed()) {
      window.webContents.send(CHANNEL_PREFIX + channel, payload);
    }
  });
}

async function start(): Promise<void> {
  lockDownSession();
  const trayAvailable = await hasTrayHost();
  trayHint = trayAvailable ? null : NO_TRAY_HINT;

  core = await createAppCore({
    dataDirectory: app.getPath('userData'),
    encryptor: safeStorage,
    helperLaunch: helperLaunch(helperCommand(), process.getuid?.() === 0),
    appInfo: () => ({
      version: app.getVersion(),
      platform: process.platform,
      tunSupported: process.platform === 'linux',
      trayHint,
    }),
    saveExport,
    notify,
    onTrayChange: () => void refreshTray(),
  });
  nativeTheme.themeSource = core.settings.current.theme;
  registerIpc(core);
  if (trayHint) {
    core.log.write('warn', 'app', trayHint);
  }

  if (trayAvailable) {
    tray = new Tray(trayImage('disconnected'));
    tray.on('click', () => showWindow());
    await refreshTray();
  }
  showWindow();
}

/** Disconnects and stops the helper before quitting, once. */
async function quitCleanly(): Promise<void> {
  const running = core;
  core = null;
  try {
    await running?.shutDown();
  } finally {
    tray?.destroy();
    tray = null;
    app.exit(0);
  }
}

if (!app.requestSingleInstanceLock()) {
  // Another instance runs; it receives 'second-instance' and shows its window.
  app.quit();
} else {
  app.enableSandbox();
  app.on('second-instance', () => showWindow());
  app.on('window-all-closed', () => {
    if (tray === null) {
      app.quit();
    }
  });
  app.on('before-quit', (event) => {
    quitting = true;
    if (core !== null) {
      event.preventDefault();
      void quitCleanly();
    }
  });
  void app.whenReady().then(start).catch((error: unknown) => {
    dialog.showErrorBox('Lupina could not start', error instanceof Error ? error.message : String(error));
    app.exit(1);
  });
}
