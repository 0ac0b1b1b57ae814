// The setting the backup benchmarks share: a throwaway embedded PostgreSQL with a generated target
// database owned by a non-superuser role, the real service backing it up, the raw tools against the
// same database, and the CPU each side used.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_ZSTD_LEVEL } from '@pgbs/engine';
import postgres from 'postgres';
import { type Api, connectApi, createBackup, runJob } from './bench-api.js';
import {
  MB,
  type Server,
  type ThrowawayPostgres,
  exec,
  median,
  progress,
  startServer,
  startThrowawayPostgres,
} from './bench-support.js';

export const TARGET_DB = 'bench_target';
const METADATA_DB = 'bench_metadata';
/** The target's owner, which the service and the raw tools connect as (docs/security.md). */
const OWNER = { user: 'bench_owner', password: randomBytes(18).toString('hex') };
export const SMALL_TABLES = 200;
/**
 * The zstd level of the service under test: BACKUP_LEVEL when the bench's environment sets one (the
 * service inherits it; `BACKUP_LEVEL=3 pnpm bench backup-restore` measures level 3), else its default.
 */
export const BENCH_ZSTD_LEVEL = process.env.BACKUP_LEVEL ? Number(process.env.BACKUP_LEVEL) : DEFAULT_ZSTD_LEVEL;

export interface BenchTarget {
  work: string;
  pg: ThrowawayPostgres;
  server: Server;
  api: Api;
  raw: RawTools;
  /** "PostgreSQL 15.x (embedded)". */
  serverLabel: string;
  dbBytes: number;
  /** The target database as its owner (for growDatabase). */
  ownerUrl: string;
  /** The postmaster's pid: its children are the server's backends (cpuOfTree). */
  postmasterPid: number;
  stop(): Promise<void>;
}

/** PostgreSQL, a target database of about `sizeMb`, the service (configured by `env` too) and the raw tools. */
export async function startBenchTarget(
  sizeMb: number,
  env: Record<string, string> = {},
  dataset: Dataset = 'documents',
): Promise<BenchTarget> {
  const work = await mkdtemp(path.join(tmpdir(), 'pgbs-bench-'));
  // As root, embedded PostgreSQL runs as the postgres user, which must reach its data directory.
  await chmod(work, 0o755);
  let pg: ThrowawayPostgres | undefined;
  let server: Server | undefined;
  let api: Api | undefined;
  const stop = async () => {
    await api?.ws.dispose();
    await server?.stop();
    await pg?.stop();
    await rm(work, { recursive: true, force: true });
  };
  try {
    progress('starting a throwaway embedded PostgreSQL');
    pg = await startThrowawayPostgres(path.join(work, 'pg'));
    const admin = postgres(pg.url('postgres'), { max: 1, onnotice: () => {} });
    await admin.unsafe(
      `CREATE ROLE ${OWNER.user} LOGIN PASSWORD '${OWNER.password}' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`,
    );
    await admin.unsafe(`CREATE DATABASE ${TARGET_DB} OWNER ${OWNER.user}`);
    await admin.unsafe(`CREATE DATABASE ${METADATA_DB}`);
    const [row] = await admin`SELECT current_setting('server_version') AS version`;
    await admin.end();
    progress(`generating a target database of about ${sizeMb} MB (${dataset})`);
    const ownerUrl = new URL(pg.url(TARGET_DB));
    [ownerUrl.username, ownerUrl.password] = [OWNER.user, OWNER.password];
    const dbBytes = await generateDatabase(ownerUrl.toString(), sizeMb, dataset);

    progress('starting the service');
    server = await startServer({
      DATABASE_URL: ownerUrl.toString(),
      METADATA_DATABASE_URL: pg.url(METADATA_DB),
      DATA_DIR: path.join(work, 'data'),
      BACKUP_DIR: path.join(work, 'backups'),
      // The bench starts more jobs than an operator would; the limiter must not time them.
      RATE_LIMIT_JOBS_PER_HOUR: '100000',
      // Each job's steps in its log (jobs/job-trace.ts): where a backup's time goes.
      PGBS_TRACE_JOBS: '1',
      ...env,
    });
    api = await connectApi(server.url);
    const raw = new RawTools(pg, path.join(work, 'raw'));
    await mkdir(raw.dir);
    const postmasterPid = Number((await readFile(path.join(work, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    return {
      work,
      pg,
      server,
      api,
      raw,
      serverLabel: `PostgreSQL ${String(row!.version)} (embedded)`,
      dbBytes,
      ownerUrl: ownerUrl.toString(),
      postmasterPid,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// The target database

/** 4 KB of hex digests: TOASTed, and pglz can't shrink them much (like tokens, hashes, UUIDs). */
const DOCUMENT_SQL = `(SELECT string_agg(md5(random()::text || g || s), '') FROM generate_series(1, 128) s)`;

/** A table of `rows` TOASTed hex documents. */
const documentTableSql = (table: string, rows: number) => `
  CREATE TABLE ${table} (id bigint PRIMARY KEY, title text NOT NULL, body text NOT NULL);
  INSERT INTO ${table} SELECT g, 'document ' || g, ${DOCUMENT_SQL} FROM generate_series(1, ${rows}) g;`;

/** One of `values` at random: SQL for a categorical column. */
const pickSql = (values: string[]) =>
  `(ARRAY[${values.map((value) => `'${value}'`).join(', ')}])[1 + floor(random() * ${values.length})::int]`;

/** The shapes of data the benches generate, server-side (no bytes through the client). */
export const DATASETS = {
  /**
   * The default: half of the size in a wide table of TOASTed hex documents, most of the rest in a
   * narrow many-row table with two secondary indexes (index builds dominate its restore), and 200
   * small tables (many TOC entries: per-object overhead).
   */
  documents: {
    describe: `a wide TOASTed table of hex digests, a narrow indexed table, ${SMALL_TABLES} small tables`,
    async generate(sql: postgres.Sql, sizeMb: number) {
      const wideRows = Math.max(1, Math.round((sizeMb * MB * 0.5) / 4200));
      const narrowRows = Math.max(1, Math.round((sizeMb * MB * 0.4) / 160));
      await sql.unsafe(`
        ${documentTableSql('wide_documents', wideRows)}

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
      await createSmallTables(sql);
    },
  },
  /**
   * The mix DESIGN.md's performance facts name (jsonb events, TOASTed documents, a wide table with
   * an index, small tables), in those proportions of rows; the values are this bench's guess.
   */
  events: {
    describe: `jsonb events, TOASTed hex documents, a wide indexed table, ${SMALL_TABLES} small tables`,
    async generate(sql: postgres.Sql, sizeMb: number) {
      // Rows per MB measured on the first run: 1024 MB asked for 1,480 MB at 3M events per 916 MB.
      const rows = (per1330Mb: number) => Math.max(1, Math.round((per1330Mb * sizeMb) / 1330));
      await sql.unsafe(`
        CREATE TABLE events (
          id bigint PRIMARY KEY, occurred_at timestamptz NOT NULL, account_id int NOT NULL, payload jsonb NOT NULL);
        INSERT INTO events
          SELECT g, now() - random() * interval '365 days', (random() * 50000)::int,
                 jsonb_build_object(
                   'action', ${pickSql(['login', 'logout', 'view', 'edit', 'export', 'share', 'comment', 'delete'])},
                   'user_id', (random() * 200000)::int,
                   'duration_ms', (random() * 5000)::int,
                   'ok', random() > 0.05,
                   'client', jsonb_build_object(
                     'ip', '10.' || (random() * 255)::int || '.' || (random() * 255)::int || '.' || (random() * 255)::int,
                     'agent', ${pickSql(['firefox/132', 'chrome/131', 'safari/18', 'cli/2.4', 'android/14'])}),
                   'tags', jsonb_build_array(${pickSql(['billing', 'ops', 'sales', 'support', 'eng'])}, ${pickSql(['p1', 'p2', 'p3'])}))
          FROM generate_series(1, ${rows(3_000_000)}) g;

        ${documentTableSql('documents', rows(40_000))}

        CREATE TABLE work_items (
          id bigint PRIMARY KEY, project_id int NOT NULL, assignee_id int NOT NULL, created_at timestamptz NOT NULL,
          due_on date, status text NOT NULL, priority smallint NOT NULL, estimate_hours numeric(8, 2),
          spent_hours numeric(8, 2), title text NOT NULL);
        INSERT INTO work_items
          SELECT g, (random() * 2000)::int, (random() * 5000)::int, now() - random() * interval '730 days',
                 current_date + (random() * 120)::int, ${pickSql(['open', 'in progress', 'review', 'done', 'blocked'])},
                 (random() * 4)::int, round((random() * 80)::numeric, 2), round((random() * 80)::numeric, 2),
                 'work item ' || g || ' of project ' || (g % 2000)
          FROM generate_series(1, ${rows(2_000_000)}) g;
        CREATE INDEX work_items_project ON work_items (project_id, created_at);
      `);
      await createSmallTables(sql);
    },
  },
  /** The Workload Tracker demo the service starts with (src/embedded/demo-database.sql), with 100 times the people, 10 times the projects (their codes have three digits). */
  tracker: {
    describe: 'the Workload Tracker demo database, scaled up: people, projects, assignments, time entries',
    async generate(sql: postgres.Sql, sizeMb: number) {
      const demo = await readFile(new URL('../src/embedded/demo-database.sql', import.meta.url), 'utf8');
      // Time entries are most of it: one a week per assignment; ~7.5 MB per week of 70,000 assignments.
      const weeks = Math.max(1, Math.round(sizeMb / 7.5));
      const scaled = [
        ['generate_series(1, 200) AS n', 'generate_series(1, 20000) AS n'],
        ['generate_series(1, 40) AS n', 'generate_series(1, 400) AS n'],
        ['(random() * 199)::int AS person_id', '(random() * 19999)::int AS person_id'],
        ['(random() * 39)::int AS project_id', '(random() * 399)::int AS project_id'],
        ['generate_series(1, 700)', 'generate_series(1, 70000)'],
        ['generate_series(0, 79) AS day', `generate_series(0, ${weeks - 1}) AS day`],
      ].reduce((text, [from, to]) => {
        if (!text.includes(from!)) throw new Error(`demo-database.sql changed: no "${from}" to scale`);
        return text.replace(from!, to!);
      }, demo);
      await sql.unsafe(scaled);
    },
  },
} satisfies Record<string, { describe: string; generate(sql: postgres.Sql, sizeMb: number): Promise<void> }>;

export type Dataset = keyof typeof DATASETS;

async function createSmallTables(sql: postgres.Sql): Promise<void> {
  for (let i = 1; i <= SMALL_TABLES; i++) {
    await sql.unsafe(`
      CREATE TABLE small_${i} (id int PRIMARY KEY, name text NOT NULL, value double precision);
      INSERT INTO small_${i} SELECT g, 'item ' || g, random() FROM generate_series(1, 500) g;`);
  }
}

async function generateDatabase(url: string, sizeMb: number, dataset: Dataset): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await DATASETS[dataset].generate(sql, sizeMb);
    return await vacuumAndMeasure(sql);
  } finally {
    await sql.end();
  }
}

/** More documents (in batches of ~256 MB) until the database is about `sizeMb`; returns its size. */
export async function growDatabase(url: string, sizeMb: number): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(
      'CREATE TABLE IF NOT EXISTS more_documents (id bigint PRIMARY KEY, title text NOT NULL, body text NOT NULL)',
    );
    const batchRows = Math.round((256 * MB) / 4300);
    for (;;) {
      const [row] = await sql`SELECT pg_database_size(current_database())::bigint AS bytes`;
      const missing = sizeMb * MB - Number(row!.bytes);
      if (missing <= 0) break;
      const rows = Math.max(1, Math.min(batchRows, Math.round(missing / 4300)));
      await sql.unsafe(`
        INSERT INTO more_documents
          SELECT g, 'document ' || g, ${DOCUMENT_SQL}
          FROM generate_series((SELECT coalesce(max(id), 0) + 1 FROM more_documents),
                               (SELECT coalesce(max(id), 0) + ${rows} FROM more_documents)) g`);
    }
    return await vacuumAndMeasure(sql);
  } finally {
    await sql.end();
  }
}

/** Hint bits and statistics now, not during the first timed dump. */
async function vacuumAndMeasure(sql: postgres.Sql): Promise<number> {
  await sql.unsafe('VACUUM ANALYZE');
  const [row] = await sql`SELECT pg_database_size(current_database())::bigint AS bytes`;
  return Number(row!.bytes);
}

// ---------------------------------------------------------------------------------------------
// The raw tools

/** pg_dump / pg_restore against the throwaway server; the password travels in PGPASSWORD only. */
export class RawTools {
  constructor(
    private readonly pg: ThrowawayPostgres,
    readonly dir: string,
  ) {}

  private get env() {
    return { ...process.env, PGPASSWORD: OWNER.password };
  }

  // As the owner, like the service: a superuser's restore would skip every permission check.
  private get connection() {
    return ['-h', '127.0.0.1', '-p', String(this.pg.port), '-U', OWNER.user];
  }

  private run(tool: string, args: string[]) {
    return exec(tool, [...this.connection, ...args], { env: this.env, maxBuffer: 64 * MB });
  }

  /** `pg_dump -Fc` (its default gzip) into `file`; returns the file's size. */
  async dump(file: string): Promise<number> {
    await this.run('pg_dump', ['-Fc', '-f', file, TARGET_DB]);
    return (await stat(file)).size;
  }

  /**
   * `pg_dump -Fc -Z0`, alone (the floor: what any wrapper around it costs at least) or piped into
   * zstd at the service's level (what its backup does, with nothing of the service); returns the file's size.
   */
  async dumpUncompressed(file: string, zstd: boolean): Promise<number> {
    const dump = ['pg_dump', ...this.connection, '-Fc', '-Z0', TARGET_DB].map(shellQuote).join(' ');
    await exec(
      'bash',
      ['-o', 'pipefail', '-c', `${dump} ${zstd ? `| zstd -q -${BENCH_ZSTD_LEVEL}` : ''} > ${shellQuote(file)}`],
      {
        env: this.env,
        maxBuffer: 64 * MB,
      },
    );
    return (await stat(file)).size;
  }

  /**
   * Into the target database itself, over its current content, like the service's restore: a fresh
   * scratch database would skip the DROPs of --clean and flatter the raw tool.
   */
  restore(file: string) {
    return this.run('pg_restore', ['--single-transaction', '--clean', '--if-exists', '-d', TARGET_DB, file]);
  }
}

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** Dirty pages flushed and a checkpoint taken between steps: background writes would blur timings. */
export async function settle(pg: ThrowawayPostgres): Promise<void> {
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
// Where the CPU went

/** CPU seconds of each party to a backup or restore (USER_HZ ticks of /proc, so 10 ms resolution). */
export interface CpuParts {
  /** The service's main thread: JavaScript (SHA-256, age, streams, the API). */
  serviceMain: number;
  /** libuv's pool (zlib's zstd), and V8's and other threads of the service. */
  servicePool: number;
  serviceOther: number;
  /** The tools: the service's child processes (pg_dump, pg_restore, psql), or the raw ones the bench ran. */
  tools: number;
  /** PostgreSQL's processes (the backends that read or load the data, checkpoints). */
  postgres: number;
}

const HZ = 100;

interface ProcStat {
  comm: string;
  ppid: number;
  own: number;
  children: number;
}

async function procStat(file: string): Promise<ProcStat | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  return {
    comm: text.slice(text.indexOf('(') + 1, close),
    ppid: Number(fields[1]),
    own: (Number(fields[11]) + Number(fields[12])) / HZ,
    // cutime + cstime: children that have exited and been waited for.
    children: (Number(fields[13]) + Number(fields[14])) / HZ,
  };
}

/** A process's own CPU plus its children's (those that ended, and those running now). */
async function treeCpu(pid: number, processes: { pid: number; stat: ProcStat }[]): Promise<number> {
  const own = await procStat(`/proc/${pid}/stat`);
  if (!own) return 0;
  return (
    own.children +
    processes.filter((p) => p.stat.ppid === pid).reduce((sum, p) => sum + p.stat.own + p.stat.children, 0)
  );
}

async function cpuParts(servicePid: number, postmasterPid: number): Promise<CpuParts> {
  const processes = (
    await Promise.all(
      (await readdir('/proc'))
        .filter((name) => /^\d+$/.test(name))
        .map(async (name) => ({ pid: Number(name), stat: await procStat(`/proc/${name}/stat`) })),
    )
  ).filter((p): p is { pid: number; stat: ProcStat } => p.stat !== null);
  const parts = { serviceMain: 0, servicePool: 0, serviceOther: 0 };
  for (const tid of await readdir(`/proc/${servicePid}/task`)) {
    const thread = await procStat(`/proc/${servicePid}/task/${tid}/stat`);
    if (!thread) continue;
    if (Number(tid) === servicePid) parts.serviceMain += thread.own;
    else if (thread.comm.startsWith('libuv-worker')) parts.servicePool += thread.own;
    else parts.serviceOther += thread.own;
  }
  const postmaster = await procStat(`/proc/${postmasterPid}/stat`);
  // The bench's own children that ended: the raw tools (its live ones are the service and s3rver).
  const rawTools = (await procStat('/proc/self/stat'))?.children ?? 0;
  return {
    ...parts,
    tools: (await treeCpu(servicePid, processes)) + rawTools,
    postgres: (postmaster?.own ?? 0) + (await treeCpu(postmasterPid, processes)),
  };
}

/** Runs `work` and says how much CPU each party used meanwhile. */
export async function withCpuParts<T>(
  target: Pick<BenchTarget, 'server' | 'postmasterPid'>,
  work: () => Promise<T>,
): Promise<{ result: T; parts: CpuParts }> {
  const before = await cpuParts(target.server.pid, target.postmasterPid);
  const result = await work();
  const after = await cpuParts(target.server.pid, target.postmasterPid);
  const parts = Object.fromEntries(
    Object.entries(after).map(([key, value]) => [key, value - before[key as keyof CpuParts]]),
  ) as unknown as CpuParts;
  return { result, parts };
}

/** The service's backup job with the CPU each party used meanwhile, and the id of the backup it made. */
export async function serviceBackup(target: BenchTarget) {
  const { result: job, parts: cpu } = await withCpuParts(target, () => runJob(target.api, createBackup));
  const backupId = job.final.backupId;
  if (!backupId) throw new Error('the backup job succeeded without a backupId');
  return { job, backupId, cpu };
}

/** The CPU table of a report: one row per measured step, medians of the runs. */
export function cpuPartsTable(rows: { step: string; parts: CpuParts[] }[], median: (v: number[]) => number): string[] {
  const s = (values: number[]) => `${median(values).toFixed(2)} s`;
  return [
    '| step | service main thread (JS: SHA-256, age, streams) | service thread pool (zstd) | other service threads (GC) | tools (pg_dump, pg_restore, psql, zstd) | PostgreSQL |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      ({ step, parts }) =>
        `| ${step} | ${s(parts.map((p) => p.serviceMain))} | ${s(parts.map((p) => p.servicePool))} | ${s(parts.map((p) => p.serviceOther))} | ${s(parts.map((p) => p.tools))} | ${s(parts.map((p) => p.postgres))} |`,
    ),
  ];
}

/** Seconds of a backup job's steps, from its trace: the dump, the part of it spent waiting for storage, the rest. */
export interface BackupSteps {
  dump: number;
  storageWait: number;
  commit: number;
  /** Everything else the job did: preparing, the manifest, recording it. */
  other: number;
}

export function backupSteps(server: Server, jobId: string): BackupSteps {
  const trace = server.jobTraces().find((t) => t.jobId === jobId);
  if (!trace) throw new Error(`no job trace for ${jobId} (PGBS_TRACE_JOBS=1?)`);
  const steps = trace.steps as Record<string, number>;
  const ms = (name: string) => steps[name] ?? 0;
  return {
    dump: ms('runBackup') / 1000,
    storageWait: ms('runBackup.storageWait') / 1000,
    commit: ms('commit') / 1000,
    other: ((trace.totalMs as number) - ms('runBackup') - ms('commit')) / 1000,
  };
}

/** The job-trace table of a report: one row per kind of backup, medians of the runs. */
export function backupStepsTable(
  rows: { step: string; steps: BackupSteps[] }[],
  median: (v: number[]) => number,
): string[] {
  const s = (values: number[]) => `${median(values).toFixed(2)} s`;
  return [
    '| backup job | pg_dump through the pipeline into storage | of which waiting for storage | commit (file: fsync + rename; S3: last part + completion) | the rest of the job (prepare, manifest, record) |',
    '|---|---|---|---|---|',
    ...rows.map(
      ({ step, steps }) =>
        `| ${step} | ${s(steps.map((x) => x.dump))} | ${s(steps.map((x) => x.storageWait))} | ${s(steps.map((x) => x.commit))} | ${s(steps.map((x) => x.other))} |`,
    ),
  ];
}

/** The job-trace part of a report, for one kind of backup. */
export function backupStepsSection(step: string, steps: BackupSteps[]): string[] {
  return [
    "The service's backup job, from its trace (`PGBS_TRACE_JOBS=1`, medians):",
    '',
    ...backupStepsTable([{ step, steps }], median),
  ];
}
