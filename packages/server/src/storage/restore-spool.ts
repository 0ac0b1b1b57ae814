import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ByteSource } from '@pgbs/engine';
import { ServiceError } from '../errors/service-error.js';
import { PRIVATE_FILE_MODE, ensurePrivateDirectory } from './private-files.js';

/** Local temporary copies of stored backups, for restores that must not read storage as one stream. */
export interface RestoreSpool {
  freeBytes(): Promise<number>;
  /**
   * Copies the bytes into a private temporary file; its source, and a release that deletes it.
   * Exactly `source.sizeBytes` (the catalog's size, which the free-space check was made for): a
   * source that gives more is cut off before the excess is written, one that gives fewer refused,
   * both `storage/size-mismatch` with the file deleted.
   */
  copy(source: ByteSource, signal: AbortSignal): Promise<{ source: ByteSource; release(): Promise<void> }>;
}

/** Spools under the instance's own directory (UPLOAD_TEMP_DIR/<instance>): a dead instance's are swept at start. */
export function localRestoreSpool(directory: string): RestoreSpool {
  return {
    async freeBytes() {
      await ensurePrivateDirectory(directory);
      const stats = await statfs(directory);
      return stats.bavail * stats.bsize;
    },
    async copy(source, signal) {
      await ensurePrivateDirectory(directory);
      const file = path.join(directory, `${randomUUID()}.restore`);
      const release = () => rm(file, { force: true });
      try {
        await pipeline(
          await source.open(),
          exactSize(source.sizeBytes),
          createWriteStream(file, { flags: 'wx', mode: PRIVATE_FILE_MODE }),
          { signal },
        );
      } catch (error) {
        await release();
        throw error;
      }
      return { source: { sizeBytes: source.sizeBytes, open: async () => createReadStream(file) }, release };
    },
  };
}

/**
 * Passes exactly `expected` bytes: storage that answers with more than the catalog recorded (a
 * replaced object, a hostile endpoint) must not fill the disk the free-space check measured.
 */
function exactSize(expected: number): Transform {
  let seen = 0;
  const mismatch = (what: string) =>
    new ServiceError(
      'storage/size-mismatch',
      `The stored backup ${what} the ${expected} bytes its catalog records: it was changed or replaced in storage. The local copy was deleted; nothing was restored.`,
      { expectedBytes: expected },
    );
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      callback(seen > expected ? mismatch('holds more than') : null, seen > expected ? undefined : chunk);
    },
    flush(callback) {
      callback(seen < expected ? mismatch('holds fewer than') : null);
    },
  });
}
