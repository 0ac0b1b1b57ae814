import path from 'node:path';
import type { Readable } from 'node:stream';
import { EngineError } from '../errors.js';
import { LineTail, forEachLine } from '../streams/lines.js';
import type { PgTarget } from './connection.js';
import type { ProcessRunner } from './process.js';
import { safeSessionEnv } from './safe-session.js';
import type { PgTools } from './tools.js';

export interface GlobalsDump {
  /** The SQL pg_dumpall writes: roles, memberships, role settings and tablespaces. */
  stdout: Readable;
  /** Settles when pg_dumpall has exited: rejects with pg/tool-failed unless it exited 0. */
  done: Promise<void>;
  kill(): void;
}

/**
 * pg_dumpall --globals-only of the target's server. Without withPasswords it adds
 * --no-role-passwords, which reads pg_roles instead of pg_authid: no superuser is needed, and no
 * password hash leaves the server. The password reaches pg_dumpall through its environment only.
 */
export function dumpGlobals(options: {
  runner: ProcessRunner;
  tools: PgTools;
  target: PgTarget;
  withPasswords: boolean;
}): GlobalsDump {
  const args = ['--globals-only', `--database=${options.target.database}`];
  if (!options.withPasswords) args.push('--no-role-passwords');
  const child = options.runner.spawn(path.join(options.tools.dir, 'pg_dumpall'), args, {
    env: safeSessionEnv({ ...options.target.env, PGCONNECT_TIMEOUT: options.target.env.PGCONNECT_TIMEOUT ?? '10' }),
  });
  child.stdin.end();
  const stderr = new LineTail(20);
  const done = Promise.all([child.exit, forEachLine(child.stderr, (line) => stderr.push(line))]).then(([exit]) => {
    if (exit.code === 0) return;
    const reason = [...stderr.all()].filter(Boolean).at(-1) ?? `exit ${exit.signal ?? exit.code}`;
    throw new EngineError(
      'pg/tool-failed',
      `pg_dumpall --globals-only on ${options.target.display} failed: ${reason.replace(/^pg_dumpall:\s*(error:\s*)?/, '')}`,
    );
  });
  return { stdout: child.stdout, done, kill: () => child.kill('SIGKILL') };
}
