import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type TestDatabase, createTestDatabase, loadFeatureRichSchema, withSql } from '@pgbs/test-support';
import { type App, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { isCodedError } from '../../src/errors/service-error.js';
import type { Logger } from '../../src/logger.js';

/** Polls `probe` every 50 ms until it returns something other than undefined. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The coded error a promise rejects with (undefined when it resolves). */
export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => (isCodedError(error) ? error.code : String(error)),
  );
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export interface TestEnv {
  target: TestDatabase;
  metadata: TestDatabase;
  backupDir: string;
  env: Record<string, string>;
  startApp(overrides?: Record<string, string>, options?: Parameters<typeof createApp>[2]): Promise<App>;
  cleanup(): Promise<void>;
}

/**
 * createTestEnv with the feature-rich target and one table big enough that backing it up and
 * restoring it take a few seconds on two cores: time to interrupt a real job.
 */
export async function createBigTestEnv(adminUrl: string, prefix: string): Promise<TestEnv> {
  const env = await createTestEnv(adminUrl, prefix);
  await loadFeatureRichSchema(env.target.url);
  await addBigTable(env.target.url);
  return env;
}

/** A table of a million rows (about 100 MB): a backup or restore of it takes seconds on two cores. */
export async function addBigTable(url: string): Promise<void> {
  await withSql(url, (sql) =>
    sql.unsafe(`CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 6) AS v FROM generate_series(1, 1000000) g;`),
  );
}

/** A target and a metadata database of their own, and a backup directory, for one test file. */
export async function createTestEnv(adminUrl: string, prefix: string): Promise<TestEnv> {
  const target = await createTestDatabase(adminUrl, `${prefix}_target`);
  const metadata = await createTestDatabase(adminUrl, `${prefix}_meta`);
  const backupDir = await mkdtemp(path.join(tmpdir(), `pgbs-${prefix}-`));
  const env = {
    DATABASE_URL: target.url,
    METADATA_DATABASE_URL: metadata.url,
    BACKUP_DIR: backupDir,
    JOB_TIMEOUT_SECONDS: '300',
    LOCK_TIMEOUT_SECONDS: '5',
  };
  const apps: App[] = [];
  return {
    target,
    metadata,
    backupDir,
    env,
    async startApp(overrides = {}, options = {}) {
      const app = await createApp(loadConfig({ ...env, ...overrides }), silentLogger, options);
      apps.push(app);
      return app;
    },
    async cleanup() {
      for (const app of apps) await app.close().catch(() => {});
      await target.drop();
      await metadata.drop();
      await rm(backupDir, { recursive: true, force: true });
    },
  };
}
