/**
 * One byte-exact serialisation of a JSON value: object keys sorted (by UTF-16 code units, as
 * JavaScript sorts), no whitespace, and whatever JSON would drop or change (undefined, Dates,
 * toJSON) dropped or changed first, so a manifest written as JSON and read back serialises to the
 * same bytes as before. What a signature covers.
 */
export function canonicalJson(value: unknown): string {
  return serialise(JSON.parse(JSON.stringify(value ?? null)) as unknown);
}

function serialise(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(serialise).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${serialise(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
