import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadFeatureRichSchema, withSql } from '@pgbs/test-support';
import { type ApiEnv, ADMIN, startApi } from './api-harness.js';

const adminUrl = inject('pgAdminUrl');

describe('GraphQL API', () => {
  let api: ApiEnv;

  beforeAll(async () => {
    api = await startApi(adminUrl, 'api');
    await loadFeatureRichSchema(api.env.target.url);
  });
  afterAll(async () => api?.close());

  it('keeps the committed schema.graphql up to date', async () => {
    const serverDir = fileURLToPath(new URL('../../', import.meta.url));
    const committed = await readFile(`${serverDir}/schema.graphql`, 'utf8');
    // Printed by the same code path as `pnpm --filter @pgbs/server schema:print`, in a plain Node process.
    const printed = execFileSync('node_modules/.bin/tsx', ['scripts/print-schema.ts', '--stdout'], {
      cwd: serverDir,
      encoding: 'utf8',
    });
    expect(committed, 'schema.graphql is stale: run pnpm --filter @pgbs/server schema:print').toBe(printed);
  });

  it('logs in with a password and sets an HttpOnly, SameSite=Strict cookie; wrong passwords are refused and audited', async () => {
    const response = await fetch(`${api.http.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query:
          'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename ... on CodedError { code } } }',
        variables: { e: ADMIN.email, p: ADMIN.password },
      }),
    });
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^pgbs_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);

    const wrong = await api.gql(
      'mutation { login(email: "admin@example.com", password: "nope-nope-nope") { __typename ... on CodedError { code } } }',
    );
    expect(wrong.data).toEqual({ login: { __typename: 'CodedError', code: 'auth/invalid-credentials' } });
    const failed = await withSql(
      api.env.metadata.url,
      (sql) => sql`SELECT actor FROM audit_events WHERE action = 'auth.login' AND outcome = 'failed'`,
    );
    expect(failed.map((r) => r.actor)).toContain('admin@example.com');
  });

  it('ends the session server-side on logout', async () => {
    const cookie = (await startSession()).cookie;
    expect((await api.gql('{ me { email } }', {}, { cookie })).data).toEqual({ me: { email: ADMIN.email } });
    await api.gql('mutation { logout }', {}, { cookie });
    const after = await api.gql('{ backups { total } }', {}, { cookie });
    expect(after.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
  });

  it('refuses every operation to anonymous users and to non-admins, with coded errors', async () => {
    const id = '00000000-0000-0000-0000-000000000000';
    // Every query and mutation but login/logout/me (uploads, downloads and subscriptions have their own tests).
    const operations = [
      '{ backups { total } }',
      `{ backup(id: "${id}") { id } }`,
      '{ jobs { id } }',
      `{ job(id: "${id}") { id } }`,
      '{ serverInfo { targetDatabase } }',
      '{ auditEvents { id } }',
      '{ apiTokens { id } }',
      'mutation { createBackup { __typename } }',
      `mutation { restoreBackup(id: "${id}", confirmation: "x") { __typename } }`,
      `mutation { verifyBackup(id: "${id}") { __typename } }`,
      `mutation { deleteBackup(id: "${id}", confirmation: "x") { __typename } }`,
      `mutation { createDownloadUrl(id: "${id}") { __typename } }`,
      `mutation { cancelJob(id: "${id}") { id } }`,
      'mutation { createApiToken(name: "x") { __typename } }',
      `mutation { revokeApiToken(id: "${id}") { __typename } }`,
      'mutation { createUser(email: "a@b.c", password: "123456789012", role: admin) { __typename } }',
    ];
    for (const operation of operations) {
      const anonymous = await api.gql(operation);
      expect(anonymous.errors?.[0]?.extensions?.code ?? JSON.stringify(anonymous.data), operation).toBe(
        'auth/unauthenticated',
      );
      const viewer = await api.gql(operation, {}, { cookie: api.viewerCookie });
      expect(viewer.errors?.[0]?.extensions?.code ?? JSON.stringify(viewer.data), operation).toBe('auth/forbidden');
    }
  });

  it('refuses multipart and form posts without the CSRF header', async () => {
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: '{ me { email } }' }));
    form.set('map', '{}');
    const response = await fetch(`${api.http.url}/graphql`, {
      method: 'POST',
      body: form,
      headers: { cookie: api.adminCookie },
    });
    expect(response.status).toBe(403);
  });

  it('creates and uses an API token, and stops accepting it once revoked', async () => {
    const created = await api.gql<{ createApiToken: { data: { token: string; apiToken: { id: string } } } }>(
      'mutation { createApiToken(name: "ci") { ... on MutationCreateApiTokenSuccess { data { token apiToken { id } } } } }',
      {},
      { cookie: api.adminCookie },
    );
    const { token, apiToken } = created.data!.createApiToken.data;
    const bearer = { authorization: `Bearer ${token}` };
    expect((await api.gql('{ me { email via } }', {}, bearer)).data).toEqual({
      me: { email: ADMIN.email, via: 'token' },
    });
    await api.gql(`mutation { revokeApiToken(id: "${apiToken.id}") { __typename } }`, {}, { cookie: api.adminCookie });
    expect((await api.gql('{ backups { total } }', {}, bearer)).errors?.[0]?.extensions?.code).toBe(
      'auth/unauthenticated',
    );
  });

  it('runs a backup, reports it, and refuses a restore with the wrong confirmation as a typed error', async () => {
    const cookie = { cookie: api.adminCookie };
    const started = await api.gql<{ createBackup: { data: { id: string } } }>(
      'mutation { createBackup(description: "via API") { ... on MutationCreateBackupSuccess { data { id state } } } }',
      {},
      cookie,
    );
    const jobId = started.data!.createBackup.data.id;
    const done = await api.app.jobs.get(jobId).then(async () => {
      for (;;) {
        const job = await api.app.jobs.get(jobId);
        if (job.state !== 'queued' && job.state !== 'running') return job;
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    expect(done.state).toBe('succeeded');
    const listed = await api.gql<{ backups: { total: number; items: { id: string; description: string }[] } }>(
      '{ backups { total items { id description contents { tables } } } }',
      {},
      cookie,
    );
    expect(listed.data!.backups.items[0]!.description).toBe('via API');

    const wrong = await api.gql(
      `mutation { restoreBackup(id: "${done.backupId}", confirmation: "wrong") { __typename ... on CodedError { code errorCode message } } }`,
      {},
      cookie,
    );
    expect(wrong.data).toMatchObject({
      restoreBackup: {
        __typename: 'CodedError',
        code: 'restore/confirmation-mismatch',
        errorCode: 'RESTORE_CONFIRMATION_MISMATCH',
      },
    });

    const del = await api.gql(
      `mutation { deleteBackup(id: "${done.backupId}", confirmation: "wrong") { __typename ... on CodedError { code } } }`,
      {},
      cookie,
    );
    expect(del.data).toMatchObject({ deleteBackup: { code: 'backup/confirmation-mismatch' } });
  });

  async function startSession() {
    const response = await fetch(`${api.http.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename } }',
        variables: { e: ADMIN.email, p: ADMIN.password },
      }),
    });
    return { cookie: response.headers.get('set-cookie')!.split(';')[0]! };
  }
});
