/**
 * The connection: its state with the reason of every failure, totals that survive rekeys, the
 * throughput chart, the SA table with export, and the replay window of each inbound SA.
 */

import { useState } from 'react';

import type { StatusView } from '../../../main/app/ipc-schema';
import { api, unwrap } from '../api';
import { formatBytes, formatCount, STATUS_WORDS } from '../format';
import type { ThroughputHistory } from '../throughput';
import { ReplayWindowView } from './ReplayWindowView';
import { SaTable } from './SaTable';
import { ThroughputChart } from './ThroughputChart';

interface Props {
  status: StatusView | null;
  history: ThroughputHistory;
  actionError: string | null;
  busy: boolean;
  onDisconnect(): void;
}

export function ConnectionPanel({ status, history, actionError, busy, onDisconnect }: Props) {
  const [exportMessage, setExportMessage] = useState<string | null>(null);
  const state = status?.state;
  const connection = status?.connection ?? null;

  async function exportTable() {
    try {
      const result = unwrap(await api().exportTable());
      if (result.savedTo) {
        setExportMessage(`Saved to ${result.savedTo}`);
        return;
      }
      // Without a save dialog in the main process, the window downloads the file itself.
      const url = URL.createObjectURL(new Blob([result.json], { type: 'application/json' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = result.fileName;
      link.click();
      URL.revokeObjectURL(url);
      setExportMessage(`Exported ${result.fileName}`);
    } catch (error) {
      setExportMessage(`Export failed: ${(error as Error).message}`);
    }
  }

  return (
    <section className="panel connection" aria-labelledby="connection-heading">
      <h2 id="connection-heading">Connection</h2>
      <div className={`state state-${state?.status ?? 'disconnected'}`} role="status" aria-live="polite" data-testid="state">
        <span className="state-dot" aria-hidden="true" />
        <strong>{state ? STATUS_WORDS[state.status] : 'Loading…'}</strong>
        {state?.profileName && <span> · {state.profileName}</span>}
        {state?.reason && <p className="reason" data-testid="state-reason">{state.reason}</p>}
      </div>
      {actionError && <p className="banner error" role="alert" data-testid="action-error">{actionError}</p>}

      {connection && (
        <>
          <div className="connection-head">
            <dl className="facts">
              <div><dt>Peer</dt><dd>{connection.peer || 'unknown'}</dd></div>
              <div><dt>Device</dt><dd>{connection.device}</dd></div>
              <div><dt>MTU</dt><dd>{connection.mtu}</dd></div>
              <div><dt>In</dt><dd data-testid="total-in">{formatCount(connection.totals.packetsIn)} packets, {formatBytes(connection.totals.bytesIn)}</dd></div>
              <div><dt>Out</dt><dd data-testid="total-out">{formatCount(connection.totals.packetsOut)} packets, {formatBytes(connection.totals.bytesOut)}</dd></div>
              <div><dt>Drops</dt><dd>{formatCount(connection.totals.drops)}</dd></div>
              <div><dt>Retired SAs</dt><dd>{formatCount(connection.totals.retiredSas)}</dd></div>
            </dl>
            <button type="button" onClick={onDisconnect} disabled={busy || state?.status === 'disconnecting'}>Disconnect</button>
          </div>

          <h3>Throughput</h3>
          <ThroughputChart samples={history[connection.profileId] ?? []} />

          <div className="table-head">
            <h3>Security associations</h3>
            <button type="button" onClick={() => void exportTable()}>Export as JSON</button>
          </div>
          {exportMessage && <p className="muted" role="status">{exportMessage}</p>}
          <SaTable connection={connection} />

          <h3>Replay windows</h3>
          {connection.sas.filter((sa) => sa.replay !== null).map((sa) => (
            <ReplayWindowView key={sa.spi} spi={sa.spi} replay={sa.replay!} />
          ))}
          {connection.sas.every((sa) => sa.replay === null) && <p className="muted">No inbound SA checks replays.</p>}
        </>
      )}
      {!connection && state?.status === 'disconnected' && (
        <p className="muted">Choose a profile and Connect. The SA table and charts appear while a connection runs.</p>
      )}
    </section>
  );
}
