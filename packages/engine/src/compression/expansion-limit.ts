import { Transform } from 'node:stream';
import { EngineError } from '../errors.js';
import { ROOMY_STREAM } from '../streams/chunk-batcher.js';

/**
 * How far decoding may grow a file, against decompression bombs: a few KiB of zstd or gzip can
 * expand to terabytes, which would fill a restore's target or a spool. The cap is `ratio` times the
 * stored size, and never less than `floorBytes` (a small dump of repetitive rows compresses well).
 */
export interface ExpansionLimit {
  ratio: number;
  floorBytes: number;
}

/**
 * 200×: pg_dump -Z0 output of the bench's datasets compresses 2-5× with zstd (`pnpm bench
 * compression`; 7× in the design notes' measurement), text dumps of very
 * repetitive tables 20–50×; 200× leaves room for those. The floor, 1 GiB, covers the tiny files
 * where ratios mean nothing. MAX_EXPANSION_RATIO (server config) raises the ratio.
 */
export const DEFAULT_EXPANSION_LIMIT: ExpansionLimit = { ratio: 200, floorBytes: 1024 ** 3 };

/** The most decoded bytes a source of `storedBytes` may give. */
export function maxDecodedBytes(storedBytes: number, limit: ExpansionLimit = DEFAULT_EXPANSION_LIMIT): number {
  return Math.max(limit.floorBytes, storedBytes * limit.ratio);
}

/**
 * Passes bytes through until `maxBytes` have gone by; the chunk that would cross the cap fails the
 * stream with `archive/expansion-too-large` instead, so not one byte beyond it reaches the sink.
 */
export function expansionGuard(maxBytes: number, limit: ExpansionLimit = DEFAULT_EXPANSION_LIMIT): Transform {
  let seen = 0;
  return new Transform({
    // Roomy: a 16 KB buffer would pause the tool writing into it after every chunk.
    ...ROOMY_STREAM,
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > maxBytes) {
        callback(
          new EngineError(
            'archive/expansion-too-large',
            `The file decompresses to more than ${mib(maxBytes)} MiB, over ${limit.ratio} times its stored size: refused, as a decompression bomb would be. If it is a real backup of very repetitive data, raise MAX_EXPANSION_RATIO. Nothing was changed.`,
            { maxBytes },
          ),
        );
        return;
      }
      callback(null, chunk);
    },
  });
}

const mib = (bytes: number) => Math.floor(bytes / 1024 / 1024);
