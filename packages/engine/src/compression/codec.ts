import type { Transform } from 'node:stream';
import { constants, createZstdCompress, createZstdDecompress } from 'node:zlib';
import { EngineError } from '../errors.js';
import { type ExpansionLimit, expansionGuard } from './expansion-limit.js';

/**
 * The outer stream around pg_dump's output. zstd: `pg_dump -Fc -Z0 | zstd` (`.dump.zst`), which
 * pg_restore 15 reads after `zstd -d`; gzip: plain SQL's own (`.sql.gz`); none: the bytes as
 * pg_dump wrote them (its own compression inside a custom archive).
 */
export type Codec = 'zstd' | 'gzip' | 'none';

export const CODECS: readonly Codec[] = ['zstd', 'gzip', 'none'];

/**
 * The largest zstd window decompression accepts: 2^27 = 128 MiB, zstd's own default limit. A frame
 * that asks for more (`zstd --long=31`: 2 GiB of memory) is refused before any memory is taken.
 */
export const ZSTD_WINDOW_LOG_MAX = 27;

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

export function isZstd(head: Buffer): boolean {
  return head.length >= 4 && head.subarray(0, 4).equals(ZSTD_MAGIC);
}

/**
 * zlib's output buffer. Its default (16 KB) sends every 16 KB of output back from the thread pool
 * to the main thread before zstd may go on: measured with `pnpm bench stages`, 1 MB cut the CPU per
 * MB by a quarter compressing and by two thirds decompressing (which writes ~3-7× more than it reads).
 */
const ZSTD_CHUNK_BYTES = 1024 * 1024;

/**
 * zstd at `level` with a frame checksum, so `zstd -d` alone detects a damaged file. `consumed` is
 * told of each input chunk once zstd has taken all of it (zstd copies its input: the chunk's
 * memory may be reused from then on).
 */
export function zstdCompressor(level: number, consumed?: (chunk: Buffer) => void): Transform {
  const compressor = createZstdCompress({
    chunkSize: ZSTD_CHUNK_BYTES,
    params: { [constants.ZSTD_c_compressionLevel]: level, [constants.ZSTD_c_checksumFlag]: 1 },
  });
  if (consumed) {
    // zlib calls a chunk's callback when its last byte went in, not before.
    const transform = compressor._transform.bind(compressor);
    compressor._transform = (chunk: Buffer, encoding, callback) =>
      transform(chunk, encoding, (error) => {
        consumed(chunk);
        callback(error);
      });
  }
  return compressor;
}

export function zstdDecompressor(): Transform {
  return createZstdDecompress({
    chunkSize: ZSTD_CHUNK_BYTES,
    params: { [constants.ZSTD_d_windowLogMax]: ZSTD_WINDOW_LOG_MAX },
  });
}

/**
 * The stages that turn stored bytes into pg_dump's output (plain-gzip keeps its gzip: it is part of
 * that format): the decompressor, then a guard that fails the stream past `maxBytes` (a bomb).
 */
export function decodeStages(codec: Codec, maxBytes: number, limit?: ExpansionLimit): Transform[] {
  return codec === 'zstd' ? [zstdDecompressor(), expansionGuard(maxBytes, limit)] : [];
}

/** zlib's zstd errors as the coded errors users see; anything else unchanged. */
export function zstdError(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'Z_BUF_ERROR') return new EngineError('archive/truncated', 'The zstd file is truncated.');
  if (code === 'ZSTD_error_frameParameter_windowTooLarge') {
    return new EngineError(
      'archive/window-too-large',
      `The zstd file needs a window larger than ${2 ** (ZSTD_WINDOW_LOG_MAX - 20)} MiB to decompress (made with zstd --long or --ultra?): refused, as a decompression bomb would be. Recompress it with default settings. Nothing was changed.`,
    );
  }
  if (typeof code === 'string' && code.startsWith('ZSTD_error_')) {
    return new EngineError('archive/corrupt', `The zstd file is corrupt (${code.slice('ZSTD_error_'.length)}).`);
  }
  return error;
}
