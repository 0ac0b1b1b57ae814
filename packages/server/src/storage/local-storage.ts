import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, open, readFile, readdir, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ServiceError } from '../errors/service-error.js';
import { type BackupManifest, MANIFEST_SUFFIX, parseManifest } from './manifest.js';
import { PRIVATE_FILE_MODE, ensurePrivateDirectory } from './private-files.js';

export interface PartialFile {
  readonly path: string;
  readonly stream: Writable;
  /** Flushes the data to disk, renames it into place and writes its manifest (a file kept beside a backup has none). */
  commit(manifest?: BackupManifest): Promise<void>;
  /** Removes whatever was written. Safe to call more than once. */
  abort(): Promise<void>;
}

/** Backups on a local directory; the interface is what object storage would implement later. */
export interface BackupStorage {
  readonly location: string;
  createPartial(fileName: string): Promise<PartialFile>;
  /** Moves a validated file (an upload) into storage under fileName. */
  importFile(sourcePath: string, manifest: BackupManifest): Promise<void>;
  pathOf(fileName: string): string;
  openRead(fileName: string, range?: { start: number; end: number }): Readable;
  exists(fileName: string): Promise<boolean>;
  /** The stored file's size in bytes; null when it is missing. */
  sizeOf(fileName: string): Promise<number | null>;
  remove(fileName: string): Promise<void>;
  removePath(filePath: string): Promise<void>;
  listManifests(): Promise<{ manifests: BackupManifest[]; unreadable: string[] }>;
  freeBytes(): Promise<number>;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** File names are generated, but check anyway: nothing may escape the directory. */
function assertSafeName(fileName: string): void {
  if (!SAFE_NAME.test(fileName) || fileName.includes('..')) {
    throw new ServiceError('input/invalid', `Unsafe backup file name: ${JSON.stringify(fileName)}`);
  }
}

export function localStorage(directory: string): BackupStorage {
  const pathOf = (fileName: string) => {
    assertSafeName(fileName);
    return path.join(directory, fileName);
  };
  const writeManifest = async (manifest: BackupManifest) => {
    const target = pathOf(manifest.fileName) + MANIFEST_SUFFIX;
    await writeFile(`${target}.partial`, JSON.stringify(manifest, null, 2) + '\n', { mode: PRIVATE_FILE_MODE });
    await rename(`${target}.partial`, target);
  };
  const ready = ensurePrivateDirectory(directory);

  return {
    location: directory,
    pathOf,
    async createPartial(fileName) {
      await ready;
      const finalPath = pathOf(fileName);
      const partialPath = `${finalPath}.partial`;
      // Room for a few MB: a write in flight must not pause the pipe from pg_dump (see ROOMY_STREAM).
      const stream = createWriteStream(partialPath, {
        flags: 'wx',
        mode: PRIVATE_FILE_MODE,
        highWaterMark: 4 * 1024 * 1024,
      });
      const opened = new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', reject);
      });
      await opened;
      const abort = async () => {
        stream.destroy();
        await rm(partialPath, { force: true });
      };
      return {
        path: partialPath,
        stream,
        async commit(manifest) {
          if (!stream.writableFinished) await finished(stream);
          // fsync before rename: a crash must never leave a complete-looking truncated file.
          const handle = await open(partialPath, 'r');
          try {
            await handle.sync();
          } finally {
            await handle.close();
          }
          await rename(partialPath, finalPath);
          if (manifest) await writeManifest(manifest);
        },
        abort,
      };
    },
    async importFile(sourcePath, manifest) {
      await ready;
      const finalPath = pathOf(manifest.fileName);
      const partialPath = `${finalPath}.partial`;
      // The upload spool wrote the source 0600; a copy (another file system) keeps that mode.
      try {
        await rename(sourcePath, partialPath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
        await copyFile(sourcePath, partialPath);
        await rm(sourcePath, { force: true });
      }
      await rename(partialPath, finalPath);
      await writeManifest(manifest);
    },
    openRead(fileName, range) {
      return createReadStream(pathOf(fileName), range);
    },
    async exists(fileName) {
      try {
        const handle = await open(pathOf(fileName), 'r');
        await handle.close();
        return true;
      } catch {
        return false;
      }
    },
    async sizeOf(fileName) {
      try {
        return (await stat(pathOf(fileName))).size;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async remove(fileName) {
      // Manifest first: a file without a manifest is an orphan rescan reports, never a ghost backup.
      await rm(pathOf(fileName) + MANIFEST_SUFFIX, { force: true });
      await rm(pathOf(fileName), { force: true });
    },
    async removePath(filePath) {
      const resolved = path.resolve(filePath);
      if (path.dirname(resolved) !== path.resolve(directory)) return;
      await rm(resolved, { force: true });
    },
    async listManifests() {
      await ready;
      const manifests: BackupManifest[] = [];
      const unreadable: string[] = [];
      for (const entry of await readdir(directory)) {
        if (!entry.endsWith(MANIFEST_SUFFIX)) continue;
        const manifest = parseManifest(await readFile(path.join(directory, entry), 'utf8'));
        if (manifest && manifest.fileName + MANIFEST_SUFFIX === entry) manifests.push(manifest);
        else unreadable.push(entry);
      }
      return { manifests, unreadable };
    },
    async freeBytes() {
      await ready;
      const stats = await statfs(directory);
      return stats.bavail * stats.bsize;
    },
  };
}
