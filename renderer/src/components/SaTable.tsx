import type { ConnectionView } from '../../../main/app/ipc-schema';
import { formatBytes, formatCount, formatDuration } from '../format';

/** Renders the live SA table: one row per inbound/outbound pair, and a totals row for the connection. */
export function SaTable({ connection }: { connection: ConnectionView }) {
  const totals = connection.totals;
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Security associations">
      <table className="sa-table" data-testid="sa-table">
        <thead>
          <tr>
            <th scope="col">SPI in</th>
            <th scope="col">SPI out</th>
            <th scope="col">Mode</th>
            <th scope="col">Transform</th>
            <th scope="col">Peer</th>
            <th scope="col">Traffic selectors</th>
            <th scope="col" className="number">Packets in</th>
            <th scope="col" className="number">Packets out</th>
            <th scope="col" className="number">Bytes in</th>
            <th scope="col" className="number">Bytes out</th>
            <th scope="col" className="number">Replay: duplicate</th>
            <th scope="col" className="number">Replay: too old</th>
            <th scope="col" className="number">ICV failures</th>
            <th scope="col" className="number">Other drops</th>
            <th scope="col" className="number">Sequence number</th>
            <th scope="col">Rekey in</th>
          </tr>
        </thead>
        <tbody>
          {connection.pairs.map((row) => (
            <tr key={`${row.spiIn}-${row.spiOut}`} data-testid="sa-row">
              <td><code>{row.spiIn ?? '–'}</code></td>
              <td><code>{row.spiOut ?? '–'}</code></td>
              <td>{row.mode}</td>
              <td>{row.transform}</td>
              <td>{row.peer}</td>
              <td className="selectors">
                {row.localSelectors.join(', ')} ⇄ {row.remoteSelectors.join(', ')}
              </td>
              <td className="number" data-testid="packets-in">{formatCount(row.packetsIn)}</td>
              <td className="number" data-testid="packets-out">{formatCount(row.packetsOut)}</td>
              <td className="number">{formatBytes(row.bytesIn)}</td>
              <td className="number">{formatBytes(row.bytesOut)}</td>
              <td className="number">{formatCount(row.replayDuplicate)}</td>
              <td className="number">{formatCount(row.replayTooOld)}</td>
              <td className="number">{formatCount(row.icvFailures)}</td>
              <td className="number">{formatCount(row.otherDrops)}</td>
              <td className="number" data-testid="seq-out">{formatCount(row.seqOut)}</td>
              <td>{formatDuration(row.secondsToRekey)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr data-testid="totals-row">
            <th scope="row" colSpan={6}>Connection total (all SAs, including {totals.retiredSas} retired)</th>
            <td className="number">{formatCount(totals.packetsIn)}</td>
            <td className="number">{formatCount(totals.packetsOut)}</td>
            <td className="number">{formatBytes(totals.bytesIn)}</td>
            <td className="number">{formatBytes(totals.bytesOut)}</td>
            <td colSpan={4} className="number">{formatCount(totals.drops)} drops</td>
            <td colSpan={2} />
          </tr>
        </tfoot>
      </table>
    </div>
  );
}
