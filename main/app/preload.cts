/**
 * The preload of the app's window. It runs sandboxed, so it may load nothing but `electron`,
 * and it exposes exactly one object, `window.lupina`, that mirrors the IPC contract of
 * ipc-schema.ts: one function per invoke call and `on` for the pushes. The channel lists are
 * repeated here because a sandboxed preload cannot import another file; the type annotations
 * make the compiler reject any difference from the schema.
 */

import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

import type { InvokeChannel, LupinaApi, PushChannel } from './ipc-schema.js';

const PREFIX = 'lupina:';

const INVOKE: { [C in InvokeChannel]: C } = {
  listProfiles: 'listProfiles',
  importProfile: 'importProfile',
  deleteProfile: 'deleteProfile',
  connect: 'connect',
  disconnect: 'disconnect',
  status: 'status',
  exportTable: 'exportTable',
  logs: 'logs',
  appInfo: 'appInfo',
  setTheme: 'setTheme',
  allowPlainTextSecrets: 'allowPlainTextSecrets',
};

const PUSH: { [P in PushChannel]: P } = { state: 'state', status: 'status', log: 'log' };

const api: Record<string, unknown> = {};
for (const channel of Object.values(INVOKE)) {
  // Only the argument crosses; the event object and anything else stay in the preload.
  api[channel] = (request?: unknown) => (request === undefined
    ? ipcRenderer.invoke(PREFIX + channel)
    : ipcRenderer.invoke(PREFIX + channel, request));
}
api['on'] = (channel: PushChannel, listener: (payload: unknown) => void) => {
  if (!Object.hasOwn(PUSH, channel)) {
    throw new TypeError(`unknown push channel "${String(channel)}"`);
  }
  const wrapped = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
  ipcRenderer.on(PREFIX + channel, wrapped);
  return () => {
    ipcRenderer.removeListener(PREFIX + channel, wrapped);
  };
};

contextBridge.exposeInMainWorld('lupina', Object.freeze(api as LupinaApi));
