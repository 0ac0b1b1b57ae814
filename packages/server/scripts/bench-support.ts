// Helpers shared by the `pnpm bench` scripts: options, the real service as a child process, a
// throwaway embedded PostgreSQL, logging in, the server's memory, the machine's facts, medians.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { promisify } from 'node:util';

// The benchmarks start PostgreSQL exactly as the test runs do, and the service as the fault tests do.
export { freePort, startThrowawayPostgres, type ThrowawayPostgres } from '@pgbs/test-support';
export { type Server, login, startServer } from './service-process.js';

export const MB = 1024 * 1024;
export const exec = promisify(execFile);

export interface BenchOptions {
  /** Size of the generated target database (backup-restore). */
  sizeMb: number;
  /** Runs per measurement; medians are reported. */
  runs: number;
  /** Size of the uploaded file (upload). */
  uploadMb: number;
  /** graphql-ws connections that follow one backup (backup-restore; 0 skips). */
  subscribers: number;
  /** Runs of each command (startup): they take a fraction of a second, so more than `runs`. */
  startupRuns: number;
  /** Targets all due in the same minute (scheduling). */
  targets: number;
  /** Bytes each pipeline stage is measured over, in MB (stages; compression: the size of each dataset). */
  stageMb: number;
  /** Size of the database backed up to S3 while the server's memory is read (offsite). */
  memoryMb: number;
}

/** One part of the report: markdown, and whether its targets were met. */
export interface BenchSection {
  markdown: string;
  ok: boolean;
}

/** On stderr, so that stdout carries only the results. */
export function progress(message: string): void {
  process.stderr.write(`… ${message}\n`);
}

/** Seconds that `work` took. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

/** Seconds and bytes of a dump into a file. */
export async function timedSize(dump: () => Promise<number>): Promise<{ seconds: number; bytes: number }> {
  let bytes = 0;
  const seconds = await timed(async () => (bytes = await dump()));
  return { seconds, bytes };
}

/** VmRSS: what the kernel really holds for the process (heap, buffers, code), in bytes. */
export async function readRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/**
 * Calls `sample` every `intervalMs` until stopped; stop() waits for the sample in flight (nothing
 * reads a process after it is stopped) and rethrows the first failure.
 */
export function sampleEvery<T>(intervalMs: number, sample: () => Promise<T>) {
  const samples: T[] = [];
  let failure: unknown;
  let inFlight: Promise<void> = Promise.resolve();
  const take = () => {
    inFlight = inFlight.then(async () => {
      if (failure !== undefined) return;
      try {
        samples.push(await sample());
      } catch (error) {
        failure = error;
      }
    });
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    samples,
    async stop(): Promise<T[]> {
      clearInterval(timer);
      await inFlight;
      if (failure !== undefined) throw failure;
      return samples;
    },
  };
}

/** CPU seconds so far: all CPUs' busy time (from /proc/stat) and one process's user + system time. */
async function cpuSeconds(pid: number): Promise<{ machine: number; process: number }> {
  const HZ = 100; // USER_HZ, the unit of both files on Linux
  const [, ...fields] = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number) as number[];
  const own = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return {
    machine: (user! + nice! + system! + irq! + softirq! + steal!) / HZ,
    process: (Number(own[11]) + Number(own[12])) / HZ,
  };
}

/** This process's CPU (user + system, all its threads: zlib works on libuv's pool) and wall time of `work`. */
export async function cpuOf<T>(
  work: () => Promise<T>,
): Promise<{ output: T; cpuSeconds: number; wallSeconds: number }> {
  const before = process.cpuUsage();
  const start = performance.now();
  const output = await work();
  const used = process.cpuUsage(before);
  return { output, cpuSeconds: (used.user + used.system) / 1e6, wallSeconds: (performance.now() - start) / 1000 };
}

export interface CpuUse {
  /** Share of all CPUs' time that was busy (0..1), whatever the process. */
  machineBusy: number;
  /** CPU seconds of the process watched (the service). */
  processSeconds: number;
}

/** Runs `work` and says how busy the CPUs were meanwhile, and how much of it was the process `pid`. */
export async function withCpuUse<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; cpu: CpuUse }> {
  const before = await cpuSeconds(pid);
  const start = performance.now();
  const result = await work();
  const wall = (performance.now() - start) / 1000;
  const after = await cpuSeconds(pid);
  return {
    result,
    cpu: {
      machineBusy: (after.machine - before.machine) / (wall * availableParallelism()),
      processSeconds: after.process - before.process,
    },
  };
}

/** The server's RSS every 100 ms; the baseline is the first sample. */
export function sampleRss(pid: number) {
  const sampler = sampleEvery(100, () => readRss(pid));
  return {
    async stop() {
      const samples = await sampler.stop();
      return { baseline: samples[0]!, max: Math.max(...samples) };
    },
  };
}

/** The median of a few samples of the server's RSS (one sample is at the mercy of the GC). */
export async function steadyRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(await readRss(pid));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return median(samples);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The value below which `p` (0..1) of the values lie (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** Median of the values that exist; null when none do. */
export function medianOf(values: (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? median(present) : null;
}

export const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

// The reports' pieces that measure the service against the raw tools (backup-restore, offsite).

/** Seconds as a report prints them; null: n/a. */
export const secs = (seconds: number | null) => (seconds === null ? 'n/a' : `${seconds.toFixed(2)} s`);

/** A ratio of the service to the raw tool against its target (at most). */
export const verdict = (ratio: number, target: number) =>
  `≤ ${target.toFixed(2)}: ${ratio <= target ? 'met' : 'MISSED'}`;

/** The head of the table of the service against the raw tools. */
export const VERSUS_RAW_HEAD = ['| operation | raw tool | service | service / raw | target |', '|---|---|---|---|---|'];

/** One line a run: its figures, in seconds. */
export const perRunLines = <Run>(runs: Run[], figures: (run: Run) => number[]) =>
  runs.map(
    (run, i) =>
      `- run ${i + 1}: ${figures(run)
        .map((v) => v.toFixed(2))
        .join(' / ')}`,
  );

/** What the figures depend on, for the report. */
export async function machineFacts(): Promise<string[]> {
  const version = async (tool: string) => (await exec(tool, ['--version'])).stdout.trim();
  const cpu = /model name\s*:\s*(.+)/.exec(await readFile('/proc/cpuinfo', 'utf8').catch(() => ''))?.[1];
  return [
    `CPUs: ${availableParallelism()}${cpu ? ` (${cpu})` : ''}, memory: ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, Linux ${release()}`,
    // Shows whether something else was using the CPUs while the bench ran.
    `load average when the report was written: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `${await version('pg_dump')}; ${await version('pg_restore')}; ${await version('psql')}; Node ${process.version}`,
  ];
}
