export type ByteRange =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  /** Answered with 416 and `Content-Range: bytes *\/size`. */
  | { kind: 'unsatisfiable' };

const SINGLE_RANGE = /^bytes=\s*(\d*)-(\d*)\s*$/i;

/**
 * A Range header (RFC 9110 §14.2) against a representation of `size` bytes; `end` is inclusive.
 * Only one range is served: several ranges get the whole body (allowed, and no client needs
 * multipart/byteranges for a backup file). A header that does not parse is ignored, as the RFC says.
 */
export function parseRange(header: string | undefined, size: number): ByteRange {
  const match = header === undefined ? null : SINGLE_RANGE.exec(header);
  if (!match) return { kind: 'full' };
  const [, first = '', last = ''] = match;
  if (first === '') {
    // Suffix range "-n": the last n bytes.
    if (last === '') return { kind: 'full' };
    const length = Number(last);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Infinity : Number(last);
  if (end < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}
