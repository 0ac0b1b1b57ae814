import { ServiceError } from '../../errors/service-error.js';

/**
 * One byte-exact serialisation of a JSON value: object keys sorted (by UTF-16 code units, as
 * JavaScript sorts), no whitespace, and whatever JSON would drop or change (undefined, Dates,
 * toJSON) dropped or changed first, so a manifest written as JSON and read back serialises to the
 * same bytes as before. What a signature covers.
 *
 * Numbers must be safe integers: beyond 2^53 (or a fraction) several texts read as one double, so
 * two manifests that other readers (jq, Python) tell apart would share a signature. NaN and
 * Infinity, which JSON would turn into null, are refused too (`input/invalid`).
 */
export function canonicalJson(value: unknown): string {
  return serialise(JSON.parse(JSON.stringify(value ?? null, requireSafeIntegers)) as unknown);
}

function requireSafeIntegers(this: unknown, key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new ServiceError(
      'input/invalid',
      `A signed document holds only integers up to 2^53 - 1: "${key}" is ${String(value)}.`,
    );
  }
  return value;
}

/**
 * JSON.parse for a document whose signature is checked: every number must be written the way
 * canonicalJson writes it (a safe integer, shortest form). "9007199254740993" or "1.0000000000000001"
 * would read as another number than the text says, so the text is refused rather than verified.
 */
export function parseSignedJson(text: string): unknown {
  return JSON.parse(text, (key, value: unknown, context?: { source?: string }) => {
    if (typeof value === 'number' && (!Number.isSafeInteger(value) || context?.source !== String(value))) {
      throw new ServiceError('input/invalid', `"${key}" is not a safe integer written plainly (${context?.source}).`);
    }
    return value;
  });
}

function serialise(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(serialise).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${serialise(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
