import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { EngineError } from '@pgbs/engine';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobsRepository } from '../../../src/jobs/jobs-repository.js';
import { storeGlobals } from '../../../src/modules/backups/store-globals.js';
import { localObjectStorage } from '../../../src/storage/local-storage.js';

describe('storeGlobals', () => {
  let dir: string;
  let warnings: string[];
  const jobs = { addWarning: async (_id: string, warning: string) => void warnings.push(warning) };
  const context = (aborted = false) => ({
    jobId: 'job-1',
    signal: aborted ? AbortSignal.abort() : new AbortController().signal,
  });
  const run = (dumpGlobals: (targetId: string, sink: Writable) => Promise<boolean>, aborted = false) =>
    storeGlobals(
      { dumpGlobals, storage: localObjectStorage(dir), jobs: jobs as unknown as JobsRepository },
      context(aborted),
      'target-1',
      'b.dump',
    );

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pgbs-globals-'));
    warnings = [];
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('stores what the target dumps beside the backup, private', async () => {
    const name = await run(async (_id, sink) => {
      sink.end('CREATE ROLE app;\n');
      return true;
    });
    expect(name).toBe('b.dump.globals.sql');
    expect(await readFile(path.join(dir, name!), 'utf8')).toBe('CREATE ROLE app;\n');
    expect((await stat(path.join(dir, name!))).mode & 0o777).toBe(0o600);
    expect(warnings).toEqual([]);
  });

  it('keeps nothing for a target that keeps no roles', async () => {
    expect(await run(async () => false)).toBeNull();
    expect(await readdir(dir)).toEqual([]);
  });

  it('turns a failed dump into a warning on the job, leaving no file', async () => {
    const name = await run(async (_id, sink) => {
      sink.write('CREATE ROLE half');
      throw new EngineError('pg/connection-failed', 'could not connect');
    });
    expect(name).toBeNull();
    expect(await readdir(dir)).toEqual([]);
    expect(warnings).toEqual([
      "The backup was kept without the server's roles and grants (globals): could not connect [pg/connection-failed]",
    ]);
  });

  it('fails the job when it was cancelled meanwhile', async () => {
    const failing = run(async () => {
      throw new Error('killed');
    }, true);
    await expect(failing).rejects.toThrow('killed');
    expect(warnings).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });
});
