import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { App } from '../../src/app.js';
import { instances } from '../../src/db/schema.js';
import { type TestEnv, createTestEnv, waitFor } from './harness.js';

const adminUrl = inject('pgAdminUrl');
let env: TestEnv;
let app: App;

beforeAll(async () => {
  env = await createTestEnv(adminUrl, 'recloop');
  app = await env.startApp({}, { scheduleTicker: false });
});
afterAll(async () => env?.cleanup());

it('removes the rows of instances not seen for a day in its recovery loop, and only those', async () => {
  const instance = (id: string, seenAgo: string) => ({
    id,
    hostname: 'gone.example',
    pid: 1,
    role: 'worker',
    startedAt: sql`now() - ${seenAgo}::interval - interval '1 hour'`,
    seenAt: sql`now() - ${seenAgo}::interval`,
  });
  const old = randomUUID();
  const recent = randomUUID();
  await app.db.insert(instances).values([instance(old, '25 hours'), instance(recent, '23 hours')]);
  const ids = async () => (await app.db.select({ id: instances.id }).from(instances)).map((row) => row.id).sort();
  // The loop runs every 10 s.
  await waitFor('the old instance row to go', async () => ((await ids()).includes(old) ? undefined : true), 30_000);
  expect(await ids()).toEqual([app.instanceId, recent].sort());
});
