import { useState } from 'react';

import type { LogEntry, LogLevel } from '../../../main/app/ipc-schema';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

function line(entry: LogEntry): string {
  return `${entry.time} ${entry.level} ${entry.source}: ${entry.message}`;
}

/** Copies text with the clipboard API, or with a selected text area where that is refused. */
async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // The app denies every permission request, the clipboard one included, so fall back.
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'visually-hidden';
  document.body.append(area);
  area.select();
  const copied = document.execCommand('copy');
  area.remove();
  if (!copied) {
    throw new Error('the clipboard is not available');
  }
}

/** Renders the log with a level filter and a button that copies it to the clipboard. */
export function LogView({ entries }: { entries: LogEntry[] }) {
  const [level, setLevel] = useState<LogLevel>('info');
  const [message, setMessage] = useState<string | null>(null);
  const shown = entries.filter((entry) => ORDER[entry.level] <= ORDER[level]);

  async function copy() {
    try {
      await copyText(shown.map(line).join('\n'));
      setMessage(`Copied ${shown.length} lines`);
    } catch (error) {
      setMessage(`Copy failed: ${(error as Error).message}`);
    }
  }

  return (
    <section className="panel log" aria-labelledby="log-heading">
      <div className="table-head">
        <h2 id="log-heading">Log</h2>
        <label>
          Show{' '}
          <select value={level} onChange={(event) => setLevel(event.target.value as LogLevel)}>
            <option value="error">errors</option>
            <option value="warn">warnings and errors</option>
            <option value="info">information, warnings and errors</option>
            <option value="debug">everything (debug)</option>
          </select>
        </label>
        <button type="button" onClick={() => void copy()}>Copy to clipboard</button>
        {message && <span className="muted" role="status">{message}</span>}
      </div>
      <ol className="log-lines" tabIndex={0} aria-label="Log entries" data-testid="log-lines">
        {shown.slice(-500).map((entry, index) => (
          <li key={`${entry.time}-${index}`} className={`log-${entry.level}`}>
            <time dateTime={entry.time}>{entry.time.slice(11, 19)}</time>{' '}
            <span className="level">{entry.level}</span>{' '}
            <span className="source">{entry.source}</span>: {entry.message}
          </li>
        ))}
      </ol>
    </section>
  );
}
