import { describe, expect, it } from 'vitest';
import { parseRange } from '../../src/http/byte-range.js';

describe('parseRange', () => {
  const size = 1000;

  it('serves the whole file without a Range header', () => {
    expect(parseRange(undefined, size)).toEqual({ kind: 'full' });
  });

  it('reads first-last, open-ended and suffix ranges; end is inclusive and clamped to the file', () => {
    expect(parseRange('bytes=0-99', size)).toEqual({ kind: 'partial', start: 0, end: 99 });
    expect(parseRange('bytes=500-', size)).toEqual({ kind: 'partial', start: 500, end: 999 });
    expect(parseRange('bytes=-100', size)).toEqual({ kind: 'partial', start: 900, end: 999 });
    expect(parseRange('bytes=-5000', size)).toEqual({ kind: 'partial', start: 0, end: 999 });
    expect(parseRange('bytes=990-5000', size)).toEqual({ kind: 'partial', start: 990, end: 999 });
    expect(parseRange('bytes=999-999', size)).toEqual({ kind: 'partial', start: 999, end: 999 });
    expect(parseRange('Bytes= 10-19 ', size)).toEqual({ kind: 'partial', start: 10, end: 19 });
  });

  it('calls ranges past the end unsatisfiable', () => {
    expect(parseRange('bytes=1000-', size)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=1000-2000', size)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', size)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange(`bytes=${'9'.repeat(400)}-`, size)).toEqual({ kind: 'unsatisfiable' });
  });

  it('ignores headers it does not serve: several ranges, other units, bad syntax', () => {
    for (const header of ['bytes=0-1,5-6', 'items=0-1', 'bytes=-', 'bytes=5-1', 'bytes=a-b', 'bytes 0-1', '']) {
      expect(parseRange(header, size), header).toEqual({ kind: 'full' });
    }
  });
});
