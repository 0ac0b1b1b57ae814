/**
 * The points of an SVG polyline drawing `values` inside width × height (with `pad` kept free for
 * the stroke), oldest left. The smallest value sits at the bottom and the largest at the top, so a
 * small change still shows; a flat series (or one value) is a line across the middle.
 */
export function sparklinePoints(values: readonly number[], width: number, height: number, pad = 2): string {
  if (values.length === 0) return '';
  const min = Math.min(...values);
  const span = Math.max(...values) - min;
  const innerWidth = width - 2 * pad;
  const innerHeight = height - 2 * pad;
  const y = (value: number) => (span === 0 ? height / 2 : pad + (1 - (value - min) / span) * innerHeight);
  const series = values.length === 1 ? [values[0]!, values[0]!] : values;
  const step = innerWidth / (series.length - 1);
  const round = (n: number) => Math.round(n * 10) / 10;
  return series.map((value, index) => `${round(pad + index * step)},${round(y(value))}`).join(' ');
}

/** How the size moved from the first to the last backup of the trend, in words for screen readers. */
export function trendSummary(values: readonly number[], format: (bytes: number) => string): string {
  if (values.length === 0) return 'No backups yet';
  const first = values[0]!;
  const last = values[values.length - 1]!;
  if (values.length === 1) return `One backup of ${format(last)}`;
  const direction = last > first ? 'grew' : last < first ? 'shrank' : 'stayed';
  const change = direction === 'stayed' ? `at ${format(last)}` : `from ${format(first)} to ${format(last)}`;
  return `Over the last ${values.length} backups the size ${direction} ${change}`;
}
