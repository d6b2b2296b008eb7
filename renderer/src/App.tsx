/**
 * The window: profiles and import on one side, the connection with its SA table, throughput
 * chart and replay windows on the other, and the log below. State comes from the pushes of the
 * main process; every action is a call on `window.lupina`.
 */

import { useCallback, useEffect, useState } from 'react';

import type {
  AppInfo, ConnectionState, LogEntry, ProfileSummary, StatusView, ThemePreference,
} from '../../main/app/ipc-schema';
import { api, unwrap } from './api';
import { ConnectionPanel } from './components/ConnectionPanel';
import { LogView } from './components/LogView';
import { ProfilesPanel } from './components/ProfilesPanel';
import { SecretStorageBanner } from './components/SecretStorageBanner';
import { appendSample, type ThroughputHistory } from './throughput';

const LOG_LIMIT = 2000;

export function App() {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [profiles, setProfiles] = useState<ProfileSummary[]>([]);
  const [status, setStatus] = useState<StatusView | null>(null);
  const [logs, setLogs] = useState<LogEntry[]>([]);
  const [history, setHistory] = useState<ThroughputHistory>({});
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);

  const refreshProfiles = useCallback(async () => {
    setProfiles(unwrap(await api().listProfiles()));
  }, []);

  // Pushes and call results travel on different channels, so an older one may arrive last.
  const acceptStatus = useCallback((view: StatusView) => {
    setStatus((previous) => (previous && (previous.time > view.time || previous.state.since > view.state.since)
      ? previous : view));
    setHistory((previous) => appendSample(previous, view));
  }, []);

  const acceptState = useCallback((state: ConnectionState) => {
    setStatus((previous) => (previous && previous.state.since <= state.since ? { ...previous, state } : previous));
  }, []);

  useEffect(() => {
    let lupina;
    try {
      lupina = api();
    } catch (error) {
      setLoadError((error as Error).message);
      return undefined;
    }
    const stops = [
      lupina.on('state', acceptState),
      lupina.on('status', acceptStatus),
      lupina.on('log', (entry) => setLogs((previous) => [...previous.slice(-(LOG_LIMIT - 1)), entry])),
    ];
    void (async () => {
      try {
        setInfo(unwrap(await lupina.appInfo()));
        await refreshProfiles();
        acceptStatus(unwrap(await lupina.status()));
        setLogs(unwrap(await lupina.logs({ limit: LOG_LIMIT })));
      } catch (error) {
        setLoadError((error as Error).message);
      }
    })();
    return () => stops.forEach((stop) => stop());
  }, [acceptState, acceptStatus, refreshProfiles]);

  const theme = info?.theme ?? 'system';
  useEffect(() => {
    if (theme === 'system') {
      delete document.documentElement.dataset['theme'];
    } else {
      document.documentElement.dataset['theme'] = theme;
    }
  }, [theme]);

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setActionError(null);
    try {
      await action();
    } catch (error) {
      setActionError((error as Error).message);
    } finally {
      setBusy(false);
      try {
        acceptStatus(unwrap(await api().status()));
      } catch {
        // The next status push brings the state.
      }
    }
  }

  const connect = (profileId: string) => run(async () => {
    unwrap(await api().connect({ profileId }));
  });
  const disconnect = () => run(async () => {
    unwrap(await api().disconnect());
  });
  const deleteProfile = (profileId: string) => run(async () => {
    unwrap(await api().deleteProfile({ profileId }));
    await refreshProfiles();
  });

  async function changeTheme(next: ThemePreference) {
    const saved = unwrap(await api().setTheme({ theme: next }));
    setInfo((previous) => (previous ? { ...previous, theme: saved } : previous));
  }

  async function allowPlainText() {
    const storage = unwrap(await api().allowPlainTextSecrets({ allow: true }));
    setInfo((previous) => (previous ? { ...previous, secretStorage: storage } : previous));
  }

  if (loadError) {
    return (
      <main className="fatal" role="alert">
        <h1>Lupina cannot start its window</h1>
        <p>{loadError}</p>
      </main>
    );
  }

  return (
    <div className="app">
      <header className="app-header">
        <h1>Lupina</h1>
        <label className="theme-select">
          Theme{' '}
          <select value={theme} onChange={(event) => void changeTheme(event.target.value as ThemePreference)}>
            <option value="system">Follow the system</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </label>
      </header>

      {info && !info.tunSupported && (
        <p className="banner warning" role="note">
          Only Linux has a TUN backend so far, so connections cannot start on {info.platform}.
        </p>
      )}
      {info?.trayHint && <p className="banner info" role="note">{info.trayHint}</p>}
      {info && <SecretStorageBanner storage={info.secretStorage} onAllow={() => void allowPlainText()} />}

      <div className="layout">
        <ProfilesPanel
          profiles={profiles}
          state={status?.state ?? null}
          busy={busy}
          onConnect={connect}
          onDisconnect={disconnect}
          onDelete={deleteProfile}
          onImported={refreshProfiles}
        />
        <ConnectionPanel
          status={status}
          history={history}
          actionError={actionError}
          busy={busy}
          onDisconnect={disconnect}
        />
      </div>
      <LogView entries={logs} />
    </div>
  );
}
