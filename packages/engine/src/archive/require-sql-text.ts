import { Transform } from 'node:stream';
import { EngineError } from '../errors.js';
import { SNIFF_BYTES, sniffFormat } from './sniff.js';

/** After gunzip: the content must be SQL text, not an archive or binary that was gzipped. */
export function requireSqlText(): Transform {
  let head: Buffer | null = Buffer.alloc(0);
  const check = (bytes: Buffer) => {
    if (sniffFormat(bytes) !== 'plain') {
      throw new EngineError(
        'archive/unknown-format',
        'The gzip file does not contain SQL text (only gzipped plain SQL is supported).',
      );
    }
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (head !== null) {
        head = Buffer.concat([head, chunk]);
        if (head.length >= SNIFF_BYTES) {
          try {
            check(head.subarray(0, SNIFF_BYTES));
          } catch (error) {
            callback(error as Error);
            return;
          }
          head = null;
        }
      }
      callback(null, chunk);
    },
    flush(callback) {
      try {
        if (head !== null) {
          if (head.length === 0) throw new EngineError('archive/empty', 'The gzip file contains nothing.');
          check(head);
        }
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
