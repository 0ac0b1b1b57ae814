// `pnpm bench scheduling [--targets 100]`: the scheduler under a burst. N small databases on a
// throwaway embedded PostgreSQL, registered as targets and all scheduled for the same minute, with
// one and with two service processes on one metadata database; timed from the slot until every
// backup is done, against raw `pg_dump -Fc` of the same databases at the same parallelism. Also the
// service processes' CPU while idle-ticking and during the burst, and the metadata database's
// transactions per job.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import {
  type BenchOptions,
  type BenchSection,
  type Server,
  type ThrowawayPostgres,
  exec,
  login,
  progress,
  startServer,
  startThrowawayPostgres,
  timed,
} from './bench-support.js';
import { graphql } from './service-process.js';

const OWNER = { user: 'bench_owner', password: randomBytes(18).toString('hex') };
const TEMPLATE_DB = 'bench_sched_template';
const TABLES = 20;
const ROWS = 20;
/** Jobs at once on both sides: MAX_JOBS_PER_SERVER (every database is on one server) and the raw pool. */
const PARALLELISM = 2;
/** Above the per-server limit, so that the per-server limit is the one that binds. */
const MAX_CONCURRENT_JOBS = 4;
/** The service's added time per job, (service − raw) / N × parallelism. */
const TARGET_OVERHEAD_SECONDS = 0.5;
/** Idle ticking is measured for at least this long before the slot. */
const MIN_IDLE_MS = 20_000;
const MINUTE = 60_000;

export async function run(options: BenchOptions): Promise<BenchSection> {
  const count = options.targets;
  const work = await mkdtemp(path.join(tmpdir(), 'pgbs-bench-sched-'));
  // As root, embedded PostgreSQL runs as the postgres user, which must reach its data directory.
  await chmod(work, 0o755);
  let pg: ThrowawayPostgres | undefined;
  try {
    progress('starting a throwaway embedded PostgreSQL');
    pg = await startThrowawayPostgres(path.join(work, 'pg'));
    progress(`creating ${count} databases of ${TABLES} tables × ${ROWS} rows`);
    const databases = await createDatabases(pg, count);
    const modes: ModeResult[] = [];
    for (const instances of [1, 2]) {
      progress(`raw pg_dump -Fc of ${count} databases, ${PARALLELISM} at once`);
      const raw = await rawDumps(pg, databases, path.join(work, `raw-${instances}`));
      progress(`${instances} service instance(s): ${count} targets due in one minute`);
      modes.push(await measureService(pg, databases, instances, path.join(work, `service-${instances}`), raw));
    }
    const markdown = renderReport(modes, count);
    return { markdown, ok: modes.every((mode) => overheadPerJob(mode, count) < TARGET_OVERHEAD_SECONDS) };
  } finally {
    await pg?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The databases and the raw tools

/** One template, copied: CREATE DATABASE … TEMPLATE is a file copy, not N × 20 CREATE TABLEs. */
async function createDatabases(pg: ThrowawayPostgres, count: number): Promise<string[]> {
  const admin = postgres(pg.url('postgres'), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(
      `CREATE ROLE ${OWNER.user} LOGIN PASSWORD '${OWNER.password}' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`,
    );
    await admin.unsafe(`CREATE DATABASE ${TEMPLATE_DB} OWNER ${OWNER.user}`);
    const template = postgres(ownerUrl(pg, TEMPLATE_DB), { max: 1, onnotice: () => {} });
    try {
      for (let i = 1; i <= TABLES; i++) {
        await template.unsafe(`
          CREATE TABLE t_${i} (id int PRIMARY KEY, name text NOT NULL, value double precision);
          INSERT INTO t_${i} SELECT g, 'item ' || g, random() FROM generate_series(1, ${ROWS}) g;`);
      }
      await template.unsafe('VACUUM ANALYZE');
    } finally {
      await template.end();
    }
    const names = Array.from({ length: count }, (_, i) => `bench_sched_${String(i + 1).padStart(3, '0')}`);
    for (const name of names) await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB} OWNER ${OWNER.user}`);
    await admin.unsafe('CHECKPOINT');
    return names;
  } finally {
    await admin.end();
  }
}

function ownerUrl(pg: ThrowawayPostgres, database: string, withPassword = true): string {
  const url = new URL(pg.url(database));
  url.username = OWNER.user;
  url.password = withPassword ? OWNER.password : '';
  return url.toString();
}

/** `pg_dump -Fc` of every database, PARALLELISM at once, as the owner (the password in PGPASSWORD). */
async function rawDumps(pg: ThrowawayPostgres, databases: string[], dir: string): Promise<number> {
  await mkdir(dir);
  const queue = [...databases];
  const worker = async () => {
    for (let name = queue.shift(); name; name = queue.shift()) {
      await exec(
        'pg_dump',
        ['-h', '127.0.0.1', '-p', String(pg.port), '-U', OWNER.user, '-Fc', '-f', path.join(dir, `${name}.dump`), name],
        { env: { ...process.env, PGPASSWORD: OWNER.password } },
      );
    }
  };
  const seconds = await timed(() => Promise.all(Array.from({ length: PARALLELISM }, worker)));
  await rm(dir, { recursive: true, force: true });
  return seconds;
}

// ---------------------------------------------------------------------------------------------
// The service

interface ModeResult {
  instances: number;
  raw: number;
  /** From the slot until the last backup job finished. */
  service: number;
  /** From the slot until the first and the last backup job was queued (the ticks). */
  firstQueued: number;
  lastQueued: number;
  failed: number;
  /** Backups per instance (by pid). */
  split: number[];
  cpu: { idlePerMinute: number; burst: number };
  /** Metadata transactions: per minute while idle, and per job during the burst (the idle rate taken off). */
  xacts: { idlePerMinute: number; perJob: number };
}

/** CPU seconds (user + system) of a process so far. */
async function processCpu(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const sumCpu = async (servers: Server[]) =>
  (await Promise.all(servers.map((server) => processCpu(server.pid)))).reduce((a, b) => a + b, 0);

async function measureService(
  pg: ThrowawayPostgres,
  databases: string[],
  instances: number,
  dir: string,
  raw: number,
): Promise<ModeResult> {
  const metadataDb = `bench_sched_meta_${instances}`;
  const admin = postgres(pg.url('postgres'), { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${metadataDb}`);
  await admin.end();
  const metadataUrl = pg.url(metadataDb);
  const masterKey = randomBytes(32).toString('base64');
  const servers: Server[] = [];
  const meta = postgres(metadataUrl, { max: 1, onnotice: () => {} });
  try {
    for (let i = 0; i < instances; i++) {
      servers.push(
        await startServer({
          // The template as the env-managed target (a target must exist for the start-up banner); it has no schedule.
          DATABASE_URL: ownerUrl(pg, TEMPLATE_DB),
          METADATA_DATABASE_URL: metadataUrl,
          MASTER_KEY: masterKey,
          DATA_DIR: path.join(dir, `data-${i}`),
          BACKUP_DIR: path.join(dir, 'backups'),
          MAX_CONCURRENT_JOBS: String(MAX_CONCURRENT_JOBS),
          MAX_JOBS_PER_SERVER: String(PARALLELISM),
        }),
      );
    }
    const url = servers[0]!.url;
    const cookie = await login(url);
    const request = async (query: string, variables: Record<string, unknown>) => {
      const data = await graphql<Record<string, { __typename: string; message?: string }>>(
        url,
        { cookie },
        query,
        variables,
      );
      const answer = Object.values(data)[0]!;
      if (answer.__typename === 'CodedError') throw new Error(`${query}: ${answer.message}`);
    };
    for (const name of databases) {
      await request(
        `mutation($input: AddTargetInput!) { addTarget(input: $input) { __typename ... on CodedError { message } } }`,
        { input: { name, url: ownerUrl(pg, name, false), password: OWNER.password } },
      );
    }
    // The first minute that leaves time to set every schedule and to watch the idle ticks.
    const slot = Math.ceil((Date.now() + MIN_IDLE_MS + 10_000) / MINUTE) * MINUTE;
    const at = new Date(slot);
    const cron = `${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
    for (const name of databases) {
      await request(
        `mutation($t: String!, $c: String!) { setSchedule(target: $t, cron: $c, timeZone: "UTC") { __typename ... on CodedError { message } } }`,
        { t: name, c: cron },
      );
    }

    // Idle: every instance ticks over N schedules, none due.
    const xacts = async () => {
      await meta`SELECT pg_stat_clear_snapshot()`;
      const [row] =
        await meta`SELECT (xact_commit + xact_rollback)::bigint AS n FROM pg_stat_database WHERE datname = ${metadataDb}`;
      return Number(row!.n);
    };
    // Statistics reach pg_stat_database when a backend flushes them (about once a second).
    const settleStats = () => new Promise((resolve) => setTimeout(resolve, 1500));
    await settleStats();
    const idleStart = { at: Date.now(), cpu: await sumCpu(servers), xacts: await xacts() };
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, slot - 1000 - Date.now())));
    await settleStats();
    const idleEnd = { at: Date.now(), cpu: await sumCpu(servers), xacts: await xacts() };
    const idleMinutes = (idleEnd.at - idleStart.at) / MINUTE;

    // The burst: polled every 250 ms (each poll is one transaction of ours, taken off below).
    let polls = 0;
    let done: { ended: number; failed: number; lastFinished: Date; firstQueued: Date; lastQueued: Date } | undefined;
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      polls++;
      const [row] = await meta`
        SELECT count(*) FILTER (WHERE state IN ('succeeded', 'failed', 'cancelled'))::int AS ended,
               count(*) FILTER (WHERE state <> 'succeeded' AND state IN ('failed', 'cancelled'))::int AS failed,
               max(finished_at) AS last_finished, min(created_at) AS first_queued, max(created_at) AS last_queued
        FROM jobs WHERE kind = 'backup' AND schedule_run_id IS NOT NULL`;
      if (row!.ended === databases.length) {
        done = {
          ended: row!.ended as number,
          failed: row!.failed as number,
          lastFinished: row!.last_finished as Date,
          firstQueued: row!.first_queued as Date,
          lastQueued: row!.last_queued as Date,
        };
      }
      if (Date.now() - slot > 20 * MINUTE) throw new Error('the scheduled backups did not end within 20 minutes');
    }
    const burstEnd = { at: Date.now(), cpu: await sumCpu(servers) };
    await settleStats();
    const burstXacts = (await xacts()) - idleEnd.xacts - polls - 2;
    const burstMinutes = (done.lastFinished.getTime() - slot) / MINUTE;
    const splitRows = await meta`
      SELECT i.pid, count(*)::int AS n FROM jobs j JOIN instances i ON i.id = j.instance_id
      WHERE j.kind = 'backup' AND j.schedule_run_id IS NOT NULL GROUP BY i.pid`;
    const idleXactsPerMinute = (idleEnd.xacts - idleStart.xacts - 1) / idleMinutes;
    return {
      instances,
      raw,
      service: (done.lastFinished.getTime() - slot) / 1000,
      firstQueued: (done.firstQueued.getTime() - slot) / 1000,
      lastQueued: (done.lastQueued.getTime() - slot) / 1000,
      failed: done.failed,
      split: servers.map((server) => (splitRows.find((row) => row.pid === server.pid)?.n as number) ?? 0),
      cpu: { idlePerMinute: (idleEnd.cpu - idleStart.cpu) / idleMinutes, burst: burstEnd.cpu - idleEnd.cpu },
      xacts: {
        idlePerMinute: idleXactsPerMinute,
        perJob: (burstXacts - idleXactsPerMinute * burstMinutes) / databases.length,
      },
    };
  } finally {
    await meta.end();
    for (const server of servers) await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// The report

function overheadPerJob(mode: ModeResult, count: number): number {
  return ((mode.service - mode.raw) / count) * PARALLELISM;
}

function renderReport(modes: ModeResult[], count: number): string {
  const s = (seconds: number) => `${seconds.toFixed(2)} s`;
  return [
    '## Scheduling: many targets due in the same minute',
    '',
    `${count} databases (${TABLES} tables × ${ROWS} rows each) on one embedded PostgreSQL, registered as targets and scheduled for the same minute (\`M H * * *\`), with one and with two service processes on one metadata database and one BACKUP_DIR. \`MAX_JOBS_PER_SERVER=${PARALLELISM}\` (every database is on that one server; \`MAX_CONCURRENT_JOBS=${MAX_CONCURRENT_JOBS}\`), so ${PARALLELISM} backups run at once in the service, as in the raw side: \`pg_dump -Fc\` of the same ${count} databases, ${PARALLELISM} at once, run just before. The service is timed from the slot until the last backup job finished (\`jobs.finished_at\`): that includes the tick's delay.`,
    '',
    '| instances | raw pg_dump | service | overhead per job | target | first / last job queued after the slot | failed | backups per instance |',
    '|---|---|---|---|---|---|---|---|',
    ...modes.map((mode) => {
      const overhead = overheadPerJob(mode, count);
      return `| ${mode.instances} | ${s(mode.raw)} | ${s(mode.service)} | ${s(overhead)} | < ${TARGET_OVERHEAD_SECONDS} s: ${overhead < TARGET_OVERHEAD_SECONDS ? 'met' : 'MISSED'} | ${s(mode.firstQueued)} / ${s(mode.lastQueued)} | ${mode.failed} | ${mode.split.join(' + ')} |`;
    }),
    '',
    `Overhead per job = (service − raw) / ${count} × ${PARALLELISM}. The scheduler's own cost (all service processes together; metadata transactions from \`pg_stat_database\`, the bench's own polls taken off):`,
    '',
    '| instances | CPU while idle-ticking | CPU during the burst | per job | metadata transactions idle | per job |',
    '|---|---|---|---|---|---|',
    ...modes.map(
      (mode) =>
        `| ${mode.instances} | ${mode.cpu.idlePerMinute.toFixed(2)} s / min | ${s(mode.cpu.burst)} | ${s(mode.cpu.burst / count)} | ${mode.xacts.idlePerMinute.toFixed(0)} / min | ${mode.xacts.perJob.toFixed(1)} |`,
    ),
    '',
  ].join('\n');
}
