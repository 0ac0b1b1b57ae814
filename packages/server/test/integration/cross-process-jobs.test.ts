import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { withSql } from '@pgbs/test-support';
import type { JobRow } from '../../src/db/schema.js';
import { followJob, jobStateChanges } from '../../src/graphql/job-streams.js';
import { type TestEnv, createTestEnv } from './harness.js';

const adminUrl = inject('pgAdminUrl');
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv(adminUrl, 'xproc');
  // A few seconds of dump, so that progress is published while the other process follows.
  await withSql(env.target.url, (sql) =>
    sql.unsafe(`CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 6) AS v FROM generate_series(1, 400000) g;
                ANALYZE big;`),
  );
});
afterAll(async () => env?.cleanup());

it("follows a job another process runs (the CLI's, in the server's panel) live, to its end", async () => {
  const server = await env.startApp();
  const cli = await env.startApp();
  const states: JobRow[] = [];
  const changes = jobStateChanges(server)[Symbol.asyncIterator]();
  const collecting = (async () => {
    for (let next = await changes.next(); !next.done; next = await changes.next()) {
      states.push(next.value);
      if (next.value.state === 'succeeded') return;
    }
  })();

  const { job, done } = await cli.backups.createBackup({ description: 'from the CLI' }, { name: 'cli' });
  const seen: JobRow[] = [];
  // Ends only if the terminal state crosses over: before, this waited forever.
  for await (const row of await followJob(server, job.id)) seen.push(row);
  await done;
  await collecting;
  await changes.return?.();

  expect(seen.at(-1)).toMatchObject({ id: job.id, state: 'succeeded' });
  const percents = seen.map((row) => (row.progress as { percent?: number } | null)?.percent ?? 0);
  expect(percents.filter((p) => p > 0 && p < 100).length, percents.join(', ')).toBeGreaterThan(2);
  expect(percents.every((p, i) => i === 0 || p >= percents[i - 1]!)).toBe(true);
  expect(states.filter((s) => s.id === job.id).map((s) => s.state)).toEqual(['queued', 'running', 'succeeded']);
});
