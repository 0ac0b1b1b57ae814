import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { ServiceError, isCodedError } from '../errors/service-error.js';
import { MANIFEST_SUFFIX } from './manifest.js';
import { type ObjectStorage, type ObjectWriter, isSafeObjectName } from './object-storage.js';
import { PRIVATE_FILE_MODE, ensurePrivateDirectory } from './private-files.js';

const PARTIAL = '.partial';

/** File names are generated, but check anyway: nothing may escape the directory. */
function assertSafeName(name: string): void {
  if (!isSafeObjectName(name)) {
    throw new ServiceError('input/invalid', `Unsafe backup file name: ${JSON.stringify(name)}`);
  }
}

/**
 * Backups as files of a local directory (0700, files 0600). A writer writes `<name>.partial`,
 * fsyncs it and renames it into place on commit: a crash never leaves a complete-looking
 * truncated file, and recovery removes the partial file by its ref (the partial's name).
 */
export function localObjectStorage(directory: string): ObjectStorage {
  const fileOf = (name: string) => {
    assertSafeName(name);
    return path.join(directory, name);
  };
  const ready = ensurePrivateDirectory(directory);

  const storage: ObjectStorage = {
    kind: 'local',
    location: directory,
    async createWriter(name) {
      await ready;
      const finalPath = fileOf(name);
      const partialRef = `${name}${PARTIAL}`;
      const partialPath = path.join(directory, partialRef);
      // Room for a few MB: a write in flight must not pause the pipe from pg_dump (see ROOMY_STREAM).
      const stream = createWriteStream(partialPath, {
        flags: 'wx',
        mode: PRIVATE_FILE_MODE,
        highWaterMark: 4 * 1024 * 1024,
      });
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', reject);
      });
      const writer: ObjectWriter = {
        partialRef,
        stream,
        async commit() {
          if (!stream.writableFinished) await finished(stream);
          // fsync before rename: a crash must never leave a complete-looking truncated file.
          const handle = await open(partialPath, 'r');
          try {
            await handle.sync();
          } finally {
            await handle.close();
          }
          await rename(partialPath, finalPath);
          return { sizeBytes: stream.bytesWritten };
        },
        async abort() {
          stream.destroy();
          await rm(partialPath, { force: true });
        },
      };
      return writer;
    },
    async openRead(name, range) {
      const stream = createReadStream(fileOf(name), range);
      // A missing file fails here, not on the first read, as for object storage.
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', reject);
      });
      return stream;
    },
    async stat(name) {
      try {
        const stats = await stat(fileOf(name));
        return stats.isFile() ? { sizeBytes: stats.size } : null;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async list(suffix = '') {
      await ready;
      const objects = [];
      for (const entry of await readdir(directory, { withFileTypes: true })) {
        if (!entry.isFile() || !entry.name.endsWith(suffix) || entry.name.endsWith(PARTIAL)) continue;
        if (!isSafeObjectName(entry.name)) continue;
        const size = await storage.stat(entry.name);
        if (size) objects.push({ name: entry.name, sizeBytes: size.sizeBytes });
      }
      return objects;
    },
    async remove(name) {
      await rm(fileOf(name), { force: true });
    },
    async discardPartial(partialRef) {
      // Only a partial file of this directory: a ref from elsewhere (a first-stage absolute path) is reduced to its name.
      const name = path.basename(partialRef);
      if (!name.endsWith(PARTIAL) || !isSafeObjectName(name)) return;
      await rm(path.join(directory, name), { force: true });
    },
    async freeBytes() {
      await ready;
      const stats = await statfs(directory);
      return stats.bavail * stats.bsize;
    },
    async test() {
      const name = `pgbs-probe-${randomUUID()}`;
      try {
        const writer = await storage.createWriter(name);
        writer.stream.end('probe');
        await writer.commit();
        try {
          const read = await storage.openRead(name);
          for await (const _chunk of read) {
            // read back completely
          }
        } finally {
          await storage.remove(name);
        }
      } catch (error) {
        // A test result, not a crash: a read-only mount or a missing permission is the answer.
        const code = (error as NodeJS.ErrnoException).code;
        if (!code || isCodedError(error)) throw error;
        throw new ServiceError('destination/failed', `Cannot write to ${directory} (${code}).`);
      }
    },
  };
  return storage;
}

/**
 * A directory an administrator gives a new local destination. The service makes it owner-only
 * (chmod 0700), so it must be its own: missing (it is created), empty, or already holding backups
 * (manifests) — never "/" or a system directory that happens to exist.
 */
export async function checkLocalDirectory(directory: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new ServiceError(
      'input/invalid',
      `${directory} cannot be used as a backup directory (${code ?? 'unreadable'}).`,
    );
  }
  if (entries.length === 0 || entries.some((entry) => entry.endsWith(MANIFEST_SUFFIX))) return;
  throw new ServiceError(
    'input/invalid',
    `${directory} holds other files: a local destination needs a new or empty directory, or one that holds backups (it is made owner-only).`,
  );
}
