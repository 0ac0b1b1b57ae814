import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import {
  diffFingerprints,
  fingerprint,
  loadFeatureRichSchema,
  mutateFeatureRichDatabase,
  withSql,
} from '@pgbs/test-support';
import { type ApiEnv, graphqlWsClient, openSse, startApi } from './api-harness.js';

const adminUrl = inject('pgAdminUrl');

const ALLOWED_ORIGIN = 'https://panel.example.com';

interface JobValue {
  id: string;
  kind: string;
  state: string;
  backupId: string | null;
  progress: { phase: string; percent: number } | null;
}

interface Result {
  data?: Record<string, JobValue> | null;
  errors?: readonly { message: string; extensions?: { code?: string } }[];
}

const JOB_FIELDS = 'id kind state backupId progress { phase percent }';
const JOB_PROGRESS = `subscription($id: ID!) { jobProgress(jobId: $id) { ${JOB_FIELDS} } }`;
const JOB_EVENTS = `subscription { jobEvents { ${JOB_FIELDS} } }`;

describe('job subscriptions over graphql-ws and SSE', () => {
  let api: ApiEnv;
  const clients: Client[] = [];

  beforeAll(async () => {
    api = await startApi(adminUrl, 'subs', {
      ALLOWED_ORIGINS: ALLOWED_ORIGIN,
      BACKUP_COMPRESSION: '1',
      // A test holds a table lock while 200 clients connect; the backup must wait for it.
      LOCK_TIMEOUT_SECONDS: '60',
    });
    await loadFeatureRichSchema(api.env.target.url);
    // ~40 MB in one table: the dump takes long enough to report progress more than once.
    await withSql(api.env.target.url, (sql) =>
      sql.unsafe(`
        CREATE TABLE public.bulk_notes (id integer PRIMARY KEY, body text NOT NULL);
        INSERT INTO public.bulk_notes SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 150000) g;
        ANALYZE public.bulk_notes;`),
    );
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await api?.close();
  });

  function wsClient(options: Parameters<typeof graphqlWsClient>[1] = {}) {
    const client = graphqlWsClient(api.http.url, options);
    clients.push(client);
    return client;
  }

  const adminWs = () => wsClient({ headers: { cookie: api.adminCookie } });

  /** Every result of one operation, until it completes. */
  async function collect(client: Client, query: string, variables: Record<string, unknown> = {}): Promise<Result[]> {
    const results: Result[] = [];
    for await (const result of client.iterate({ query, variables })) results.push(result as Result);
    return results;
  }

  /** The close event of a connection the server refuses. */
  async function refusal(client: Client): Promise<{ code: number; reason: string }> {
    try {
      await collect(client, '{ me { email } }');
    } catch (error) {
      return error as { code: number; reason: string };
    }
    throw new Error('the connection was accepted');
  }

  /** One operation over Yoga's SSE transport, until "complete". */
  async function sse(query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
    const stream = await openSse(api.http.url, query, variables, headers);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    if (!(await stream.ended).completed) throw new Error('the event stream ended without "complete"');
    return stream.results as Result[];
  }

  async function startBackup(): Promise<string> {
    const started = await api.gql<{ createBackup: { data: { id: string } } }>(
      'mutation { createBackup(description: "subscriptions") { ... on MutationCreateBackupSuccess { data { id } } } }',
      {},
      { cookie: api.adminCookie },
    );
    return started.data!.createBackup.data.id;
  }

  /** The job values of a jobProgress stream; asserts the stream's shape shared by every transport. */
  function progressOf(results: Result[], jobId: string): JobValue[] {
    const jobs = results.map((result) => {
      expect(result.errors).toBeUndefined();
      return result.data!['jobProgress']!;
    });
    expect(jobs.every((job) => job.id === jobId)).toBe(true);
    const percents = jobs.map((job) => job.progress?.percent ?? 0);
    expect(percents, 'progress never goes back').toEqual([...percents].sort((a, b) => a - b));
    expect(jobs.slice(0, -1).every((job) => job.state === 'queued' || job.state === 'running')).toBe(true);
    expect(jobs.at(-1)).toMatchObject({ state: 'succeeded', progress: { phase: 'done', percent: 100 } });
    return jobs;
  }

  let backupJobId: string;

  it('follows a backup over graphql-ws and its restore over SSE, and the restore brings the data back', async () => {
    const before = await fingerprint(api.env.target.url);
    backupJobId = await startBackup();

    const backup = progressOf(await collect(adminWs(), JOB_PROGRESS, { id: backupJobId }), backupJobId);
    expect(['queued', 'running']).toContain(backup[0]!.state);
    expect(backup.filter((job) => job.state === 'running' && job.progress).length).toBeGreaterThan(1);
    const backupId = backup.at(-1)!.backupId!;

    const listed = await api.gql<{ backups: { items: { id: string }[] } }>(
      '{ backups { items { id } } }',
      {},
      { cookie: api.adminCookie },
    );
    expect(listed.data!.backups.items.map((item) => item.id)).toContain(backupId);

    await mutateFeatureRichDatabase(api.env.target.url);
    const restore = await api.gql<{ restoreBackup: { data: { id: string } } }>(
      `mutation($id: ID!, $confirm: String!) {
        restoreBackup(id: $id, confirmation: $confirm, options: { safetySnapshot: false }) {
          ... on MutationRestoreBackupSuccess { data { id } }
          ... on CodedError { code message }
        }
      }`,
      { id: backupId, confirm: api.env.target.name },
      { cookie: api.adminCookie },
    );
    const restoreJobId = restore.data!.restoreBackup.data.id;
    expect(restoreJobId, JSON.stringify(restore)).toBeDefined();

    const restored = progressOf(
      await sse(JOB_PROGRESS, { id: restoreJobId }, { cookie: api.adminCookie }),
      restoreJobId,
    );
    expect(restored.at(-1)!.kind).toBe('restore');
    expect(diffFingerprints(before, await fingerprint(api.env.target.url))).toEqual([]);
  });

  it('gives a late subscriber the final state at once, then completes', async () => {
    const results = await collect(adminWs(), JOB_PROGRESS, { id: backupJobId });
    expect(results).toHaveLength(1);
    progressOf(results, backupJobId);
  });

  it('reports an unknown job as job/not-found', async () => {
    for (const id of ['00000000-0000-0000-0000-000000000000', 'not-a-uuid']) {
      const [result] = await collect(adminWs(), JOB_PROGRESS, { id });
      expect(result!.errors?.[0]?.extensions?.code).toBe('job/not-found');
    }
  });

  it('sends every state change on jobEvents', async () => {
    const listening = vi.spyOn(api.app.events, 'subscribe');
    const events = adminWs().iterate({ query: JOB_EVENTS });
    // The protocol does not acknowledge a subscription: start the job once the server listens.
    const started = vi
      .waitFor(() => expect(listening).toHaveBeenCalled())
      .then(() => {
        listening.mockRestore();
        return startBackup();
      });
    const seen: JobValue[] = [];
    for await (const result of events) {
      const job = (result as Result).data!['jobEvents']!;
      seen.push(job);
      if (job.id === (await started) && job.state === 'succeeded') break;
    }
    const jobId = await started;
    expect(seen.filter((job) => job.id === jobId).map((job) => job.state)).toEqual(['queued', 'running', 'succeeded']);
  });

  it('shares the job events between 200 subscribers instead of reading the database for each update', async () => {
    const reads = vi.spyOn(api.app.jobs, 'get');
    const { jobId, subscribers, readsToStart } = await withSql(api.env.target.url, (sql) =>
      sql.begin(async (tx) => {
        // pg_dump waits for this lock, so every subscriber starts while the job runs.
        await tx`LOCK TABLE public.bulk_notes IN ACCESS EXCLUSIVE MODE`;
        const jobId = await startBackup();
        const subscribers = Array.from({ length: 200 }, () => follow(jobId));
        await Promise.all(subscribers.map((s) => s.started));
        return { jobId, subscribers, readsToStart: reads.mock.calls.length };
      }),
    );
    // At most two reads each to start; from its first value on, a subscriber only listens to app.events.
    expect(readsToStart).toBeLessThanOrEqual(2 * subscribers.length);
    for (const results of await Promise.all(subscribers.map((s) => s.done))) {
      expect(['queued', 'running']).toContain(progressOf(results, jobId)[0]!.state);
    }
    expect(reads).toHaveBeenCalledTimes(readsToStart);
    reads.mockRestore();
  });

  /** jobProgress on a connection of its own; `started` settles with the first value. */
  function follow(jobId: string) {
    let first!: () => void;
    const started = new Promise<void>((resolve) => (first = resolve));
    const done = (async () => {
      const results: Result[] = [];
      for await (const result of adminWs().iterate({ query: JOB_PROGRESS, variables: { id: jobId } })) {
        results.push(result as Result);
        first();
      }
      return results;
    })();
    void done.then(first, first);
    return { started, done };
  }

  describe('authentication', () => {
    it('refuses WebSocket connections without an admin', async () => {
      expect(await refusal(wsClient())).toMatchObject({
        code: 4401,
        reason: expect.stringMatching(/^auth\/unauthenticated/),
      });
      expect(await refusal(wsClient({ connectionParams: { token: 'not-a-token' } }))).toMatchObject({ code: 4401 });
      expect(await refusal(wsClient({ headers: { cookie: api.viewerCookie } }))).toMatchObject({
        code: 4403,
        reason: expect.stringMatching(/^auth\/forbidden/),
      });
      const viewer = await api.app.auth.viewerFromSession(api.viewerCookie.split('=')[1]!);
      const { token } = await api.app.auth.createApiToken(viewer!.userId, 'viewer token');
      expect(await refusal(wsClient({ connectionParams: { authorization: `Bearer ${token}` } }))).toMatchObject({
        code: 4403,
      });
    });

    it('accepts the session cookie only from the server its own origin, a configured one, or no browser', async () => {
      const withOrigin = (origin: string) => wsClient({ headers: { cookie: api.adminCookie, origin } });
      for (const foreign of [
        'https://evil.example',
        'null',
        api.http.url.replace('localhost', 'localhost.evil.example'),
      ]) {
        expect(await refusal(withOrigin(foreign)), foreign).toMatchObject({
          code: 4403,
          reason: expect.stringMatching(/origin/),
        });
      }
      for (const origin of [api.http.url, ALLOWED_ORIGIN]) {
        expect(await collect(withOrigin(origin), '{ me { email } }'), origin).toEqual([
          { data: { me: { email: 'admin@example.com' } } },
        ]);
      }
    });

    it('accepts an admin API token in connectionParams, from any origin', async () => {
      const created = await api.gql<{ createApiToken: { data: { token: string } } }>(
        'mutation { createApiToken(name: "ws") { ... on MutationCreateApiTokenSuccess { data { token } } } }',
        {},
        { cookie: api.adminCookie },
      );
      const { token } = created.data!.createApiToken.data;
      for (const connectionParams of [{ token }, { authorization: `Bearer ${token}` }]) {
        const client = wsClient({ connectionParams, headers: { origin: 'https://integration.example' } });
        expect(await collect(client, '{ me { email via } }')).toEqual([
          { data: { me: { email: 'admin@example.com', via: 'token' } } },
        ]);
      }
    });

    it('refuses an SSE subscription without credentials with auth/unauthenticated', async () => {
      const [result] = await sse(JOB_PROGRESS, { id: backupJobId }, {});
      expect(result!.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
      const [viewer] = await sse(JOB_EVENTS, {}, { cookie: api.viewerCookie });
      expect(viewer!.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    });
  });
});
