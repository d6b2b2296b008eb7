/**
 * The saved profiles with Connect, Disconnect and Delete, and the import: a file dialog, or
 * dropping files on the window. Each imported file gets a result entry with its errors next to
 * the key or line that caused them, and a password field or a Replace button when needed.
 */

import { useEffect, useRef, useState } from 'react';

import type { ConnectionState, ImportProfileResult, ProfileSummary } from '../../../main/app/ipc-schema';
import { api, readFileBytes, unwrap } from '../api';

interface ImportEntry {
  key: number;
  file: File;
  result: ImportProfileResult | null;
  failure: string | null;
}

interface Props {
  profiles: ProfileSummary[];
  state: ConnectionState | null;
  busy: boolean;
  onConnect(profileId: string): void;
  onDisconnect(): void;
  onDelete(profileId: string): void;
  onImported(): Promise<void>;
}

let nextKey = 1;

export function ProfilesPanel({ profiles, state, busy, onConnect, onDisconnect, onDelete, onImported }: Props) {
  const [imports, setImports] = useState<ImportEntry[]>([]);
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  async function importFile(file: File, options: { password?: string; replace?: boolean } = {}, key = nextKey++) {
    const update = (entry: Partial<ImportEntry>) => setImports((previous) => {
      const others = previous.filter((item) => item.key !== key);
      const existing = previous.find((item) => item.key === key) ?? { key, file, result: null, failure: null };
      return [{ ...existing, ...entry }, ...others].slice(0, 10);
    });
    update({ result: null, failure: null });
    try {
      const bytes = await readFileBytes(file);
      const result = unwrap(await api().importProfile({ fileName: file.name, bytes, ...options }));
      update({ result });
      if (result.imported) {
        await onImported();
      }
    } catch (error) {
      update({ failure: (error as Error).message });
    }
  }

  function importFiles(files: FileList | null) {
    for (const file of Array.from(files ?? [])) {
      void importFile(file);
    }
  }

  useEffect(() => {
    const over = (event: DragEvent) => {
      if (event.dataTransfer?.types.includes('Files')) {
        event.preventDefault();
        setDragging(true);
      }
    };
    const leave = (event: DragEvent) => {
      if (event.relatedTarget === null) {
        setDragging(false);
      }
    };
    const drop = (event: DragEvent) => {
      event.preventDefault();
      setDragging(false);
      importFiles(event.dataTransfer?.files ?? null);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  });

  const activeId = state && state.status !== 'disconnected' ? state.profileId : undefined;

  return (
    <section className="panel profiles" aria-labelledby="profiles-heading">
      <h2 id="profiles-heading">Profiles</h2>
      {profiles.length === 0 && <p className="muted">No profiles yet. Import a profile file to start.</p>}
      <ul className="profile-list">
        {profiles.map((profile) => {
          const active = profile.id === activeId;
          return (
            <li key={profile.id} className={active ? 'profile active' : 'profile'} data-testid="profile">
              <div className="profile-text">
                <span className="profile-name">{profile.name}</span>
                <span className="muted">{profile.kind === 'manual' ? 'Manual keys' : 'IKEv2'} · {profile.peer} · {profile.mode}</span>
              </div>
              <div className="profile-actions">
                {active ? (
                  <button type="button" onClick={onDisconnect} disabled={busy || state?.status === 'disconnecting'}>
                    Disconnect
                  </button>
                ) : (
                  <button type="button" className="primary" onClick={() => onConnect(profile.id)} disabled={busy || activeId !== undefined}
                    aria-label={`Connect ${profile.name}`}>
                    Connect
                  </button>
                )}
                <button type="button" onClick={() => onDelete(profile.id)} disabled={busy || active}
                  aria-label={`Delete ${profile.name}`}>
                  Delete
                </button>
              </div>
            </li>
          );
        })}
      </ul>

      <div className={dragging ? 'drop-zone dragging' : 'drop-zone'}>
        <input ref={input} id="import-file" type="file" className="visually-hidden"
          accept=".conf,.sswan,.mobileconfig,.nmconnection,.json,.lupina"
          multiple onChange={(event) => {
            importFiles(event.target.files);
            event.target.value = '';
          }} />
        <button type="button" onClick={() => input.current?.click()}>Import profile…</button>
        <p className="muted">or drop profile files on this window (swanctl.conf, .sswan, .mobileconfig, .nmconnection, setkey.conf, Lupina JSON)</p>
      </div>

      <ul className="import-results" aria-live="polite">
        {imports.map((entry) => (
          <ImportResultView key={entry.key} entry={entry}
            onRetry={(options) => void importFile(entry.file, options, entry.key)} />
        ))}
      </ul>
    </section>
  );
}

function ImportResultView({ entry, onRetry }: { entry: ImportEntry; onRetry(options: { password?: string; replace?: boolean }): void }) {
  const [password, setPassword] = useState('');
  const result = entry.result;
  const fileLabel = <span className="file-name">{entry.file.name}</span>;

  if (entry.failure) {
    return <li className="import-result error" role="alert">{fileLabel}: {entry.failure}</li>;
  }
  if (!result) {
    return <li className="import-result">{fileLabel}: importing…</li>;
  }
  if (result.imported) {
    return (
      <li className="import-result ok" data-testid="import-ok">
        {fileLabel}: imported as “{result.profile.name}” ({result.format} format)
        {result.warnings.length > 0 && (
          <ul className="issues">
            {result.warnings.map((warning, index) => (
              <li key={index}><code>{warning.path}</code>: {warning.message}</li>
            ))}
          </ul>
        )}
      </li>
    );
  }
  return (
    <li className="import-result error" role="alert" data-testid="import-error">
      {fileLabel}: not imported{result.format ? ` (${result.format} format)` : ''}
      <ul className="issues">
        {result.errors.map((error, index) => (
          <li key={index}>
            <code>{error.path}</code>{error.value !== undefined && <> (value <code>{error.value}</code>)</>}: {error.message}
          </li>
        ))}
      </ul>
      {result.passwordRequest && (
        <form className="inline-form" onSubmit={(event) => {
          event.preventDefault();
          onRetry({ password });
          setPassword('');
        }}>
          <label>
            {result.passwordRequest.label}{' '}
            <input type="password" value={password} autoComplete="off" onChange={(event) => setPassword(event.target.value)} />
          </label>
          <button type="submit">Import with password</button>
        </form>
      )}
      {result.exists && <button type="button" onClick={() => onRetry({ replace: true })}>Replace the saved profile</button>}
    </li>
  );
}
