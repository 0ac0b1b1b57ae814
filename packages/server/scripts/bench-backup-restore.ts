// `pnpm bench backup-restore [--size-mb 1024] [--runs 3] [--out FILE]`: the service's backup and
// restore through the GraphQL API against the raw tools on the same database, on a throwaway
// embedded PostgreSQL. Each run: raw `pg_dump -Fc`, the service's createBackup, raw
// `pg_restore --single-transaction --clean --if-exists` and the service's restoreBackup; the service
// is timed from the mutation until the jobProgress subscription (graphql-ws) reports succeeded.
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import postgres from 'postgres';
import WebSocket from 'ws';
import {
  MB,
  type Server,
  type ThrowawayPostgres,
  exec,
  login,
  progress,
  readRss,
  startServer,
  startThrowawayPostgres,
  timed,
} from './bench-support.js';

const TARGET_DB = 'bench_target';
const METADATA_DB = 'bench_metadata';
const TARGETS = { backup: 1.05, restore: 1.1 };
const SMALL_TABLES = 200;

export async function run(args: string[]): Promise<void> {
  const options = parseOptions(args);
  const work = await mkdtemp(path.join(tmpdir(), 'pgbs-bench-'));
  // As root, embedded PostgreSQL runs as the postgres user, which must reach its data directory.
  await chmod(work, 0o755);
  let pg: ThrowawayPostgres | undefined;
  let server: Server | undefined;
  let ws: Client | undefined;
  try {
    progress('starting a throwaway embedded PostgreSQL');
    pg = await startThrowawayPostgres(path.join(work, 'pg'));
    const admin = postgres(pg.url('postgres'), { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${TARGET_DB}`);
    await admin.unsafe(`CREATE DATABASE ${METADATA_DB}`);
    await admin.end();
    progress(`generating a target database of about ${options.sizeMb} MB`);
    const dbBytes = await generateDatabase(pg.url(TARGET_DB), options.sizeMb);

    progress('starting the service');
    server = await startServer({
      DATABASE_URL: pg.url(TARGET_DB),
      METADATA_DATABASE_URL: pg.url(METADATA_DB),
      DATA_DIR: path.join(work, 'data'),
      BACKUP_DIR: path.join(work, 'backups'),
      // The bench starts more jobs than an operator would; the limiter must not time them.
      RATE_LIMIT_JOBS_PER_HOUR: '100000',
    });
    const api = await connectApi(server.url);
    ws = api.ws;

    const raw = new RawTools(pg, path.join(work, 'raw'));
    await mkdir(raw.dir);
    const runs: RunResult[] = [];
    for (let i = 1; i <= options.runs; i++) {
      progress(`run ${i}/${options.runs}`);
      runs.push(await measureRun(pg, raw, api, server.pid, i));
    }
    const report = renderReport(runs, await machineFacts(pg), dbBytes, options, args);
    process.stdout.write(report);
    if (options.out) await writeFile(options.out, report);
    if (!targetsMet(runs)) process.exitCode = 1;
  } finally {
    await ws?.dispose();
    await server?.stop();
    await pg?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

interface Options {
  sizeMb: number;
  runs: number;
  out: string | undefined;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      'size-mb': { type: 'string', default: '1024' },
      runs: { type: 'string', default: '3' },
      out: { type: 'string' },
    },
  });
  const sizeMb = Number(values['size-mb']);
  const runs = Number(values.runs);
  if (!Number.isInteger(sizeMb) || sizeMb < 1) throw new Error('--size-mb must be a positive integer');
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  // pnpm runs the script in packages/server; a relative --out means where the user typed it.
  const out = values.out && path.resolve(process.env.INIT_CWD ?? process.cwd(), values.out);
  return { sizeMb, runs, out };
}

// ---------------------------------------------------------------------------------------------
// The target database

/**
 * Three shapes, generated server-side (no bytes through the client): half of the size in a wide
 * table whose 4 KB text values are TOASTed (hex of md5s: pglz can't shrink them much, like real
 * documents), most of the rest in a narrow many-row table with two secondary indexes (index builds
 * dominate its restore), and 200 small tables (many TOC entries: per-object overhead).
 */
async function generateDatabase(url: string, sizeMb: number): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const wideRows = Math.max(1, Math.round((sizeMb * MB * 0.5) / 4200));
    const narrowRows = Math.max(1, Math.round((sizeMb * MB * 0.4) / 160));
    await sql.unsafe(`
      CREATE TABLE wide_documents (id bigint PRIMARY KEY, title text NOT NULL, body text NOT NULL);
      INSERT INTO wide_documents
        SELECT g, 'document ' || g,
               (SELECT string_agg(md5(random()::text || g || s), '') FROM generate_series(1, 128) s)
        FROM generate_series(1, ${wideRows}) g;

      CREATE TABLE narrow_events (
        id bigint PRIMARY KEY, account_id int NOT NULL, created_at timestamptz NOT NULL,
        amount numeric(12, 2) NOT NULL, status smallint NOT NULL);
      INSERT INTO narrow_events
        SELECT g, (random() * 50000)::int, now() - random() * interval '365 days',
               round((random() * 10000)::numeric, 2), (random() * 5)::int
        FROM generate_series(1, ${narrowRows}) g;
      CREATE INDEX narrow_events_account ON narrow_events (account_id, created_at);
      CREATE INDEX narrow_events_status ON narrow_events (status);
    `);
    for (let i = 1; i <= SMALL_TABLES; i++) {
      await sql.unsafe(`
        CREATE TABLE small_${i} (id int PRIMARY KEY, name text NOT NULL, value double precision);
        INSERT INTO small_${i} SELECT g, 'item ' || g, random() FROM generate_series(1, 500) g;`);
    }
    // Hint bits and statistics now, not during the first timed dump.
    await sql.unsafe('VACUUM ANALYZE');
    const [row] = await sql`SELECT pg_database_size(current_database())::bigint AS bytes`;
    return Number(row!.bytes);
  } finally {
    await sql.end();
  }
}

// ---------------------------------------------------------------------------------------------
// The raw tools

/** pg_dump / pg_restore against the throwaway server; the password travels in PGPASSWORD only. */
class RawTools {
  constructor(
    private readonly pg: ThrowawayPostgres,
    readonly dir: string,
  ) {}

  private run(tool: string, args: string[]) {
    return exec(tool, ['-h', '127.0.0.1', '-p', String(this.pg.port), '-U', 'postgres', ...args], {
      env: { ...process.env, PGPASSWORD: this.pg.password },
      maxBuffer: 64 * MB,
    });
  }

  dump(file: string) {
    return this.run('pg_dump', ['-Fc', '-f', file, TARGET_DB]);
  }

  /**
   * Into the target database itself, over its current content, like the service's restore: a fresh
   * scratch database would skip the DROPs of --clean and flatter the raw tool.
   */
  restore(file: string) {
    return this.run('pg_restore', ['--single-transaction', '--clean', '--if-exists', '-d', TARGET_DB, file]);
  }
}

/** Dirty pages flushed and a checkpoint taken between steps: background writes would blur timings. */
async function settle(pg: ThrowawayPostgres): Promise<void> {
  const sql = postgres(pg.url(TARGET_DB), { max: 1, onnotice: () => {} });
  try {
    // A restore leaves tuples without hint bits; the next dump would pay for setting them.
    await sql.unsafe('VACUUM ANALYZE');
    await sql.unsafe('CHECKPOINT');
  } finally {
    await sql.end();
  }
  await exec('sync');
}

// ---------------------------------------------------------------------------------------------
// The service's API

interface Api {
  url: string;
  token: string;
  ws: Client;
}

/** Logs in once for an admin API token (what an integration uses), and opens one graphql-ws connection. */
async function connectApi(url: string): Promise<Api> {
  const cookie = await login(url);
  const created = await graphql<{ createApiToken: { data?: { token: string } } }>(
    url,
    { cookie },
    'mutation { createApiToken(name: "bench") { ... on MutationCreateApiTokenSuccess { data { token } } ... on CodedError { code message } } }',
  );
  const token = created.createApiToken.data?.token;
  if (!token) throw new Error(`createApiToken failed: ${JSON.stringify(created)}`);
  const ws = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { token },
    lazy: false,
  });
  // Connected before any timing starts: the handshake is not part of a backup.
  await new Promise<void>((resolve, reject) => {
    ws.on('connected', () => resolve());
    ws.on('closed', (event) => reject(new Error(`graphql-ws closed: ${JSON.stringify(event)}`)));
  });
  return { url, token, ws };
}

async function graphql<T>(
  url: string,
  auth: { token?: string; cookie?: string },
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  if (auth.cookie) headers.cookie = auth.cookie;
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (body.errors || !body.data) throw new Error(`GraphQL error: ${JSON.stringify(body)}`);
  return body.data;
}

interface JobSnapshot {
  id: string;
  state: string;
  backupId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  progress: { percent: number; etaSeconds: number | null; phase: string } | null;
}

const JOB_FIELDS = 'id state backupId errorCode errorMessage progress { percent etaSeconds phase }';

/** A job's events as the client saw them, with the time of receipt (ms, performance.now()). */
interface Followed {
  events: { at: number; job: JobSnapshot }[];
  final: JobSnapshot;
}

/** jobProgress until the job ends; rejects unless it succeeded. */
function follow(ws: Client, jobId: string): Promise<Followed> {
  const events: Followed['events'] = [];
  return new Promise((resolve, reject) => {
    ws.subscribe<{ jobProgress: JobSnapshot }>(
      { query: `subscription($id: ID!) { jobProgress(jobId: $id) { ${JOB_FIELDS} } }`, variables: { id: jobId } },
      {
        next: ({ data, errors }) => {
          if (errors) return reject(new Error(`jobProgress: ${JSON.stringify(errors)}`));
          events.push({ at: performance.now(), job: data!.jobProgress });
        },
        error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => {
          const final = events.at(-1)?.job;
          if (final?.state === 'succeeded') resolve({ events, final });
          else reject(new Error(`job ${jobId} ended ${final?.state}: ${final?.errorCode} ${final?.errorMessage}`));
        },
      },
    );
  });
}

/** Starts a job with `mutation` (whose result is `{ data: Job } | CodedError`) and follows it to success. */
async function runJob(api: Api, field: string, mutation: string, variables: Record<string, unknown>) {
  const start = performance.now();
  const result = await graphql<Record<string, { data?: { id: string }; code?: string; message?: string }>>(
    api.url,
    { token: api.token },
    mutation,
    variables,
  );
  const job = result[field]!;
  if (!job.data) throw new Error(`${field} refused: ${job.code} ${job.message}`);
  // graphql-ws replays the job's current state first, so no event is lost to this late subscribe.
  const followed = await follow(api.ws, job.data.id);
  return { seconds: (followed.events.at(-1)!.at - start) / 1000, start, ...followed };
}

function serviceBackup(api: Api) {
  return runJob(
    api,
    'createBackup',
    `mutation { createBackup(description: "bench") { ... on MutationCreateBackupSuccess { data { id } } ... on CodedError { code message } } }`,
    {},
  );
}

function serviceRestore(api: Api, backupId: string) {
  return runJob(
    api,
    'restoreBackup',
    `mutation($id: ID!, $db: String!) { restoreBackup(id: $id, confirmation: $db, options: { safetySnapshot: false }) {
       ... on MutationRestoreBackupSuccess { data { id } } ... on CodedError { code message } } }`,
    { id: backupId, db: TARGET_DB },
  );
}

// ---------------------------------------------------------------------------------------------
// One run

interface ProgressStats {
  /** From the mutation to the first event reporting percent > 0. */
  firstEventSeconds: number | null;
  eventsPerSecond: number;
  /** Times the percent went down from one event to the next (0 = monotonic). */
  regressions: number;
  /** (ETA at the first snapshot >= 50%) / (actual remaining time) - 1; null when none had an ETA. */
  etaErrorAt50: number | null;
}

interface RunResult {
  raw: { backup: number; restore: number };
  service: { backup: number; restore: number };
  progress: { backup: ProgressStats; restore: ProgressStats };
  /** The server's peak RSS growth over its idle baseline during its backup and restore. */
  rssGrowth: number;
}

async function measureRun(
  pg: ThrowawayPostgres,
  raw: RawTools,
  api: Api,
  pid: number,
  index: number,
): Promise<RunResult> {
  const file = path.join(raw.dir, `run-${index}.dump`);
  await settle(pg);
  const rawBackup = await timed(() => raw.dump(file));
  await settle(pg);
  const rss = sampleRss(pid);
  const backup = await serviceBackup(api);
  const backupId = backup.final.backupId;
  if (!backupId) throw new Error('the backup job succeeded without a backupId');

  await settle(pg);
  const rawRestore = await timed(() => raw.restore(file));
  await settle(pg);
  const restore = await serviceRestore(api, backupId);
  const peak = await rss.stop();
  await rm(file);
  return {
    raw: { backup: rawBackup, restore: rawRestore },
    service: { backup: backup.seconds, restore: restore.seconds },
    progress: { backup: progressStats(backup), restore: progressStats(restore) },
    rssGrowth: peak.max - peak.baseline,
  };
}

function progressStats({ start, events }: { start: number; events: Followed['events'] }): ProgressStats {
  const end = events.at(-1)!.at;
  const first = events.find((e) => (e.job.progress?.percent ?? 0) > 0);
  let regressions = 0;
  for (let i = 1; i < events.length; i++) {
    if ((events[i]!.job.progress?.percent ?? 0) < (events[i - 1]!.job.progress?.percent ?? 0)) regressions++;
  }
  const half = events.find((e) => (e.job.progress?.percent ?? 0) >= 50);
  const eta = half?.job.progress?.etaSeconds;
  const remaining = half ? (end - half.at) / 1000 : 0;
  const span = (end - (first?.at ?? end)) / 1000;
  return {
    firstEventSeconds: first ? (first.at - start) / 1000 : null,
    eventsPerSecond: span > 0 ? events.length / span : 0,
    regressions,
    etaErrorAt50: eta != null && remaining > 0 ? eta / remaining - 1 : null,
  };
}

/** The server's RSS every 100 ms, to its peak; the baseline is the first sample. */
function sampleRss(pid: number) {
  const samples: number[] = [];
  const sample = () => readRss(pid).then((rss) => void samples.push(rss));
  const first = sample();
  const timer = setInterval(() => void sample(), 100);
  return {
    async stop() {
      clearInterval(timer);
      await first;
      return { baseline: samples[0]!, max: Math.max(...samples) };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The report

async function machineFacts(pg: ThrowawayPostgres) {
  const sql = postgres(pg.url('postgres'), { max: 1, onnotice: () => {} });
  const [row] = await sql`SELECT current_setting('server_version') AS version`;
  await sql.end();
  const version = async (tool: string) => (await exec(tool, ['--version'])).stdout.trim();
  return {
    cpus: availableParallelism(),
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    // Shows whether something else was using the CPUs while the bench ran.
    loadAverage: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    postgres: `PostgreSQL ${String(row!.version)} (embedded)`,
    pgDump: await version('pg_dump'),
    pgRestore: await version('pg_restore'),
    node: process.version,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
/** Median of the values that exist; null when none do. */
const medianOf = (values: (number | null)[]) => {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? median(present) : null;
};

function ratios(runs: RunResult[]) {
  return {
    backup: median(runs.map((r) => r.service.backup)) / median(runs.map((r) => r.raw.backup)),
    restore: median(runs.map((r) => r.service.restore)) / median(runs.map((r) => r.raw.restore)),
  };
}

function targetsMet(runs: RunResult[]): boolean {
  const r = ratios(runs);
  return r.backup <= TARGETS.backup && r.restore <= TARGETS.restore;
}

function renderReport(
  runs: RunResult[],
  facts: Awaited<ReturnType<typeof machineFacts>>,
  dbBytes: number,
  options: Options,
  args: string[],
): string {
  const s = (seconds: number | null) => (seconds === null ? 'n/a' : `${seconds.toFixed(2)} s`);
  const pct = (value: number | null) =>
    value === null ? 'n/a' : `${value >= 0 ? '+' : ''}${(value * 100).toFixed(0)} %`;
  const r = ratios(runs);
  const verdict = (ratio: number, target: number) => (ratio <= target ? 'met' : 'MISSED');
  const row = (op: 'backup' | 'restore', rawTool: string) => {
    const ratio = r[op];
    return `| ${op} | \`${rawTool}\` ${s(median(runs.map((x) => x.raw[op])))} | ${s(median(runs.map((x) => x.service[op])))} | ${ratio.toFixed(3)} | ≤ ${TARGETS[op].toFixed(2)}: ${verdict(ratio, TARGETS[op])} |`;
  };
  const progressRow = (op: 'backup' | 'restore') => {
    const stats = runs.map((x) => x.progress[op]);
    return `| ${op} | ${s(medianOf(stats.map((p) => p.firstEventSeconds)))} | ${median(stats.map((p) => p.eventsPerSecond)).toFixed(1)} | ${stats.every((p) => p.regressions === 0) ? 'yes' : `no (${stats.map((p) => p.regressions).join(', ')} drops)`} | ${pct(medianOf(stats.map((p) => p.etaErrorAt50)))} |`;
  };
  const lines = [
    `## Backup and restore: the service against the raw tools`,
    '',
    `Database: ${(dbBytes / MB).toFixed(0)} MB (asked: ${options.sizeMb} MB; a wide TOASTed table, a narrow indexed table, ${SMALL_TABLES} small tables). Medians of ${runs.length} run(s); the service is timed from the GraphQL mutation until graphql-ws reports the job succeeded.`,
    '',
    '| operation | raw tool | service | service / raw | target |',
    '|---|---|---|---|---|',
    row('backup', 'pg_dump -Fc'),
    row('restore', 'pg_restore -1 --clean --if-exists'),
    '',
    'Progress (jobProgress over graphql-ws):',
    '',
    '| job | first event with percent > 0 | events / s | monotonic | ETA error at 50 % |',
    '|---|---|---|---|---|',
    progressRow('backup'),
    progressRow('restore'),
    '',
    `Server peak RSS growth during its backup and restore: ${(median(runs.map((x) => x.rssGrowth)) / MB).toFixed(1)} MB (median).`,
    '',
    'Per run (raw backup / service backup / raw restore / service restore, seconds):',
    '',
    ...runs.map(
      (x, i) =>
        `- run ${i + 1}: ${[x.raw.backup, x.service.backup, x.raw.restore, x.service.restore].map((v) => v.toFixed(2)).join(' / ')}`,
    ),
    '',
    'Machine:',
    '',
    `- command: \`pnpm bench backup-restore ${args.join(' ')}\``.replace(/ `$/, '`'),
    `- CPUs: ${facts.cpus}, memory: ${facts.memory}, load average at the end: ${facts.loadAverage}`,
    `- server: ${facts.postgres}; ${facts.pgDump}; ${facts.pgRestore}; Node ${facts.node}`,
    '',
  ];
  return lines.join('\n');
}
