// The world the e2e suite runs in: target and metadata databases on the throwaway PostgreSQL, the
// real server (app + HTTP on port 0) serving the built panel, and Debian's Chromium.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type TestDatabase, createTestDatabase, withSql } from '@pgbs/test-support';
import { type Browser, chromium } from 'playwright-core';
import { type App, createApp } from '../../server/src/app.js';
import { loadConfig } from '../../server/src/config.js';
import { type HttpService, startHttpServer } from '../../server/src/http/http-server.js';
import type { Logger } from '../../server/src/logger.js';

export const WEB_DIR = fileURLToPath(new URL('..', import.meta.url));
export const REPO_DIR = path.resolve(WEB_DIR, '../..');
export const SCREENSHOT_DIR = path.join(REPO_DIR, 'docs', 'screenshots');
export const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-password-1' };

/** The target's small table set; the uploaded dump holds the same tables with other rows. */
export const TARGET_SQL = `
CREATE TABLE projects (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE people (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL,
  project_id integer REFERENCES projects);
INSERT INTO projects VALUES (1, 'Apollo'), (2, 'Gemini');
INSERT INTO people (name, project_id) VALUES ('Ada', 1), ('Grace', 2), ('Linus', 2);
`;
export const UPLOAD_SQL = `
CREATE TABLE projects (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE people (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL,
  project_id integer REFERENCES projects);
INSERT INTO projects VALUES (10, 'Mercury'), (11, 'Voyager'), (12, 'Ünïcode ✓');
INSERT INTO people (name, project_id) VALUES ('Katherine', 10), ('Margaret', 11);
`;

export interface World {
  app: App;
  http: HttpService;
  browser: Browser;
  target: TestDatabase;
  /** Where the test's own files live (the uploaded dump, the big file). */
  workDir: string;
  /** A gzipped plain pg_dump of another database holding UPLOAD_SQL's data. */
  uploadFile: string;
  /** Errors the server logged (shown when a test fails). */
  serverErrors: string[];
  query<T>(text: string): Promise<T[]>;
  close(): Promise<void>;
}

/** pg_dump from PATH or the newest /usr/lib/postgresql/<n>/bin. */
function pgDumpPath(): string {
  const which = spawnSync('sh', ['-c', 'command -v pg_dump'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  const versions = spawnSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin/pg_dump | sort -V | tail -1'], {
    encoding: 'utf8',
  });
  const found = versions.stdout.trim();
  if (!found || !existsSync(found)) throw new Error('pg_dump not found (apt-get install postgresql-client)');
  return found;
}

async function makeUploadFile(adminUrl: string, workDir: string): Promise<string> {
  const source = await createTestDatabase(adminUrl, 'e2e_source');
  try {
    await withSql(source.url, (sql) => sql.unsafe(UPLOAD_SQL));
    const dump = spawnSync(
      pgDumpPath(),
      ['--format=plain', '--no-owner', '--no-privileges', `--dbname=${source.url}`],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    if (dump.status !== 0) throw new Error(`pg_dump failed: ${dump.stderr.toString()}`);
    const file = path.join(workDir, 'staging-export.sql.gz');
    await writeFile(file, gzipSync(dump.stdout));
    return file;
  } finally {
    await source.drop();
  }
}

/** `overrides`: more configuration (e.g. MASTER_KEY, so targets can store a password). */
export async function startWorld(adminUrl: string, overrides: Record<string, string> = {}): Promise<World> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'pgbs-e2e-'));
  const backupDir = path.join(workDir, 'backups');
  const target = await createTestDatabase(adminUrl, 'e2e_target');
  const metadata = await createTestDatabase(adminUrl, 'e2e_meta');
  await withSql(target.url, (sql) => sql.unsafe(TARGET_SQL));
  const uploadFile = await makeUploadFile(adminUrl, workDir);

  const serverErrors: string[] = [];
  const logger: Logger = {
    info: () => {},
    warn: () => {},
    error: (message, fields) =>
      serverErrors.push(
        `${message} ${JSON.stringify(fields ?? {}, (_key, value: unknown) => (value instanceof Error ? value.stack : value))}`,
      ),
  };
  const config = loadConfig({
    DATABASE_URL: target.url,
    METADATA_DATABASE_URL: metadata.url,
    BACKUP_DIR: backupDir,
    PANEL_DIR: path.join(WEB_DIR, 'dist'),
    JOB_TIMEOUT_SECONDS: '300',
    LOCK_TIMEOUT_SECONDS: '60',
    ...overrides,
  });
  const app = await createApp(config, logger);
  await app.auth.createUser(ADMIN.email, ADMIN.password, 'admin');
  const http = await startHttpServer(app, logger, 0);
  const browser = await chromium.launch({
    executablePath: process.env['PGBS_CHROMIUM'] ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });

  return {
    app,
    http,
    browser,
    target,
    workDir,
    uploadFile,
    serverErrors,
    query: <T>(text: string) => withSql(target.url, async (sql) => (await sql.unsafe(text)) as unknown as T[]),
    async close() {
      await browser.close().catch(() => {});
      await http.close().catch(() => {});
      // A job still finishing (a test failed midway) must not write to a closed metadata database.
      await waitForIdleJobs(app);
      await app.close().catch(() => {});
      await target.drop().catch(() => {});
      await metadata.drop().catch(() => {});
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

async function waitForIdleJobs(app: App): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const jobs = await app.jobs.list({ limit: 100, offset: 0 }).catch(() => []);
    if (!jobs.some((job) => job.state === 'queued' || job.state === 'running')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Files in a directory that may not exist yet. */
export async function filesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
