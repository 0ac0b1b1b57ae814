import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withSql } from '@pgbs/test-support';
import { AUDIT_MAX_CHARS } from '../../src/audit/audit-log.js';
import type { JobRow } from '../../src/db/schema.js';
import { login } from '../../scripts/service-process.js';
import { ADMIN, type ApiEnv, type GqlResult, VIEWER, graphqlWsClient, openSse, startApi } from './api-harness.js';

const adminUrl = inject('pgAdminUrl');

const JOB_EVENTS = 'subscription { jobEvents { id state } }';
/** How long a credential's open connections may outlive it. */
const CUT_WITHIN_MS = 5000;
/** How long an ending request (logout, revoke, delete) may take with subscriptions open. */
const PROMPT_MS = 2000;

type Credential = { cookie: string } | { token: string };

/** A jobEvents subscription over graphql-ws, recording what it gets and how its socket is closed. */
function wsSubscription(api: ApiEnv, credential: Credential) {
  const client: Client = graphqlWsClient(api.http.url, {
    ...('cookie' in credential ? { headers: { cookie: credential.cookie } } : { connectionParams: credential }),
    // Not lazy: the socket stays open when its last subscription ends, so the server's close code is what is seen.
    lazy: false,
  });
  const results: GqlResult[] = [];
  const ended = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
    client.on('closed', (event) => {
      const { code, reason } = event as { code: number; reason: string };
      resolve({ code, reason, at: Date.now() });
    }),
  );
  void (async () => {
    for await (const result of client.iterate({ query: JOB_EVENTS })) results.push(result as GqlResult);
  })().catch(() => {});
  return { results, ended };
}

async function sseSubscription(api: ApiEnv, credential: Credential) {
  const headers: Record<string, string> =
    'cookie' in credential ? { cookie: credential.cookie } : { authorization: `Bearer ${credential.token}` };
  const stream = await openSse(api.http.url, JOB_EVENTS, {}, headers);
  return { ...stream, ended: stream.ended.then((end) => ({ ...end, at: Date.now() })) };
}

function fakeJob(): JobRow {
  return {
    id: randomUUID(),
    kind: 'backup',
    state: 'running',
    backupId: null,
    targetId: null,
    scheduleRunId: null,
    instanceId: null,
    lockKey: null,
    activityAt: null,
    attempt: 1,
    params: {},
    progress: null,
    errorCode: null,
    errorMessage: null,
    errorEntry: null,
    partialRef: null,
    cancelRequested: false,
    requestedBy: null,
    createdAt: new Date(),
    startedAt: null,
    finishedAt: null,
  };
}

const publishJob = (api: ApiEnv) => api.app.events.publish({ type: 'state', job: fakeJob() });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A WebSocket and an SSE subscription with the credentials given, both receiving events. */
async function openSubscriptions(api: ApiEnv, ws: Credential, sse: Credential = ws) {
  const subscriptions = { ws: wsSubscription(api, ws), sse: await sseSubscription(api, sse) };
  // The protocols do not acknowledge a subscription: publish until both have delivered something.
  for (let tries = 0; subscriptions.ws.results.length === 0 || subscriptions.sse.results.length === 0; tries++) {
    if (tries > 100) throw new Error('the subscriptions did not start');
    publishJob(api);
    await sleep(50);
  }
  return subscriptions;
}

type Subscriptions = Awaited<ReturnType<typeof openSubscriptions>>;

/**
 * Both subscriptions were cut within CUT_WITHIN_MS of `since`: the socket with 4401, the event stream
 * after an auth/unauthenticated error; and nothing was delivered afterwards.
 */
async function expectCut(api: ApiEnv, { ws, sse }: Subscriptions, since: number) {
  const timeout = sleep(CUT_WITHIN_MS + 500).then(() => null);
  const [wsEnd, sseEnd] = await Promise.all([Promise.race([ws.ended, timeout]), Promise.race([sse.ended, timeout])]);
  expect(wsEnd, 'the WebSocket was closed').not.toBeNull();
  expect(sseEnd, 'the event stream was ended').not.toBeNull();
  expect(wsEnd!.code).toBe(4401);
  expect(wsEnd!.reason).toMatch(/^auth\/unauthenticated/);
  expect(wsEnd!.at - since).toBeLessThan(CUT_WITHIN_MS);
  expect(sseEnd!.at - since).toBeLessThan(CUT_WITHIN_MS);
  expect(sseEnd!.completed).toBe(true);
  expect(sse.results.at(-1)?.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
  const seen = { ws: ws.results.length, sse: sse.results.length };
  publishJob(api);
  await sleep(300);
  expect({ ws: ws.results.length, sse: sse.results.length }, 'nothing is delivered after the cut').toEqual(seen);
}

/** Runs `request` and returns when it was sent, checking that it answered promptly. */
async function promptly(request: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  await request();
  expect(Date.now() - started, 'answered promptly').toBeLessThan(PROMPT_MS);
  return started;
}

describe('open connections end with their credential', () => {
  let api: ApiEnv;

  beforeAll(async () => {
    api = await startApi(adminUrl, 'sess');
  });
  afterAll(async () => api?.close());

  async function createToken(cookie: string, name: string): Promise<{ token: string; id: string }> {
    const created = await api.gql<{ createApiToken: { data: { token: string; apiToken: { id: string } } } }>(
      `mutation($name: String!) { createApiToken(name: $name) {
        ... on MutationCreateApiTokenSuccess { data { token apiToken { id } } } } }`,
      { name },
      { cookie },
    );
    const { token, apiToken } = created.data!.createApiToken.data;
    return { token, id: apiToken.id };
  }

  async function createAdmin(): Promise<{ id: string; email: string; cookie: string }> {
    const email = `admin-${randomUUID()}@example.com`;
    const password = 'another-admin-password';
    const user = await api.app.auth.createUser(email, password, 'admin');
    return { id: user.id, email, cookie: await login(api.http.url, { email, password }) };
  }

  const me = async (headers: Record<string, string>) =>
    (await api.gql<{ me: { email: string } | null }>('{ me { email } }', {}, headers)).data?.me ?? null;

  it('logout: the session’s WebSocket and SSE subscriptions close, and the logout answers at once', async () => {
    const cookie = await login(api.http.url, ADMIN);
    const subscriptions = await openSubscriptions(api, { cookie });
    const since = await promptly(() => api.gql('mutation { logout }', {}, { cookie }));
    await expectCut(api, subscriptions, since);
    expect(await me({ cookie })).toBeNull();
  });

  it('API token revocation: the token’s subscriptions close; the admin’s own session stays open', async () => {
    const { token, id } = await createToken(api.adminCookie, 'revoked while subscribed');
    const subscriptions = await openSubscriptions(api, { token });
    const bystander = await openSubscriptions(api, { cookie: api.adminCookie });
    const since = await promptly(() =>
      api.gql(`mutation { revokeApiToken(id: "${id}") { __typename } }`, {}, { cookie: api.adminCookie }),
    );
    await expectCut(api, subscriptions, since);
    const seen = { ws: bystander.ws.results.length, sse: bystander.sse.results.length };
    publishJob(api);
    await sleep(300);
    const now = { ws: bystander.ws.results.length, sse: bystander.sse.results.length };
    expect(now, 'other credentials are not cut').toEqual({ ws: seen.ws + 1, sse: seen.sse + 1 });
  });

  it('user removal (deleteUser): every session and token of the user closes', async () => {
    const other = await createAdmin();
    const { token } = await createToken(other.cookie, 'of a removed user');
    const subscriptions = await openSubscriptions(api, { cookie: other.cookie }, { token });
    const since = await promptly(() =>
      api.gql(`mutation { deleteUser(id: "${other.id}") { __typename } }`, {}, { cookie: api.adminCookie }),
    );
    await expectCut(api, subscriptions, since);
    expect(await me({ cookie: other.cookie })).toBeNull();
    expect(await me({ authorization: `Bearer ${token}` })).toBeNull();
  });

  it('user removal by another process (the CLI’s user delete) closes this server’s connections too', async () => {
    const other = await createAdmin();
    const subscriptions = await openSubscriptions(api, { cookie: other.cookie });
    // A second app on the same metadata database: its own pool and LISTEN connection, as the CLI has.
    const cli = await api.env.startApp();
    const since = await promptly(() => cli.auth.deleteUser(other.id));
    await expectCut(api, subscriptions, since);
  });

  it('refuses the last administrator’s removal with auth/last-admin, and unknown users with auth/user-not-found', async () => {
    const deleteUser = (id: string) =>
      api.gql<{ deleteUser: { code?: string } }>(
        'mutation($id: ID!) { deleteUser(id: $id) { ... on CodedError { code } } }',
        { id },
        { cookie: api.adminCookie },
      );
    const admin = await api.app.auth.findUserByEmail(ADMIN.email);
    expect((await deleteUser(admin!.id)).data?.deleteUser.code).toBe('auth/last-admin');
    expect((await deleteUser(randomUUID())).data?.deleteUser.code).toBe('auth/user-not-found');
    expect((await deleteUser('not-an-id')).data?.deleteUser.code).toBe('auth/user-not-found');
  });

  it('re-authorises every operation on an open socket: a revoked token cannot mint a new one', async () => {
    const { token, id } = await createToken(api.adminCookie, 'revoked behind the service’s back');
    const client = graphqlWsClient(api.http.url, { connectionParams: { token } });
    const run = async (query: string) => {
      const results: GqlResult[] = [];
      for await (const result of client.iterate({ query })) results.push(result as GqlResult);
      return results;
    };
    expect(await run('{ me { email } }')).toEqual([{ data: { me: { email: ADMIN.email } } }]);
    // Revoked without any "ended" event (as a change in another installation's process could be, before its
    // NOTIFY arrives): only the check of the operation itself can refuse it.
    await withSql(api.env.metadata.url, (sql) => sql`UPDATE api_tokens SET revoked_at = now() WHERE id = ${id}`);
    const minted = 'minted over a revoked socket';
    const refused = await run(`mutation { createApiToken(name: "${minted}") { __typename } }`).catch(
      (error: unknown) => error as { code: number },
    );
    expect(refused).toMatchObject({ code: 4401 });
    const rows = await withSql(api.env.metadata.url, (sql) => sql`SELECT id FROM api_tokens WHERE name = ${minted}`);
    expect(rows).toHaveLength(0);
    await client.dispose();
  });

  // Just under the 1 MiB JSON body limit, which refuses larger requests before anything is audited.
  it('caps every audited string at 256 characters (a 900 KB email)', async () => {
    const email = `${'x'.repeat(900 * 1024)}@example.com`;
    const result = await api.gql(
      'mutation($e: String!) { login(email: $e, password: "wrong-password-1") { ... on CodedError { code } } }',
      { e: email },
    );
    expect(result.data).toEqual({ login: { code: 'auth/invalid-credentials' } });
    const rows = await withSql(
      api.env.metadata.url,
      (sql) => sql<{ actor: string; address: string; details: Record<string, unknown>; size: number }[]>`
        SELECT actor, address, details, pg_column_size(audit_events.*) AS size FROM audit_events
        WHERE action = 'auth.login' AND outcome = 'failed' AND actor LIKE 'xxxx%'`,
    );
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row!.actor.length).toBeLessThanOrEqual(AUDIT_MAX_CHARS);
    expect(row!.actor).toMatch(/^x+…$/);
    const strings = (value: unknown): string[] =>
      typeof value === 'string'
        ? [value]
        : typeof value === 'object' && value !== null
          ? Object.entries(value).flatMap(([key, item]) => [key, ...strings(item)])
          : [];
    for (const text of strings(row!.details)) expect(text.length).toBeLessThanOrEqual(AUDIT_MAX_CHARS);
    expect(row!.size).toBeLessThan(4096);
  });
});

describe('session lifetime and the login limit', () => {
  let api: ApiEnv;
  const IDLE_SECONDS = 3;
  const MAX_AGE_SECONDS = 8;

  beforeAll(async () => {
    api = await startApi(adminUrl, 'sessttl', {
      SESSION_IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS),
      SESSION_MAX_AGE_SECONDS: String(MAX_AGE_SECONDS),
      RATE_LIMIT_LOGIN_PER_15_MIN: '3',
      // Both loopback addresses (IPv4 and IPv6), to log in from two addresses.
      HOST: '::',
    });
  });
  afterAll(async () => api?.close());

  const me = async (cookie: string) =>
    (await api.gql<{ me: { email: string } | null }>('{ me { email } }', {}, { cookie })).data?.me ?? null;

  it('ends idle sessions; an open subscription keeps its session alive until the maximum age, then is cut', async () => {
    const idle = await login(api.http.url, ADMIN);
    const loggedInAt = Date.now();
    const subscribed = await login(api.http.url, ADMIN);
    const subscriptions = await openSubscriptions(api, { cookie: subscribed });
    await sleep((IDLE_SECONDS + 1) * 1000);
    expect(await me(idle), 'idle past the timeout').toBeNull();
    expect(await me(subscribed), 'kept alive by its subscriptions').toEqual({ email: ADMIN.email });
    const expiry = loggedInAt + MAX_AGE_SECONDS * 1000;
    await expectCut(api, subscriptions, expiry);
    expect((await subscriptions.ws.ended).at, 'not before the maximum age').toBeGreaterThanOrEqual(expiry - 1000);
    expect(await me(subscribed), 'past the maximum age').toBeNull();
  });

  /** A login from one of the server's two loopback addresses. */
  async function loginFrom(host: '127.0.0.1' | '[::1]', user: { email: string; password: string }) {
    const url = api.http.url.replace('localhost', host);
    const result = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query:
          'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename ... on CodedError { code } } }',
        variables: { e: user.email, p: user.password },
      }),
    });
    const body = (await result.json()) as { data: { login: { __typename: string; code?: string } } };
    return body.data.login.code ?? 'ok';
  }

  it('never counts successful logins', async () => {
    // The limit is 3; the harness has logged in twice already.
    for (let i = 0; i < 6; i++) expect(await loginFrom('127.0.0.1', ADMIN)).toBe('ok');
  });

  it('limits failed logins per account and address', async () => {
    const wrong = { email: VIEWER.email, password: 'not-the-password' };
    for (let i = 0; i < 3; i++) expect(await loginFrom('127.0.0.1', wrong)).toBe('auth/invalid-credentials');
    expect(await loginFrom('127.0.0.1', VIEWER), 'even the right password, from there').toBe('auth/rate-limited');
    expect(await loginFrom('[::1]', VIEWER), 'the same account from another address').toBe('ok');
    expect(await loginFrom('127.0.0.1', ADMIN), 'another account from the same address').toBe('ok');
    // A differently written email is the same account.
    expect(await loginFrom('127.0.0.1', { ...wrong, email: ` ${VIEWER.email.toUpperCase()}` })).toBe(
      'auth/rate-limited',
    );
  });
});
