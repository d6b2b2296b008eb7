import type { SaView } from '../../../main/app/ipc-schema';

/** Returns whether the bitmap marks `top - offset` as received (bit offset%8 of byte offset/8). */
export function bitAt(bitmapHex: string, offset: number): boolean {
  const byte = parseInt(bitmapHex.slice((offset >> 3) * 2, (offset >> 3) * 2 + 2), 16);
  return Number.isFinite(byte) && (byte & (1 << (offset & 7))) !== 0;
}

/**
 * Renders the anti-replay window of an inbound SA as a strip of cells, newest sequence number on the
 * right: a filled cell was received, an empty one may still arrive. Left of the window, packets
 * are dropped as too old.
 */
export function ReplayWindowView({ spi, replay }: { spi: string; replay: NonNullable<SaView['replay']> }) {
  if (replay.window === 0) {
    return (
      <p className="replay-window" data-testid="replay-window">
        SA <code>{spi}</code>: anti-replay is off, so repeated packets are accepted; highest sequence number {replay.top}.
      </p>
    );
  }
  const shown = Math.min(replay.window, 256);
  const cells = [];
  let received = 0;
  for (let offset = shown - 1; offset >= 0; offset--) {
    const seq = replay.top - offset;
    const filled = seq >= 1 && bitAt(replay.bitmap, offset);
    if (filled) {
      received += 1;
    }
    let className = 'cell unused';
    if (filled) {
      className = 'cell received';
    } else if (seq >= 1) {
      className = 'cell missing';
    }
    cells.push(<span key={offset} className={className} />);
  }
  const lowest = Math.max(1, replay.top - replay.window + 1);
  return (
    <figure className="replay-window" data-testid="replay-window">
      <figcaption>
        SA <code>{spi}</code>: window of {replay.window} packets, highest sequence number {replay.top}; {received} of the
        last {shown} received{replay.top > 0 ? `; numbers below ${lowest} count as too old` : ''}.
        {shown < replay.window && ` Showing the newest ${shown}.`}
      </figcaption>
      <div className="cells" role="img" aria-label={`${received} of the last ${shown} sequence numbers received`}>{cells}</div>
    </figure>
  );
}
