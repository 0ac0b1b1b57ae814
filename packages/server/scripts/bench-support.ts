// Helpers shared by the `pnpm bench` scripts: options, the real service as a child process, a
// throwaway embedded PostgreSQL, logging in, the server's memory, the machine's facts, medians.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// The benchmarks start PostgreSQL exactly as the test runs do.
export { freePort, startThrowawayPostgres, type ThrowawayPostgres } from '@pgbs/test-support';

export const SERVER_DIR = fileURLToPath(new URL('../', import.meta.url));
export const ADMIN = { email: 'bench@example.com', password: 'bench-password-123' };
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

export interface Server {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * `src/main.ts` itself (node --import tsx, so that the pid is the server's own), configured by `env`
 * (merged over a random port and the bench admin). Resolves once it prints its GraphQL URL.
 */
export async function startServer(env: Record<string, string>): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: SERVER_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: '0', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ...env },
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /GraphQL API and playground: (\S+)\/graphql/.exec(output);
      if (match) resolve(match[1]!);
    });
    void exited.then(() => reject(new Error(`the service exited during start-up:\n${output.slice(-2000)}`)));
  });
  let stopping = false;
  // A crash mid-bench would otherwise only show as a vanished pid.
  void exited.then(() => {
    if (!stopping) process.stderr.write(`the service exited unexpectedly:\n${output.slice(-4000)}\n`);
  });
  return {
    url,
    pid: child.pid!,
    async stop() {
      stopping = true;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Logs the bench admin in; returns the session cookie (`name=value`). */
export async function login(url: string): Promise<string> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename } }',
      variables: { e: ADMIN.email, p: ADMIN.password },
    }),
  });
  const cookie = response.headers.get('set-cookie');
  if (!cookie) throw new Error(`login failed: ${await response.text()}`);
  return cookie.split(';')[0]!;
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
