import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { withSql } from '@pgbs/test-support';
import { type App, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { spawnCli } from './cli-process.js';
import { type TestEnv, createTestEnv, silentLogger, waitFor } from './harness.js';

const adminUrl = inject('pgAdminUrl');
let env: TestEnv;
let asker: App;

beforeAll(async () => {
  env = await createTestEnv(adminUrl, 'worker');
  // Runs only the jobs it asks for itself: a job it puts on the shared queue needs a worker.
  asker = await createApp(loadConfig(env.env), silentLogger, { role: 'cli' });
});
afterAll(async () => {
  await asker?.close();
  await env?.cleanup();
});

it('pnpm cli worker run takes jobs from the shared queue without HTTP, and stops on SIGTERM', async () => {
  const worker = spawnCli(env.env, ['worker', 'run'], '', { singleProcess: true });
  await waitFor('the worker to start', async () => (worker.stderr.includes('is running jobs') ? true : undefined));
  const instanceId = /Worker (\S+) is running jobs/.exec(worker.stderr)![1]!;
  const target = await asker.targets.connections.defaultTarget();
  const { job, done } = await asker.jobs.start({
    kind: 'backup',
    params: { format: 'custom', description: 'by the worker', target: target.connection.display },
    actor: { name: 'test' },
    targetId: target.id,
    lockKey: await asker.backups.lockKey(),
    placement: 'any',
  });
  expect(job.state).toBe('queued');
  const finished = await done;
  expect(finished.state, `${finished.errorCode} ${finished.errorMessage}`).toBe('succeeded');
  expect(finished.instanceId).toBe(instanceId);
  expect((await asker.backups.get(finished.backupId!)).targetId).toBe(target.id);

  worker.signal('SIGTERM');
  expect((await worker.done).code).toBe(0);
  const left = await withSql(env.metadata.url, (sql) => sql`SELECT id FROM instances WHERE id = ${instanceId}`);
  expect(left).toEqual([]);
});
