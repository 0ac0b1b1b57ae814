import { randomUUID } from 'node:crypto';
import { type WriteStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PRIVATE_FILE_MODE, ensurePrivateDirectory } from './private-files.js';

/** What a resolver gets for a `File` argument: an upload, complete on disk. */
export class SpooledFile {
  #retained = false;

  constructor(
    readonly path: string,
    /** The client's name for the file, sanitized: for display only, never used as a path. */
    readonly filename: string,
    readonly mimeType: string,
    readonly size: number,
  ) {}

  get retained(): boolean {
    return this.#retained;
  }

  /** Keeps the file after the request has ended (a job reads it later); deletes it once `settled` settles. */
  retainUntil(settled: Promise<unknown>): void {
    this.#retained = true;
    // A temp file that could not be deleted is not worth an unhandled rejection.
    const remove = () => rm(this.path, { force: true }).catch(() => {});
    void settled.then(remove, remove);
  }
}

interface Entry {
  path: string;
  writer: WriteStream;
  file?: SpooledFile;
}

/**
 * The temp files of one request, the only code that writes to the upload directory. cleanup()
 * deletes every file that no job has retained, including half-written ones.
 */
export class UploadSpool {
  private readonly entries: Entry[] = [];
  private closed = false;

  constructor(private readonly directory: string) {}

  /** Creates the directory (owner only: uploads hold database contents). Call before write(). */
  prepare(): Promise<void> {
    return ensurePrivateDirectory(this.directory);
  }

  /** Streams `source` through `check` into a new temp file, with backpressure: never held in memory. */
  async write(source: Readable, check: Transform, meta: { filename: string; mimeType: string }): Promise<SpooledFile> {
    // Registered before anything is awaited, so a cleanup running meanwhile always sees the file.
    if (this.closed) throw new Error('the upload was already cleaned up');
    const filePath = path.join(this.directory, `${randomUUID()}.upload`);
    const entry: Entry = {
      path: filePath,
      writer: createWriteStream(filePath, { flags: 'wx', mode: PRIVATE_FILE_MODE }),
    };
    this.entries.push(entry);
    await pipeline(source, check, entry.writer);
    entry.file = new SpooledFile(entry.path, sanitizeFilename(meta.filename), meta.mimeType, entry.writer.bytesWritten);
    return entry.file;
  }

  async cleanup(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.entries
        .filter((entry) => !entry.file?.retained)
        .map(async (entry) => {
          // Closed first: deleting before a pending open would let the open create the file again.
          // Its write error (if any) goes to the pipeline in write().
          if (!entry.writer.closed) {
            const closed = new Promise<void>((resolve) => entry.writer.once('close', () => resolve()));
            entry.writer.destroy();
            await closed;
          }
          await rm(entry.path, { force: true });
        }),
    );
  }
}

/** The last path segment, without control or format characters (bidi overrides), bounded. */
function sanitizeFilename(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? '';
  return (
    base
      .replace(/[\p{Cc}\p{Cf}]/gu, '')
      .trim()
      .slice(0, 200) || 'upload'
  );
}
