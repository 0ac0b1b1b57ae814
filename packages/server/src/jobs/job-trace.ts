import { AsyncLocalStorage } from 'node:async_hooks';
import type { Writable } from 'node:stream';
import type { Logger } from '../logger.js';

/**
 * Where a job's time goes (PGBS_TRACE_JOBS=1, for finding a job's fixed cost; off by default).
 * The worker opens a trace per job run; `traced` times a step anywhere below it (the handler, the
 * worker's own writes), and `countQuery` counts the metadata queries made on its behalf (the pool's
 * debug hook). One log line per job when it ends. Off, both are pass-throughs.
 */
interface Trace {
  steps: [string, number][];
  queries: number;
  /** Per statement (its first words): which queries a job makes. */
  statements: Map<string, number>;
}

const current = new AsyncLocalStorage<Trace>();
let logger: Logger | null = null;

/** Turns tracing on for this process (app.ts, from the configuration). */
export function enableJobTrace(log: Logger): void {
  logger = log;
}

/**
 * Runs a job's attempt in a trace of its own, logged with `fields` when `work` settles; null
 * fields: not logged (an attempt that found no slot), its queries added to the job's next one.
 */
export async function withJobTrace<T>(
  jobId: string,
  fields: () => Record<string, unknown> | null,
  work: () => Promise<T>,
): Promise<T> {
  if (!logger) return work();
  const trace: Trace = { steps: [], queries: 0, statements: new Map() };
  const started = performance.now();
  try {
    return await current.run(trace, work);
  } finally {
    const logged = fields();
    const earlier = refused.get(jobId) ?? { attempts: 0, queries: 0 };
    if (logged) {
      refused.delete(jobId);
      logger?.info('job trace', {
        jobId,
        ...logged,
        totalMs: Math.round(performance.now() - started),
        metadataQueries: trace.queries,
        statements: Object.fromEntries(trace.statements),
        refusedAttempts: earlier.attempts,
        refusedAttemptQueries: earlier.queries,
        steps: Object.fromEntries(trace.steps),
      });
    } else {
      refused.set(jobId, { attempts: earlier.attempts + 1, queries: earlier.queries + trace.queries });
    }
  }
}

/** Per job: its attempts that found no slot so far, and their queries. */
const refused = new Map<string, { attempts: number; queries: number }>();

/** Times one step of the current job (a step run twice adds up). */
export async function traced<T>(step: string, work: () => Promise<T>): Promise<T> {
  const trace = current.getStore();
  if (!trace) return work();
  const started = performance.now();
  try {
    return await work();
  } finally {
    addTime(trace, step, performance.now() - started);
  }
}

function addTime(trace: Trace, step: string, ms: number): void {
  const entry = trace.steps.find(([name]) => name === step);
  if (entry) entry[1] += Math.round(ms);
  else trace.steps.push([step, Math.round(ms)]);
}

/**
 * Counts as `step` the time writers to `stream` wait for it (a write answered "full" until its
 * 'drain'): where a backup waits for its storage, e.g. an upload's parts. Traced jobs only.
 */
export function tracedBackpressure(step: string, stream: Writable): void {
  const trace = current.getStore();
  if (!trace) return;
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  let full: number | null = null;
  stream.write = ((...args: unknown[]) => {
    const accepted = write(...args);
    if (!accepted && full === null) full = performance.now();
    return accepted;
  }) as Writable['write'];
  stream.on('drain', () => {
    if (full === null) return;
    addTime(trace, step, performance.now() - full);
    full = null;
  });
}

/** The metadata pool's debug hook: a query sent within a job's trace counts for that job. */
export function countQuery(_connection: number, query: string): void {
  const trace = current.getStore();
  if (!trace) return;
  trace.queries++;
  const statement = query.replace(/\s+/g, ' ').trim().slice(0, 48);
  trace.statements.set(statement, (trace.statements.get(statement) ?? 0) + 1);
}
