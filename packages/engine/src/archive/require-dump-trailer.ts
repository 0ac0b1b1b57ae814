import { Transform } from 'node:stream';
import { EngineError } from '../errors.js';

/** pg_dump's last lines; `\unrestrict <key>` follows them since 15.14 / 16.10 / 17.6. */
const TRAILER = /-- PostgreSQL database dump complete\r?\n--\s*(\\unrestrict [A-Za-z0-9]+\s*)?$/;
const TAIL_BYTES = 512;

/**
 * Plain SQL cut at a line boundary is still valid SQL: restored, it would silently replace the
 * database with part of the backup. pg_dump ends every complete dump with a fixed trailer, so a
 * file without it is refused as truncated (or as not being a pg_dump file) before COMMIT.
 */
export function requireDumpTrailer(): Transform {
  let tail = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > TAIL_BYTES) tail = tail.subarray(tail.length - TAIL_BYTES);
      callback(null, chunk);
    },
    flush(callback) {
      if (TRAILER.test(tail.toString('utf8'))) callback();
      else
        callback(
          new EngineError(
            'archive/truncated',
            'The SQL file does not end with pg_dump\'s "dump complete" line: it is truncated, or not a complete pg_dump file. Nothing was changed.',
          ),
        );
    },
  });
}
