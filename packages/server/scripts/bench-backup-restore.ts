// `pnpm bench backup-restore [--size-mb 1024] [--runs 3] [--subscribers 200]`: the service's backup
// and restore through the GraphQL API against the raw tools on the same database, on a throwaway
// embedded PostgreSQL. Each run: raw `pg_dump -Fc`, the service's createBackup, raw
// `pg_restore --single-transaction --clean --if-exists` and the service's restoreBackup; the service
// is timed from the mutation until the jobProgress subscription (graphql-ws) reports succeeded.
// Then one more backup followed by many subscribers (bench-subscribers.ts).
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { type Api, type Followed, connectApi, createBackup, restoreBackup, runJob } from './bench-api.js';
import {
  type BenchOptions,
  type BenchSection,
  MB,
  type Server,
  type ThrowawayPostgres,
  exec,
  median,
  medianOf,
  progress,
  sampleRss,
  startServer,
  startThrowawayPostgres,
  timed,
  withCpuUse,
  type CpuUse,
} from './bench-support.js';
import { measureSubscribers } from './bench-subscribers.js';

const TARGET_DB = 'bench_target';
const METADATA_DB = 'bench_metadata';
/** The target's owner, which the service and the raw tools connect as (docs/security.md). */
const OWNER = { user: 'bench_owner', password: randomBytes(18).toString('hex') };
const TARGETS = { backup: 1.05, restore: 1.1 };
const SMALL_TABLES = 200;

export async function run(options: BenchOptions): Promise<BenchSection> {
  const work = await mkdtemp(path.join(tmpdir(), 'pgbs-bench-'));
  // As root, embedded PostgreSQL runs as the postgres user, which must reach its data directory.
  await chmod(work, 0o755);
  let pg: ThrowawayPostgres | undefined;
  let server: Server | undefined;
  let api: Api | undefined;
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
    progress(`generating a target database of about ${options.sizeMb} MB`);
    const ownerUrl = new URL(pg.url(TARGET_DB));
    [ownerUrl.username, ownerUrl.password] = [OWNER.user, OWNER.password];
    const dbBytes = await generateDatabase(ownerUrl.toString(), options.sizeMb);

    progress('starting the service');
    server = await startServer({
      DATABASE_URL: ownerUrl.toString(),
      METADATA_DATABASE_URL: pg.url(METADATA_DB),
      DATA_DIR: path.join(work, 'data'),
      BACKUP_DIR: path.join(work, 'backups'),
      // The bench starts more jobs than an operator would; the limiter must not time them.
      RATE_LIMIT_JOBS_PER_HOUR: '100000',
    });
    api = await connectApi(server.url);

    const raw = new RawTools(pg, path.join(work, 'raw'));
    await mkdir(raw.dir);
    const runs: RunResult[] = [];
    for (let i = 1; i <= options.runs; i++) {
      progress(`backup and restore, run ${i}/${options.runs}`);
      runs.push(await measureRun(pg, raw, api, server.pid, i));
    }
    let subscribers = '';
    if (options.subscribers > 0) {
      progress(`a backup followed by ${options.subscribers} subscribers`);
      await settle(pg);
      const backupSeconds = median(runs.map((r) => r.service.backup));
      subscribers = await measureSubscribers(api, server.pid, options.subscribers, backupSeconds);
    }
    const markdown = [renderReport(runs, `PostgreSQL ${String(row!.version)} (embedded)`, dbBytes), subscribers].join(
      '\n',
    );
    return { markdown, ok: targetsMet(runs) };
  } finally {
    await api?.ws.dispose();
    await server?.stop();
    await pg?.stop();
    await rm(work, { recursive: true, force: true });
  }
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
    // As the owner, like the service: a superuser's restore would skip every permission check.
    return exec(tool, ['-h', '127.0.0.1', '-p', String(this.pg.port), '-U', OWNER.user, ...args], {
      env: { ...process.env, PGPASSWORD: OWNER.password },
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
  /** How busy the CPUs were during each step, and the service process's own CPU time. */
  cpu: { rawBackup: CpuUse; backup: CpuUse; rawRestore: CpuUse; restore: CpuUse };
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
  const rawBackup = await withCpuUse(pid, () => timed(() => raw.dump(file)));
  await settle(pg);
  const rss = sampleRss(pid);
  const { result: backup, cpu: backupCpu } = await withCpuUse(pid, () => runJob(api, createBackup));
  const backupId = backup.final.backupId;
  if (!backupId) throw new Error('the backup job succeeded without a backupId');

  await settle(pg);
  const rawRestore = await withCpuUse(pid, () => timed(() => raw.restore(file)));
  await settle(pg);
  const { result: restore, cpu: restoreCpu } = await withCpuUse(pid, () =>
    runJob(api, restoreBackup(backupId, TARGET_DB)),
  );
  const peak = await rss.stop();
  await rm(file);
  return {
    raw: { backup: rawBackup.result, restore: rawRestore.result },
    cpu: { rawBackup: rawBackup.cpu, backup: backupCpu, rawRestore: rawRestore.cpu, restore: restoreCpu },
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

// ---------------------------------------------------------------------------------------------
// The report

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

function renderReport(runs: RunResult[], server: string, dbBytes: number): string {
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
  const cpuRow = (step: string, pick: (run: RunResult) => CpuUse, service: boolean) =>
    `| ${step} | ${(median(runs.map((x) => pick(x).machineBusy)) * 100).toFixed(0)} % | ${service ? `${median(runs.map((x) => pick(x).processSeconds)).toFixed(2)} s` : '–'} |`;
  const lines = [
    `## Backup and restore: the service against the raw tools`,
    '',
    `Database: ${(dbBytes / MB).toFixed(0)} MB on ${server} (a wide TOASTed table, a narrow indexed table, ${SMALL_TABLES} small tables). Medians of ${runs.length} run(s); the service is timed from the GraphQL mutation until graphql-ws reports the job succeeded; both sides run on the same server and database, caches settled (VACUUM, CHECKPOINT, sync) before each step.`,
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
    "CPU (medians): how busy both CPUs were during each step, and the service process's own CPU time:",
    '',
    '| step | CPUs busy | service process CPU |',
    '|---|---|---|',
    cpuRow('raw pg_dump', (x) => x.cpu.rawBackup, false),
    cpuRow('service backup', (x) => x.cpu.backup, true),
    cpuRow('raw pg_restore', (x) => x.cpu.rawRestore, false),
    cpuRow('service restore', (x) => x.cpu.restore, true),
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
  ];
  return lines.join('\n');
}
