import { formatRate } from '../format';
import { ratesOf, type ThroughputSample } from '../throughput';

const WIDTH = 600;
const HEIGHT = 160;
const PADDING = 4;

function path(values: number[], maximum: number): string {
  if (values.length === 0) {
    return '';
  }
  const step = values.length > 1 ? (WIDTH - 2 * PADDING) / (values.length - 1) : 0;
  return values.map((value, index) => {
    const x = PADDING + index * step;
    const y = HEIGHT - PADDING - (value / maximum) * (HEIGHT - 2 * PADDING);
    return `${index === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`;
  }).join(' ');
}

/** Throughput in and out of one connection over the last two minutes, as an SVG line chart. */
export function ThroughputChart({ samples }: { samples: readonly ThroughputSample[] }) {
  const rates = ratesOf(samples);
  const maximum = Math.max(1, ...rates.map((point) => Math.max(point.rateIn, point.rateOut)));
  const last = rates[rates.length - 1];
  const summary = last
    ? `Now ${formatRate(last.rateIn)} in and ${formatRate(last.rateOut)} out; peak ${formatRate(maximum)}.`
    : 'Collecting samples…';
  return (
    <figure className="chart" data-testid="throughput-chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Throughput chart. ${summary}`} preserveAspectRatio="none">
        <line x1="0" y1={HEIGHT - PADDING} x2={WIDTH} y2={HEIGHT - PADDING} className="axis" />
        <path d={path(rates.map((point) => point.rateIn), maximum)} className="line-in" />
        <path d={path(rates.map((point) => point.rateOut), maximum)} className="line-out" />
      </svg>
      <figcaption>
        <span className="legend legend-in">In</span> <span className="legend legend-out">Out</span> {summary}
      </figcaption>
    </figure>
  );
}
