import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock.js';
import { openPsqlSession } from '../../../src/pg/psql-session.js';
import type { ProcessExit, ProcessRunner } from '../../../src/pg/process.js';

const clock: Clock = { now: () => 0, setTimeout: () => ({ cancel: () => {} }) };
const target = { database: 'db', display: 'h:5432/db', env: { PGHOST: 'h' } };

/** A fake psql: what the test writes to `answer` comes out as its output; `exit` ends it. */
function fakePsql() {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let exit!: (value: ProcessExit) => void;
  const exited = new Promise<ProcessExit>((resolve) => (exit = resolve));
  const received: string[] = [];
  stdin.on('data', (chunk: Buffer) => received.push(chunk.toString()));
  const kills: string[] = [];
  const runner: ProcessRunner = {
    spawn: () => ({ pid: 1, stdin, stdout, stderr, exit: exited, kill: (signal = 'SIGTERM') => kills.push(signal) }),
  };
  return {
    runner,
    received,
    kills,
    stdin,
    answer: (line: string) => stdout.write(`${line}\n`),
    exit: () => {
      stdout.end();
      exit({ code: 3, signal: null });
    },
  };
}

describe('openPsqlSession', () => {
  it('sends each query on one line and answers it with the next line of output', async () => {
    const psql = fakePsql();
    const session = openPsqlSession({ runner: psql.runner, clock, psql: 'psql', target, applicationName: 'x' });
    const first = session.queryLine('SELECT 1;\n');
    await new Promise((resolve) => setImmediate(resolve));
    psql.answer('{"a":1}');
    expect(await first).toBe('{"a":1}');
    expect(psql.received.join('')).toBe('SELECT 1;\n');
  });

  it('answers null to waiting and later queries once psql has exited (an error with ON_ERROR_STOP)', async () => {
    const psql = fakePsql();
    const session = openPsqlSession({ runner: psql.runner, clock, psql: 'psql', target, applicationName: 'x' });
    const waiting = session.queryLine('SELECT broken;');
    psql.exit();
    expect(await waiting).toBeNull();
    expect(await session.queryLine('SELECT 1;')).toBeNull();
  });

  it('closes by ending its input', async () => {
    const psql = fakePsql();
    const session = openPsqlSession({ runner: psql.runner, clock, psql: 'psql', target, applicationName: 'x' });
    session.close();
    expect(psql.stdin.writableEnded).toBe(true);
  });

  it('is a finished session, not an error, when psql cannot be started', async () => {
    const runner: ProcessRunner = {
      spawn: () => {
        throw new Error('spawn E2BIG');
      },
    };
    const session = openPsqlSession({ runner, clock, psql: 'psql', target, applicationName: 'x' });
    expect(await session.queryLine('SELECT 1;')).toBeNull();
  });
});
