import { Transform } from 'node:stream';
import { EngineError } from '../errors.js';
import { SNIFF_BYTES, sniffFormat } from './sniff.js';

/**
 * After gunzip: the content must be SQL text, not an archive or binary that was gzipped.
 * The first bytes are held back until they are checked, so nothing downstream sees them first.
 */
export function requireSqlText(): Transform {
  let head: Buffer | null = Buffer.alloc(0);
  const release = (stream: Transform): void => {
    if (head === null) return;
    if (head.length === 0) throw new EngineError('archive/empty', 'The gzip file contains nothing.');
    if (sniffFormat(head.subarray(0, SNIFF_BYTES)) !== 'plain') {
      throw new EngineError(
        'archive/unknown-format',
        'The gzip file does not contain SQL text (only gzipped plain SQL is supported).',
      );
    }
    stream.push(head);
    head = null;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        if (head === null) {
          callback(null, chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        if (head.length >= SNIFF_BYTES) release(this);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        release(this);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
