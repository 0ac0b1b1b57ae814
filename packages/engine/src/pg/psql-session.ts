import type { Clock } from '../clock.js';
import { forEachLine } from '../streams/lines.js';
import type { PgTarget } from './connection.js';
import type { ProcessRunner, RunningProcess } from './process.js';
import { safeSessionEnv } from './safe-session.js';

/** A long-lived psql that answers queries whose result is one line (e.g. one JSON value). */
export interface PsqlSession {
  /** The result line; null once the session is over (psql exited, on any error). */
  queryLine(sql: string): Promise<string | null>;
  /** Ends psql's input; kills it if it has not exited within a grace period (still connecting). */
  close(): void;
}

const CLOSE_GRACE_MS = 2000;

/**
 * One psql process for many small queries: a process per query cost ~25 ms of CPU (fork of the
 * service, psql start, a backend per connection), which a poll every second turned into the
 * service's largest overhead during a backup. psql flushes each result even into a pipe. With
 * ON_ERROR_STOP a failed query ends the session instead of leaving a caller waiting for a line.
 */
export function openPsqlSession(options: {
  runner: ProcessRunner;
  clock: Clock;
  psql: string;
  target: PgTarget;
  applicationName: string;
}): PsqlSession {
  let child: RunningProcess;
  try {
    child = options.runner.spawn(options.psql, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-f', '-'], {
      env: safeSessionEnv({
        ...options.target.env,
        PGCONNECT_TIMEOUT: options.target.env.PGCONNECT_TIMEOUT ?? '10',
        PGAPPNAME: options.applicationName,
      }),
    });
  } catch {
    // Could not even start (resources): a session that is already over, never a failed job.
    return { queryLine: () => Promise.resolve(null), close: () => {} };
  }
  const waiting: ((line: string | null) => void)[] = [];
  let over = false;
  const end = () => {
    over = true;
    for (const resolve of waiting.splice(0)) resolve(null);
  };
  child.stderr.resume();
  forEachLine(child.stdout, (line) => waiting.shift()?.(line)).catch(() => {});
  child.exit.then(end, end);
  return {
    queryLine(sql) {
      if (over) return Promise.resolve(null);
      return new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin.write(`${sql.trim()}\n`);
      });
    },
    close() {
      if (over) return;
      child.stdin.end();
      const grace = options.clock.setTimeout(() => child.kill('SIGKILL'), CLOSE_GRACE_MS);
      child.exit.then(
        () => grace.cancel(),
        () => grace.cancel(),
      );
    },
  };
}
