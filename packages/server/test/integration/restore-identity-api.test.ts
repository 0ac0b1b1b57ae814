// The panel's identity prompt, server side: restoreCheck and restoreBackup take the identity of an
// encrypted backup over GraphQL; a missing or wrong one gets its coded error, and the identity is
// in no answer, job row, audit row or log line.
import { randomBytes } from 'node:crypto';
import { generateAgeIdentity } from '@pgbs/engine';
import { withSql } from '@pgbs/test-support';
import { sql as raw } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { type HttpService, startHttpServer } from '../../src/http/http-server.js';
import type { Logger } from '../../src/logger.js';
import { login } from '../../scripts/service-process.js';
import { ADMIN } from './api-harness.js';
import { type TestEnv, createTestEnv, waitFor } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const actor = { name: 'test@example.com', address: '127.0.0.1' };

const CHECK = `query($id: ID!, $identity: String) {
  restoreCheck(id: $id, identity: $identity) { mode sourceDatabase targetDatabase unrestorable { name } }
}`;
const RESTORE = `mutation($id: ID!, $confirmation: String!, $identity: String) {
  restoreBackup(id: $id, confirmation: $confirmation, identity: $identity,
    options: { safetySnapshot: false }) {
    ... on MutationRestoreBackupSuccess { data { id } }
    ... on CodedError { code message }
  }
}`;

describe('restoreCheck and restoreBackup with an identity over GraphQL', { timeout: 300_000 }, () => {
  let env: TestEnv;
  let app: App;
  let http: HttpService;
  let cookie: string;
  let identity: string;
  let backupId: string;
  const logged: string[] = [];
  const answers: string[] = [];
  const logger: Logger = {
    info: (...args: unknown[]) => void logged.push(JSON.stringify(args)),
    warn: (...args: unknown[]) => void logged.push(JSON.stringify(args)),
    error: (...args: unknown[]) => void logged.push(JSON.stringify(args)),
  };

  /** A GraphQL POST as the panel sends it; every answer is kept, to look for the identity in. */
  async function gql<T>(query: string, variables: Record<string, unknown>) {
    const response = await fetch(`${http.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.text();
    answers.push(body);
    return JSON.parse(body) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  }

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'idapi');
    await withSql(env.target.url, (sql) =>
      sql.unsafe(`CREATE TABLE sealed_things AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 200) g;`),
    );
    app = await createApp(loadConfig({ ...env.env, MASTER_KEY: randomBytes(32).toString('base64') }), logger);
    await app.auth.createUser(ADMIN.email, ADMIN.password, 'admin');
    http = await startHttpServer(app, logger, 0);
    cookie = await login(http.url, ADMIN);
    identity = (await app.keys.generate({ name: 'offline' }, actor)).identity;
    const [target] = await app.targets.list();
    await app.keys.setTargetRecipients(target!.name, ['offline'], actor);
    const done = await (await app.backups.createBackup({ description: 'sealed' }, actor)).done;
    expect(done.state, done.errorMessage ?? '').toBe('succeeded');
    backupId = done.backupId!;
  });
  afterAll(async () => {
    await http?.close();
    await app?.close();
    await env?.cleanup();
  });

  it('tells an encrypted backup by its recipients', async () => {
    const answer = await gql<{
      backup: { recipientFingerprints: string[]; recipients: { name: string; identityKept: boolean }[] };
    }>(`query($id: ID!) { backup(id: $id) { recipientFingerprints recipients { name identityKept } } }`, {
      id: backupId,
    });
    expect(answer.data!.backup.recipientFingerprints).toHaveLength(1);
    expect(answer.data!.backup.recipients).toEqual([{ name: 'offline', identityKept: false }]);
  });

  it('restoreCheck: identity-required without one, wrong-identity with another, the check with the right one', async () => {
    const without = await gql(CHECK, { id: backupId });
    expect(without.errors?.[0]?.extensions?.code).toBe('key/identity-required');
    const wrong = await gql(CHECK, { id: backupId, identity: (await generateAgeIdentity()).identity });
    expect(wrong.errors?.[0]?.extensions?.code).toBe('key/wrong-identity');
    const right = await gql<{ restoreCheck: { sourceDatabase: string; targetDatabase: string } }>(CHECK, {
      id: backupId,
      identity: `# public key: ignored comment\n${identity}\n`,
    });
    expect(right.errors).toBeUndefined();
    expect(right.data!.restoreCheck.sourceDatabase).toBe(env.target.name);
    expect(right.data!.restoreCheck.targetDatabase).toBe(env.target.name);
  });

  it('restoreBackup with the identity restores; with a wrong one it is refused, changing nothing', async () => {
    const other = await generateAgeIdentity();
    const refused = await gql<{ restoreBackup: { code: string } }>(RESTORE, {
      id: backupId,
      confirmation: env.target.name,
      identity: other.identity,
    });
    expect(refused.data!.restoreBackup.code).toBe('key/wrong-identity');

    await withSql(env.target.url, (sql) => sql`DELETE FROM sealed_things WHERE id > 100`);
    const started = await gql<{ restoreBackup: { data: { id: string } } }>(RESTORE, {
      id: backupId,
      confirmation: env.target.name,
      identity,
    });
    const jobId = started.data!.restoreBackup.data.id;
    const job = await waitFor('the restore to finish', async () => {
      const row = await app.jobs.get(jobId);
      return row.state === 'queued' || row.state === 'running' ? undefined : row;
    });
    expect(job.state, job.errorMessage ?? '').toBe('succeeded');
    const [count] = await withSql(env.target.url, (sql) => sql`SELECT count(*)::int AS n FROM sealed_things`);
    expect(count!['n']).toBe(200);
  });

  it('never answers, stores or logs the identity', async () => {
    const secret = identity.slice('AGE-SECRET-KEY-1'.length);
    const rows = await app.db.execute(raw`SELECT (SELECT coalesce(string_agg(j::text, ''), '') FROM jobs j) ||
      (SELECT coalesce(string_agg(a::text, ''), '') FROM audit_events a) AS text`);
    const text = (rows as unknown as { text: string }[])[0]!.text;
    expect(text).toContain('restore');
    expect(text).not.toContain(secret);
    expect(answers.length).toBeGreaterThanOrEqual(5);
    expect(answers.join('\n')).not.toContain(secret);
    expect(logged.join('\n')).not.toContain(secret);
  });
});
