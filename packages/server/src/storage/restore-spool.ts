import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ByteSource } from '@pgbs/engine';
import { PRIVATE_FILE_MODE, ensurePrivateDirectory } from './private-files.js';

/** Local temporary copies of stored backups, for restores that must not read storage as one stream. */
export interface RestoreSpool {
  freeBytes(): Promise<number>;
  /** Copies the bytes into a private temporary file; its source, and a release that deletes it. */
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
        await pipeline(await source.open(), createWriteStream(file, { flags: 'wx', mode: PRIVATE_FILE_MODE }), {
          signal,
        });
      } catch (error) {
        await release();
        throw error;
      }
      return { source: { sizeBytes: source.sizeBytes, open: async () => createReadStream(file) }, release };
    },
  };
}
