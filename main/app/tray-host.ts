/**
 * Finds out whether the Linux desktop shows tray icons. Electron's Tray on Linux registers a
 * StatusNotifierItem over D-Bus, which only appears when a StatusNotifier host runs (KDE, most
 * other desktops, GNOME only with the AppIndicator extension).
 */

import { execFile } from 'node:child_process';

const WATCHER = 'org.kde.StatusNotifierWatcher';

/** The hint that the window shows once when no tray is available. */
export const NO_TRAY_HINT = 'This desktop shows no tray icons, so Lupina keeps its window open and ' +
  'quits when you close it. On GNOME, install and enable the "AppIndicator and KStatusNotifierItem ' +
  'Support" extension (package gnome-shell-extension-appindicator), then restart Lupina.';

/** Reads the reply of dbus-send for the IsStatusNotifierHostRegistered property. */
export function parseHostRegisteredReply(output: string): boolean {
  return /variant\s+boolean\s+true/.test(output);
}

function dbusSend(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('dbus-send', ['--session', '--print-reply', ...args], { timeout: 3000, encoding: 'utf8' },
      (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
}

/**
 * Returns true when a StatusNotifier host is registered on the session bus. Non-Linux systems
 * always have a tray. When dbus-send is missing or the bus does not answer, this returns true,
 * so the app keeps its usual behaviour instead of guessing wrong.
 */
export async function hasTrayHost(platform = process.platform): Promise<boolean> {
  if (platform !== 'linux') {
    return true;
  }
  try {
    const reply = await dbusSend([`--dest=${WATCHER}`, '/StatusNotifierWatcher',
      'org.freedesktop.DBus.Properties.Get', `string:${WATCHER}`, 'string:IsStatusNotifierHostRegistered']);
    return parseHostRegisteredReply(reply);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // No watcher on the bus means no host; a missing dbus-send tells nothing.
    return !/ServiceUnknown|NameHasNoOwner|was not provided by any \.service/.test(message);
  }
}
