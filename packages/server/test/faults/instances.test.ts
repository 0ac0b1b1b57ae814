import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withSql } from '@pgbs/test-support';
import { type Server, graphql, login, startServer } from '../../scripts/service-process.js';
import { type TestEnv, addBigTable, createTestEnv, waitFor } from '../integration/harness.js';

const adminUrl = inject('pgAdminUrl');

interface JobState {
  id: string;
  state: string;
  errorCode: string | null;
}

describe('two service processes on one metadata database', () => {
  let env: TestEnv;
  let dataDir: string;
  const started: Server[] = [];

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'inst');
    dataDir = await mkdtemp(path.join(tmpdir(), 'pgbs-inst-data-'));
    // A backup takes seconds on two cores: time to see where it runs and to kill it.
    await addBigTable(env.target.url);
  });
  afterAll(async () => {
    for (const each of started) await each.stop();
    await env?.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A real service process; one job at a time each, so that a second job must go to the other. */
  async function start() {
    const server = await startServer({ ...env.env, DATA_DIR: dataDir, WORKER_CONCURRENCY: '1' });
    started.push(server);
    const cookie = await login(server.url);
    const request = <T>(query: string, variables: Record<string, unknown> = {}) =>
      graphql<T>(server.url, { cookie }, query, variables);
    return {
      server,
      request,
      job: async (id: string) =>
        (await request<{ job: JobState }>('query($id: ID!) { job(id: $id) { id state errorCode } }', { id })).job,
      backup: async (description: string) =>
        (
          await request<{ createBackup: { data: { id: string } } }>(
            `mutation($d: String!) { createBackup(description: $d) { ... on MutationCreateBackupSuccess { data { id } } } }`,
            { d: description },
          )
        ).createBackup.data.id,
    };
  }
  type Api = Awaited<ReturnType<typeof start>>;

  const partials = async () => (await readdir(env.backupDir)).filter((f) => f.endsWith('.partial'));
  /** The pid of the process running the job, from its instance's row. */
  const runnerPid = async (jobId: string) =>
    waitFor('the job to run', async () => {
      const [row] = await withSql(
        env.metadata.url,
        (sql) => sql`SELECT i.pid FROM jobs j JOIN instances i ON i.id = j.instance_id
                     WHERE j.id = ${jobId} AND j.state = 'running'`,
      );
      return row?.pid as number | undefined;
    });
  const ended = (api: Api, jobId: string) =>
    waitFor(
      'the job to end',
      async () => {
        const job = await api.job(jobId);
        return job.state === 'queued' || job.state === 'running' ? undefined : job;
      },
      90_000,
    );

  let a: Api;
  let b: Api;

  it('split the work: two backups asked of one instance run on both', async () => {
    a = await start();
    b = await start();
    const ids = [await a.backup('first'), await a.backup('second')];
    const pids = await Promise.all(ids.map(runnerPid));
    expect(new Set(pids)).toEqual(new Set([a.server.pid, b.server.pid]));
    for (const id of ids) expect((await ended(a, id)).state).toBe('succeeded');
  });

  it('kill -9 of the instance running a backup: the other fails it job/interrupted within 60 s and removes its partial file', async () => {
    const id = await a.backup('killed');
    const pid = await runnerPid(id);
    await waitFor('a partial file with data', async () => {
      const [file] = await partials();
      return file && (await stat(`${env.backupDir}/${file}`)).size > 0 ? true : undefined;
    });
    const [victim, survivor] = pid === a.server.pid ? [a, b] : [b, a];
    const killedAt = Date.now();
    await victim.server.kill();
    const job = await ended(survivor, id);
    expect(Date.now() - killedAt).toBeLessThan(60_000);
    expect(job).toMatchObject({ state: 'failed', errorCode: 'job/interrupted' });
    expect(await partials()).toEqual([]);
    // The survivor goes on working: a new instance joins and a backup runs to its end.
    const replacement = await start();
    if (victim === a) a = replacement;
    else b = replacement;
    expect((await ended(survivor, await survivor.backup('after the kill'))).state).toBe('succeeded');
  });

  it('cancels from the instance that does not run the job', async () => {
    const id = await a.backup('cancelled elsewhere');
    const pid = await runnerPid(id);
    const other = pid === a.server.pid ? b : a;
    await other.request('mutation($id: ID!) { cancelJob(id: $id) { id } }', { id });
    expect(await ended(other, id)).toMatchObject({ state: 'cancelled', errorCode: 'job/cancelled' });
    expect(await partials()).toEqual([]);
  });
});
