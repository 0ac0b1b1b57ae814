// `pnpm bench backup-restore [--size-mb 1024] [--runs 3] [--subscribers 200]`: the service's backup
// and restore through the GraphQL API against the raw tools on the same database, on a throwaway
// embedded PostgreSQL. Each run: raw `pg_dump -Fc`, the references `pg_dump -Fc -Z0 | zstd` (at the service's level) and
// `pg_dump -Fc -Z0`, the service's createBackup (its default: zstd, local), raw
// `pg_restore --single-transaction --clean --if-exists` and the service's restoreBackup; the service
// is timed from the mutation until the jobProgress subscription (graphql-ws) reports succeeded.
// Then one more backup followed by many subscribers (bench-subscribers.ts).
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { type Followed, backupSize, restoreBackup, runJob } from './bench-api.js';
import {
  type BenchOptions,
  type BenchSection,
  MB,
  VERSUS_RAW_HEAD,
  mb,
  median,
  medianOf,
  perRunLines,
  progress,
  sampleRss,
  secs,
  timed,
  timedSize,
  verdict,
} from './bench-support.js';
import { measureSubscribers } from './bench-subscribers.js';
import {
  type BackupSteps,
  type BenchTarget,
  type CpuParts,
  backupSteps,
  BENCH_ZSTD_LEVEL,
  backupStepsSection,
  DATASETS,
  TARGET_DB,
  cpuPartsTable,
  serviceBackup,
  settle,
  startBenchTarget,
  withCpuParts,
} from './bench-target.js';

/**
 * Issue #12: the default backup (pg_dump -Z0 through zstd) takes at most half the time of a default
 * `pg_dump -Fc` (gzip inside) and is at most 0.9 of its size; a restore at most 1.10 of pg_restore's time.
 */
const TARGETS = { backup: 0.5, size: 0.9, restore: 1.1 };

export async function run(options: BenchOptions): Promise<BenchSection> {
  const target = await startBenchTarget(options.sizeMb);
  try {
    const runs: RunResult[] = [];
    for (let i = 1; i <= options.runs; i++) {
      progress(`backup and restore, run ${i}/${options.runs}`);
      runs.push(await measureRun(target, i));
    }
    let subscribers = '';
    if (options.subscribers > 0) {
      progress(`a backup followed by ${options.subscribers} subscribers`);
      await settle(target.pg);
      const backupSeconds = median(runs.map((r) => r.service.backup));
      subscribers = await measureSubscribers(target.api, target.server.pid, options.subscribers, backupSeconds);
    }
    const markdown = [renderReport(runs, target.serverLabel, target.dbBytes), subscribers].join('\n');
    return { markdown, ok: targetsMet(runs) };
  } finally {
    await target.stop();
  }
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
  raw: { backup: number; restore: number; zstd: number; floor: number };
  /** Sizes of the raw `pg_dump -Fc`, `pg_dump -Fc -Z0 | zstd` and the service's stored backup. */
  bytes: { raw: number; zstd: number; service: number };
  /** CPU seconds of each party during each step. */
  cpu: { rawBackup: CpuParts; rawZstd: CpuParts; backup: CpuParts; rawRestore: CpuParts; restore: CpuParts };
  /** The service's backup job, from its trace. */
  steps: BackupSteps;
  service: { backup: number; restore: number };
  progress: { backup: ProgressStats; restore: ProgressStats };
  /** The server's peak RSS growth over its idle baseline during its backup and restore. */
  rssGrowth: number;
}

async function measureRun(target: BenchTarget, index: number): Promise<RunResult> {
  const { pg, raw, api, server } = target;
  const file = path.join(raw.dir, `run-${index}.dump`);
  const scratch = path.join(raw.dir, `run-${index}.reference`);
  await settle(pg);
  const rawBackup = await withCpuParts(target, () => timedSize(() => raw.dump(file)));
  // References, not targets: what zstd around pg_dump costs without the service, and pg_dump alone.
  await settle(pg);
  const zstd = await withCpuParts(target, () => timedSize(() => raw.dumpUncompressed(scratch, true)));
  await settle(pg);
  const floor = await timedSize(() => raw.dumpUncompressed(scratch, false));
  await rm(scratch);
  await settle(pg);
  const rss = sampleRss(server.pid);
  const { job: backup, backupId, cpu: backupCpu } = await serviceBackup(target);

  await settle(pg);
  const rawRestore = await withCpuParts(target, () => timed(() => raw.restore(file)));
  await settle(pg);
  const { result: restore, parts: restoreCpu } = await withCpuParts(target, () =>
    runJob(api, restoreBackup(backupId, TARGET_DB)),
  );
  const peak = await rss.stop();
  await rm(file);
  return {
    raw: {
      backup: rawBackup.result.seconds,
      restore: rawRestore.result,
      zstd: zstd.result.seconds,
      floor: floor.seconds,
    },
    bytes: { raw: rawBackup.result.bytes, zstd: zstd.result.bytes, service: await backupSize(api, backupId) },
    cpu: {
      rawBackup: rawBackup.parts,
      rawZstd: zstd.parts,
      backup: backupCpu,
      rawRestore: rawRestore.parts,
      restore: restoreCpu,
    },
    steps: backupSteps(server, backup.final.id),
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
  const rawBackup = median(runs.map((r) => r.raw.backup));
  return {
    backup: median(runs.map((r) => r.service.backup)) / rawBackup,
    size: median(runs.map((r) => r.bytes.service)) / median(runs.map((r) => r.bytes.raw)),
    restore: median(runs.map((r) => r.service.restore)) / median(runs.map((r) => r.raw.restore)),
    zstd: median(runs.map((r) => r.raw.zstd)) / rawBackup,
    floor: median(runs.map((r) => r.raw.floor)) / rawBackup,
  };
}

function targetsMet(runs: RunResult[]): boolean {
  const r = ratios(runs);
  return r.backup <= TARGETS.backup && r.size <= TARGETS.size && r.restore <= TARGETS.restore;
}

function renderReport(runs: RunResult[], server: string, dbBytes: number): string {
  const pct = (value: number | null) =>
    value === null ? 'n/a' : `${value >= 0 ? '+' : ''}${(value * 100).toFixed(0)} %`;
  const r = ratios(runs);
  const m = (pick: (run: RunResult) => number) => median(runs.map(pick));
  const size = (pick: (run: RunResult) => number) => mb(m(pick));
  const progressRow = (op: 'backup' | 'restore') => {
    const stats = runs.map((x) => x.progress[op]);
    return `| ${op} | ${secs(medianOf(stats.map((p) => p.firstEventSeconds)))} | ${median(stats.map((p) => p.eventsPerSecond)).toFixed(1)} | ${stats.every((p) => p.regressions === 0) ? 'yes' : `no (${stats.map((p) => p.regressions).join(', ')} drops)`} | ${pct(medianOf(stats.map((p) => p.etaErrorAt50)))} |`;
  };
  const lines = [
    `## Backup and restore: the service against the raw tools`,
    '',
    `Database: ${(dbBytes / MB).toFixed(0)} MB on ${server} (${DATASETS.documents.describe}). Medians of ${runs.length} run(s); the service (${process.env.BACKUP_LEVEL ? '' : 'its default: '}\`pg_dump -Fc -Z0\` through zstd level ${BENCH_ZSTD_LEVEL}${process.env.BACKUP_LEVEL ? ' (BACKUP_LEVEL)' : ''}, to the local destination, in clear) is timed from the GraphQL mutation until graphql-ws reports the job succeeded; both sides run on the same server and database, caches settled (VACUUM, CHECKPOINT, sync) before each step.`,
    '',
    ...VERSUS_RAW_HEAD,
    `| backup, time | \`pg_dump -Fc\` ${secs(m((x) => x.raw.backup))} | ${secs(m((x) => x.service.backup))} | ${r.backup.toFixed(3)} | ${verdict(r.backup, TARGETS.backup)} |`,
    `| backup, size | ${size((x) => x.bytes.raw)} | ${size((x) => x.bytes.service)} | ${r.size.toFixed(3)} | ${verdict(r.size, TARGETS.size)} |`,
    `| restore | \`pg_restore -1 --clean --if-exists\` ${secs(m((x) => x.raw.restore))} | ${secs(m((x) => x.service.restore))} | ${r.restore.toFixed(3)} | ${verdict(r.restore, TARGETS.restore)} |`,
    '',
    'References, without the service (same runs; / `pg_dump -Fc`): what zstd costs around pg_dump, and pg_dump alone.',
    '',
    '| command | time | / `pg_dump -Fc` | size |',
    '|---|---|---|---|',
    `| \`pg_dump -Fc -Z0 \\| zstd -${BENCH_ZSTD_LEVEL}\` | ${secs(m((x) => x.raw.zstd))} | ${r.zstd.toFixed(3)} | ${size((x) => x.bytes.zstd)} |`,
    `| \`pg_dump -Fc -Z0\` (the floor) | ${secs(m((x) => x.raw.floor))} | ${r.floor.toFixed(3)} | |`,
    '',
    'Progress (jobProgress over graphql-ws):',
    '',
    '| job | first event with percent > 0 | events / s | monotonic | ETA error at 50 % |',
    '|---|---|---|---|---|',
    progressRow('backup'),
    progressRow('restore'),
    '',
    'Where the time goes: CPU seconds of each party during each step (medians; /proc, all threads):',
    '',
    ...cpuPartsTable(
      [
        { step: 'raw `pg_dump -Fc`', parts: runs.map((x) => x.cpu.rawBackup) },
        { step: `raw \`pg_dump -Fc -Z0 \\| zstd -${BENCH_ZSTD_LEVEL}\``, parts: runs.map((x) => x.cpu.rawZstd) },
        { step: 'service backup', parts: runs.map((x) => x.cpu.backup) },
        { step: 'raw `pg_restore -1`', parts: runs.map((x) => x.cpu.rawRestore) },
        { step: 'service restore', parts: runs.map((x) => x.cpu.restore) },
      ],
      median,
    ),
    '',
    ...backupStepsSection(
      'local, zstd',
      runs.map((x) => x.steps),
    ),
    '',
    `Server peak RSS growth during its backup and restore: ${(median(runs.map((x) => x.rssGrowth)) / MB).toFixed(1)} MB (median).`,
    '',
    `Per run (raw backup / \`-Z0 | zstd -${BENCH_ZSTD_LEVEL}\` / \`-Z0\` / service backup / raw restore / service restore, seconds):`,
    '',
    ...perRunLines(runs, (x) => [
      x.raw.backup,
      x.raw.zstd,
      x.raw.floor,
      x.service.backup,
      x.raw.restore,
      x.service.restore,
    ]),
    '',
  ];
  return lines.join('\n');
}
