// What the admin panel asks of the API beyond the basics: backup filters and details, the cause
// of a failed restore, and an audit log that can be searched.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BROKEN_PLAIN_DUMP, loadFeatureRichSchema, withSql } from '@pgbs/test-support';
import { type ApiEnv, ADMIN, startApi } from './api-harness.js';
import { waitFor } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const actor = { name: ADMIN.email };

interface Listed {
  backups: { total: number; items: { description: string }[] };
}

describe('GraphQL API for the panel', () => {
  let api: ApiEnv;
  let gql: <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

  beforeAll(async () => {
    api = await startApi(adminUrl, 'panelapi');
    await loadFeatureRichSchema(api.env.target.url);
    gql = async <T>(query: string, variables: Record<string, unknown> = {}) => {
      const result = await api.gql<T>(query, variables, { cookie: api.adminCookie });
      expect(result.errors).toBeUndefined();
      return result.data!;
    };
  });
  afterAll(async () => api?.close());

  async function backup(description: string) {
    const started = await api.app.backups.createBackup({ description }, actor);
    const job = await started.done;
    expect(job.state).toBe('succeeded');
    return job;
  }

  const list = (args: string) =>
    gql<Listed>(`{ backups(${args}) { total items { description } } }`).then((data) => data.backups);

  it('filters backups by text (any case, wildcards literal), origin and date range; total counts the matches', async () => {
    const before = new Date();
    await backup('Nightly ALPHA run');
    await backup('beta before release');
    const after = new Date();

    expect(await list('search: "alpha"')).toEqual({ total: 1, items: [{ description: 'Nightly ALPHA run' }] });
    expect((await list('search: "%"')).total).toBe(0);
    expect((await list('search: ".dump"')).total).toBe(2);
    expect((await list('origin: "manual"')).total).toBe(2);
    expect((await list('origin: "upload"')).total).toBe(0);
    const range = `createdAfter: "${before.toISOString()}", createdBefore: "${after.toISOString()}"`;
    expect((await list(range)).total).toBe(2);
    expect((await list(`createdAfter: "${after.toISOString()}"`)).total).toBe(0);
    expect((await list(`createdBefore: "${before.toISOString()}"`)).total).toBe(0);
    expect((await list('search: "beta", limit: 1, offset: 1')).items).toEqual([]);
  });

  it('details a backup: its tables with sizes and rows, versions, and the job that made it', async () => {
    const job = await backup('details');
    await withSql(api.env.target.url, (sql) => sql`ANALYZE`);
    const { backup: details } = await gql<{
      backup: {
        databaseName: string;
        serverVersion: string;
        clientVersion: string;
        tables: { schema: string; name: string; bytes: number; rows: number | null }[];
        job: { id: string; kind: string; requestedBy: string };
      };
    }>(
      `{ backup(id: "${job.backupId}") { databaseName serverVersion clientVersion tables { schema name bytes rows } job { id kind requestedBy } } }`,
    );
    expect(details.databaseName).toBe(api.env.target.name);
    expect(details.serverVersion).toMatch(/^\d+/);
    expect(details.clientVersion).toMatch(/^\d+/);
    expect(details.tables.length).toBeGreaterThan(0);
    expect(details.tables.every((table) => table.bytes > 0 && table.schema && table.name)).toBe(true);
    expect(details.job).toEqual({ id: job.id, kind: 'backup', requestedBy: ADMIN.email });
  });

  it('names the restore job as the maker of its safety snapshot', async () => {
    const source = await backup('source of a restore');
    const started = await api.app.backups.restore(
      {
        source: { backupId: source.backupId! },
        confirmation: api.env.target.name,
        options: { safetySnapshot: true, noOwner: false, noPrivileges: false },
      },
      actor,
    );
    expect((await started.done).state).toBe('succeeded');
    const { backups } = await gql<{ backups: { items: { origin: string; job: { id: string; kind: string } }[] } }>(
      '{ backups(origin: "pre-restore-snapshot") { items { origin job { id kind } } } }',
    );
    expect(backups.items).toEqual([{ origin: 'pre-restore-snapshot', job: { id: started.job.id, kind: 'restore' } }]);
  });

  it('reports why a restore failed: code, message and the entry it was running', async () => {
    const file = path.join(api.env.backupDir, '..', `broken-${process.pid}.sql`);
    await writeFile(file, BROKEN_PLAIN_DUMP);
    const started = await api.app.backups.restore(
      {
        source: { filePath: file, label: 'broken.sql' },
        confirmation: api.env.target.name,
        options: { safetySnapshot: false, noOwner: true, noPrivileges: true },
      },
      actor,
    );
    await started.done;
    const { job } = await gql<{ job: { state: string; errorCode: string; errorMessage: string; errorEntry: string } }>(
      `{ job(id: "${started.job.id}") { state errorCode errorMessage errorEntry } }`,
    );
    expect(job.state).toBe('failed');
    expect(job.errorCode).toMatch(/^restore\//);
    expect(job.errorMessage).toContain('not a number');
    expect(job.errorEntry).toBe('Data for Name: broken; Type: TABLE DATA; Schema: public');
  });

  it('audits a cancelled job as cancelled, names the job in job.cancel, and searches the log', async () => {
    const sql = (await import('postgres')).default(api.env.target.url, { max: 1, onnotice: () => {} });
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked = () => {};
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    // The backup waits for this lock: the job is still running when it is cancelled (it ends once
    // the lock is gone: the table-size query before pg_dump does not watch the cancel).
    const holding = sql.begin(async (tx) => {
      const [table] = await tx<{ name: string }[]>`
        SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema') LIMIT 1`;
      await tx.unsafe(`LOCK TABLE ${table!.name} IN ACCESS EXCLUSIVE MODE`);
      locked();
      await released;
    });
    let jobId: string;
    try {
      await isLocked;
      const started = await gql<{ createBackup: { data: { id: string } } }>(
        'mutation { createBackup(description: "to cancel") { ... on MutationCreateBackupSuccess { data { id } } } }',
      );
      jobId = started.createBackup.data.id;
      await gql(`mutation { cancelJob(id: "${jobId}") { id } }`);
      // A job claimed but not yet registered by its worker when the cancel came reads the request
      // at its next heartbeat (every second): the lock keeps it from finishing before then, even on
      // a loaded machine (seen: the whole suite on 2 cores let it finish first).
      await new Promise((resolve) => setTimeout(resolve, 3000));
    } finally {
      release();
      await holding;
      await sql.end();
    }
    const ended = await waitFor('the cancelled job', async () => {
      const job = await api.app.jobs.get(jobId);
      return job.state === 'queued' || job.state === 'running' ? undefined : job;
    });
    expect(ended.state).toBe('cancelled');

    type Events = { auditEvents: { action: string; outcome: string; subjectId: string; details: string }[] };
    const created = await waitFor('the audited cancel', async () => {
      const { auditEvents } = await gql<Events>(
        '{ auditEvents(action: "backup.create") { action outcome subjectId details } }',
      );
      return auditEvents.find((event) => JSON.parse(event.details).jobId === jobId);
    });
    expect(created.outcome).toBe('cancelled');
    const { auditEvents: cancels } = await gql<Events>(
      '{ auditEvents(actionPrefix: "job.c") { action outcome subjectId details } }',
    );
    expect(cancels).toHaveLength(1);
    expect(cancels[0]!.subjectId).toBe(jobId!);
    expect(JSON.parse(cancels[0]!.details)).toMatchObject({ jobId: jobId!, kind: 'backup', state: expect.any(String) });

    const actions = async (filter: string) =>
      (await gql<Events>(`{ auditEvents(${filter}, limit: 500) { action } }`)).auditEvents.map((event) => event.action);
    expect(new Set(await actions('actionPrefix: "restore"'))).toEqual(new Set(['backup.restore']));
    expect(new Set(await actions('actionPrefix: "backup"'))).toEqual(new Set(['backup.create', 'backup.restore']));
    expect(await actions('actionPrefix: "%"')).toEqual([]);
    expect(await actions('actionPrefix: "store"')).toEqual([]);
    expect((await actions('actorContains: "ADMIN@EXAMPLE"')).length).toBeGreaterThan(0);
    expect(await actions('actorContains: "nobody"')).toEqual([]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(await actions(`since: "${future}"`)).toEqual([]);
    expect((await actions(`before: "${future}"`)).length).toBeGreaterThan(0);
  });
});
