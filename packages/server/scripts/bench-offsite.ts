// `pnpm bench offsite [--size-mb 1024] [--runs 3] [--memory-mb 2048 | --big-s3]`: backups encrypted
// with age (a key generated through the API) to an S3 destination (s3rver, started here in a process
// of its own, on the same CPUs) as the target's only destination, and restores from them, against the
// raw tools on the same database; then the server's memory during one backup of a bigger database
// (2 GB; --big-s3: 10 GB) to S3.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { startS3Server, type S3TestServer } from '@pgbs/test-support';
import { type Api, backupSize, createBackup, restoreBackup, runJob } from './bench-api.js';
import {
  type BenchOptions,
  type BenchSection,
  MB,
  VERSUS_RAW_HEAD,
  mb,
  median,
  perRunLines,
  progress,
  readRss,
  sampleEvery,
  secs,
  steadyRss,
  timed,
  timedSize,
  verdict,
} from './bench-support.js';
import {
  type BackupSteps,
  type BenchTarget,
  type CpuParts,
  backupSteps,
  backupStepsSection,
  TARGET_DB,
  cpuPartsTable,
  growDatabase,
  serviceBackup,
  settle,
  startBenchTarget,
  withCpuParts,
} from './bench-target.js';
import { graphql } from './service-process.js';

/** Issue #12: against `pg_dump -Fc` and `pg_restore -1` of its file; RSS growth in MB. */
const TARGETS = { backup: 0.6, restore: 1.05, rssGrowthMb: 300 };
const BUCKET = 'bench-offsite';
const DESTINATION = 'offsite';

interface RunResult {
  raw: { backup: number; restore: number };
  service: { backup: number; restore: number };
  bytes: { raw: number; service: number };
  cpu: { backup: CpuParts; restore: CpuParts };
  steps: BackupSteps;
}

interface MemoryResult {
  dbBytes: number;
  storedBytes: number;
  seconds: number;
  baseline: number;
  /** Peak growth over the idle baseline, over the whole backup and over its first half. */
  growth: number;
  growthFirstHalf: number;
}

export async function run(options: BenchOptions): Promise<BenchSection> {
  progress('starting s3rver');
  const s3 = await startS3Server({ buckets: [BUCKET] });
  let target: BenchTarget | undefined;
  try {
    // The destination's credentials are sealed with it (in the child's environment, never argv).
    target = await startBenchTarget(options.sizeMb, { MASTER_KEY: randomBytes(32).toString('base64') });
    const identity = await configureOffsite(target.api, s3);
    const runs: RunResult[] = [];
    for (let i = 1; i <= options.runs; i++) {
      progress(`encrypted backup to S3 and restore from it, run ${i}/${options.runs}`);
      runs.push(await measureRun(target, identity, i));
    }
    progress(`growing the database to about ${options.memoryMb} MB for the memory step`);
    const memory = await measureMemory(target, await growDatabase(target.ownerUrl, options.memoryMb));
    return {
      markdown: renderReport(runs, memory, target),
      ok: ratiosMet(runs) && memory.growth / MB < TARGETS.rssGrowthMb,
    };
  } finally {
    await target?.stop();
    await s3.stop();
  }
}

/** An S3 destination and a new age key, both through the API, as the target's only destination and recipient. */
async function configureOffsite(api: Api, s3: S3TestServer): Promise<string> {
  const added = await mutate<{ test: { ok: boolean; errorCode: string | null } }>(
    api,
    'addDestination',
    `mutation($input: AddDestinationInput!) { addDestination(input: $input) {
       ... on MutationAddDestinationSuccess { data { test { ok errorCode } } } ... on CodedError { code message } } }`,
    {
      input: {
        name: DESTINATION,
        kind: 's3',
        endpoint: s3.endpoint,
        bucket: BUCKET,
        pathStyle: true,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      },
    },
  );
  if (!added.test.ok) throw new Error(`the S3 destination failed its test: ${added.test.errorCode}`);
  const key = await mutate<{ identity: string }>(
    api,
    'generateKey',
    `mutation { generateKey(name: "bench") {
       ... on MutationGenerateKeySuccess { data { identity } } ... on CodedError { code message } } }`,
  );
  const { targets } = await graphql<{ targets: { id: string }[] }>(api.url, { token: api.token }, '{ targets { id } }');
  const targetId = targets[0]!.id;
  await mutate(
    api,
    'setTargetRecipients',
    `mutation($t: ID!) { setTargetRecipients(target: $t, recipients: ["bench"]) {
       ... on MutationSetTargetRecipientsSuccess { data { name } } ... on CodedError { code message } } }`,
    { t: targetId },
  );
  await mutate(
    api,
    'setTargetDestinations',
    `mutation($t: ID!, $d: [String!]!) { setTargetDestinations(target: $t, destinations: $d) {
       ... on MutationSetTargetDestinationsSuccess { data { name } } ... on CodedError { code message } } }`,
    { t: targetId, d: [DESTINATION] },
  );
  return key.identity;
}

/** A mutation whose result is `{ data } | CodedError`; throws on the error. */
async function mutate<T>(api: Api, field: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const result = await graphql<Record<string, { data?: T; code?: string; message?: string }>>(
    api.url,
    { token: api.token },
    query,
    variables,
  );
  const answer = result[field]!;
  if (answer.data === undefined) throw new Error(`${field} refused: ${answer.code} ${answer.message}`);
  return answer.data;
}

async function measureRun(target: BenchTarget, identity: string, index: number): Promise<RunResult> {
  const { pg, raw, api } = target;
  const file = path.join(raw.dir, `offsite-${index}.dump`);
  await settle(pg);
  const rawBackup = await timedSize(() => raw.dump(file));
  await settle(pg);
  const { job: backup, backupId, cpu: backupCpu } = await serviceBackup(target);
  await settle(pg);
  const rawRestore = await timed(() => raw.restore(file));
  await settle(pg);
  const { result: restore, parts: restoreCpu } = await withCpuParts(target, () =>
    runJob(api, restoreBackup(backupId, TARGET_DB, identity)),
  );
  await rm(file);
  return {
    raw: { backup: rawBackup.seconds, restore: rawRestore },
    service: { backup: backup.seconds, restore: restore.seconds },
    bytes: { raw: rawBackup.bytes, service: await backupSize(api, backupId) },
    cpu: { backup: backupCpu, restore: restoreCpu },
    steps: backupSteps(target.server, backup.final.id),
  };
}

/** One backup to S3 with the server's RSS read every 100 ms, against its idle baseline just before. */
async function measureMemory(target: BenchTarget, dbBytes: number): Promise<MemoryResult> {
  const pid = target.server.pid;
  await settle(target.pg);
  progress(`a backup of ${(dbBytes / MB).toFixed(0)} MB to S3, memory sampled`);
  const baseline = await steadyRss(pid);
  const sampler = sampleEvery(100, async () => ({ at: performance.now(), rss: await readRss(pid) }));
  const { seconds, final } = await runJob(target.api, createBackup);
  const samples = await sampler.stop();
  const half = samples[0]!.at + (samples.at(-1)!.at - samples[0]!.at) / 2;
  const peak = (list: typeof samples) => Math.max(...list.map((s) => s.rss)) - baseline;
  return {
    dbBytes,
    storedBytes: await backupSize(target.api, final.backupId!),
    seconds,
    baseline,
    growth: peak(samples),
    growthFirstHalf: peak(samples.filter((s) => s.at <= half)),
  };
}

function ratios(runs: RunResult[]) {
  const m = (pick: (run: RunResult) => number) => median(runs.map(pick));
  return {
    backup: m((r) => r.service.backup) / m((r) => r.raw.backup),
    restore: m((r) => r.service.restore) / m((r) => r.raw.restore),
  };
}

function ratiosMet(runs: RunResult[]): boolean {
  const r = ratios(runs);
  return r.backup <= TARGETS.backup && r.restore <= TARGETS.restore;
}

function renderReport(runs: RunResult[], memory: MemoryResult, target: BenchTarget): string {
  const m = (pick: (run: RunResult) => number) => median(runs.map(pick));
  const r = ratios(runs);
  return [
    '## Off-site: encrypted backups to S3 and restores from them',
    '',
    `Database: ${(target.dbBytes / MB).toFixed(0)} MB on ${target.serverLabel}, generated as for the backup and restore section. The target's only destination is an S3 bucket on s3rver (started by the bench, in a process of its own, on the same CPUs), and its backups are encrypted with age to a key generated through the API (\`generateKey\`); restores are given that identity (\`restoreBackup(identity:)\`) and read the backup from S3. Medians of ${runs.length} run(s), each against the raw tools on the same database; timed like the section above.`,
    '',
    ...VERSUS_RAW_HEAD,
    `| backup: zstd + age, to S3 | \`pg_dump -Fc\` ${secs(m((x) => x.raw.backup))}, ${mb(m((x) => x.bytes.raw))} | ${secs(m((x) => x.service.backup))}, ${mb(m((x) => x.bytes.service))} | ${r.backup.toFixed(3)} | ${verdict(r.backup, TARGETS.backup)} |`,
    `| restore from S3 (age, zstd) | \`pg_restore -1 --clean --if-exists\` of the local \`-Fc\` file ${secs(m((x) => x.raw.restore))} | ${secs(m((x) => x.service.restore))} | ${r.restore.toFixed(3)} | ${verdict(r.restore, TARGETS.restore)} |`,
    '',
    'Where the time goes: CPU seconds of each party during the service’s steps (medians; /proc, all threads; s3rver’s own CPU is not counted):',
    '',
    ...cpuPartsTable(
      [
        { step: 'service backup to S3', parts: runs.map((x) => x.cpu.backup) },
        { step: 'service restore from S3', parts: runs.map((x) => x.cpu.restore) },
      ],
      median,
    ),
    '',
    ...backupStepsSection(
      'zstd + age, to S3',
      runs.map((x) => x.steps),
    ),
    '',
    `Memory: one backup of the database grown to ${mb(memory.dbBytes)} (stored: ${mb(memory.storedBytes)}, encrypted, to S3, ${secs(memory.seconds)}), the server's RSS read every 100 ms against its idle baseline just before (${mb(memory.baseline)}).`,
    '',
    '| measure | value | target |',
    '|---|---|---|',
    `| peak RSS growth during the backup | ${mb(memory.growth)} | < ${TARGETS.rssGrowthMb} MB: ${memory.growth / MB < TARGETS.rssGrowthMb ? 'met' : 'MISSED'} |`,
    `| peak RSS growth in its first half | ${mb(memory.growthFirstHalf)} | flat: the second half adds ${mb(memory.growth - memory.growthFirstHalf)} |`,
    '',
    'Per run (raw backup / service backup / raw restore / service restore, seconds):',
    '',
    ...perRunLines(runs, (x) => [x.raw.backup, x.service.backup, x.raw.restore, x.service.restore]),
    '',
  ].join('\n');
}
