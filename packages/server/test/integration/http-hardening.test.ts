import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withSql } from '@pgbs/test-support';
import { type HttpService, startHttpServer } from '../../src/http/http-server.js';
import { CSRF_HEADER } from '../../src/http/yoga.js';
import { ADMIN, type ApiEnv, multipart, startApi } from './api-harness.js';
import { silentLogger } from './harness.js';
import { login } from '../../scripts/service-process.js';

const adminUrl = inject('pgAdminUrl');
const ALLOWED_ORIGIN = 'http://allowed.example:8080';
const FOREIGN_ORIGINS = ['http://localhost:1', 'https://evil.example', 'null'];
const NO_BACKUP = '00000000-0000-0000-0000-000000000000';

type GraphQLBody = { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };

describe('HTTP hardening', () => {
  let api: ApiEnv;
  let panelDir: string;
  /** The same app's data behind a second server configured the other way (TLS, public introspection, a tight limiter). */
  let open: HttpService;

  beforeAll(async () => {
    panelDir = await mkdtemp(path.join(tmpdir(), 'pgbs-hardening-panel-'));
    await writeFile(path.join(panelDir, 'index.html'), '<!doctype html><div id="app"></div>');
    api = await startApi(adminUrl, 'hardening', { PANEL_DIR: panelDir, ALLOWED_ORIGINS: ALLOWED_ORIGIN });
    const openApp = await api.env.startApp({
      PANEL_DIR: panelDir,
      SECURE_COOKIES: 'true',
      PUBLIC_INTROSPECTION: 'true',
      RATE_LIMIT_FAILED_AUTH_PER_15_MIN: '3',
      HOST: '0.0.0.0',
    });
    open = await startHttpServer(openApp, silentLogger, 0);
  });
  afterAll(async () => {
    await open?.close();
    await api?.close();
    await rm(panelDir, { recursive: true, force: true });
  });

  const post = (base: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const query = (base: string, text: string, headers: Record<string, string> = {}) =>
    post(base, JSON.stringify({ query: text }), headers);
  const firstCode = async (response: Response) =>
    ((await response.json()) as GraphQLBody).errors?.[0]?.extensions?.code;

  describe('CORS', () => {
    const preflight = (origin: string) =>
      fetch(`${api.http.url}/graphql`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': `content-type, ${CSRF_HEADER}`,
        },
      });

    it('gives a foreign origin no CORS headers: its preflight fails and it cannot read answers made with the cookie', async () => {
      for (const origin of FOREIGN_ORIGINS) {
        const pre = await preflight(origin);
        expect(pre.headers.get('access-control-allow-origin'), origin).toBeNull();
        expect(pre.headers.get('access-control-allow-credentials'), origin).toBeNull();
        expect(pre.headers.get('access-control-allow-methods'), origin).toBeNull();
        const answer = await query(api.http.url, '{ me { email } }', { origin, cookie: api.adminCookie });
        expect(answer.headers.get('access-control-allow-origin'), origin).toBeNull();
        expect(answer.headers.get('access-control-allow-credentials'), origin).toBeNull();
      }
    });

    it('allows the configured origins and the server its own, with credentials', async () => {
      for (const origin of [ALLOWED_ORIGIN, api.http.url]) {
        const pre = await preflight(origin);
        expect(pre.headers.get('access-control-allow-origin'), origin).toBe(origin);
        expect(pre.headers.get('access-control-allow-credentials'), origin).toBe('true');
        expect(pre.headers.get('access-control-allow-headers'), origin).toContain(CSRF_HEADER);
        const answer = await query(api.http.url, '{ me { email } }', { origin, cookie: api.adminCookie });
        expect(answer.headers.get('access-control-allow-origin'), origin).toBe(origin);
        expect(await answer.json()).toEqual({ data: { me: { email: ADMIN.email } } });
      }
    });
  });

  describe('security headers', () => {
    const graphiql = (base: string, headers: Record<string, string> = {}) =>
      fetch(`${base}/graphql`, { headers: { accept: 'text/html', ...headers }, redirect: 'manual' });

    it('sends nosniff and no-referrer on the panel, GraphiQL, the API and downloads, and HSTS only with SECURE_COOKIES', async () => {
      const answers = {
        panel: await fetch(`${api.http.url}/settings/backups`),
        graphiql: await graphiql(api.http.url, { cookie: api.adminCookie }),
        api: await query(api.http.url, '{ me { email } }'),
        download: await fetch(`${api.http.url}/downloads/${NO_BACKUP}`),
      };
      for (const [name, response] of Object.entries(answers)) {
        expect(response.headers.get('x-content-type-options'), name).toBe('nosniff');
        expect(response.headers.get('referrer-policy'), name).toBe('no-referrer');
        expect(response.headers.get('strict-transport-security'), name).toBeNull();
      }
      for (const page of ['/', '/graphql']) {
        const response = await fetch(`${open.url}${page}`, { headers: { accept: 'text/html' } });
        expect(response.status, page).toBe(200);
        expect(response.headers.get('strict-transport-security'), page).toMatch(/^max-age=\d{8,}/);
      }
    });

    it('forbids framing the panel and GraphiQL, and allows no inline script but GraphiQL’s own', async () => {
      const panel = await fetch(`${api.http.url}/login`);
      const panelCsp = directives(panel.headers.get('content-security-policy'));
      expect(panelCsp.get('frame-ancestors')).toEqual(["'none'"]);
      expect(panelCsp.get('script-src')).toEqual(["'self'"]);
      expect(panelCsp.get('style-src')).toEqual(["'self'"]);

      const page = await graphiql(api.http.url, { cookie: api.adminCookie });
      expect(page.status).toBe(200);
      const html = await page.text();
      const csp = directives(page.headers.get('content-security-policy'));
      expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
      // Exactly the page's inline scripts, by hash: no 'unsafe-inline', no 'unsafe-eval', no host.
      const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
        ([, body]) => `'sha256-${createHash('sha256').update(body!).digest('base64')}'`,
      );
      expect(scripts.length).toBeGreaterThan(0);
      expect(csp.get('script-src')).toEqual(scripts);
      expect(html).not.toMatch(/<script[^>]+src=/);
    });
  });

  describe('introspection and GraphiQL', () => {
    const introspections = [
      '{ __schema { queryType { name } } }',
      '{ __type(name: "Query") { name } }',
      'query { ...F } fragment F on Query { __schema { types { name } } }',
    ];

    it('answers introspection for signed-in admins only; __typename stays open', async () => {
      for (const text of introspections) {
        const anonymous = (await api.gql(text)) as GraphQLBody;
        expect(anonymous.errors?.[0]?.extensions?.code, text).toBe('auth/unauthenticated');
        expect(anonymous.data ?? null, text).toBeNull();
        expect(JSON.stringify(anonymous), text).not.toContain('"Query"');
        const viewer = (await api.gql(text, {}, { cookie: api.viewerCookie })) as GraphQLBody;
        expect(viewer.errors?.[0]?.extensions?.code, text).toBe('auth/forbidden');
        const admin = (await api.gql(text, {}, { cookie: api.adminCookie })) as GraphQLBody;
        expect(admin.errors, text).toBeUndefined();
      }
      expect(await api.gql('{ __typename }')).toEqual({ data: { __typename: 'Query' } });
      // No "Did you mean …?" either: it would spell out the schema field by field.
      const typo = (await api.gql('{ backup { id } }')) as GraphQLBody;
      expect(JSON.stringify(typo.errors)).not.toContain('backups');
    });

    it('sends an anonymous browser to the panel login, which returns to GraphiQL; viewers are refused', async () => {
      for (const [path, back] of [
        ['/graphql', '/graphql'],
        ['/graphql?query=%7Bme%7Bemail%7D%7D', '/graphql?query=%7Bme%7Bemail%7D%7D'],
      ] as const) {
        const response = await fetch(`${api.http.url}${path}`, {
          headers: { accept: 'text/html' },
          redirect: 'manual',
        });
        expect(response.status, path).toBe(302);
        const location = response.headers.get('location')!;
        expect(location.startsWith('/login?'), location).toBe(true);
        expect(new URL(location, api.http.url).searchParams.get('redirect')).toBe(back);
        expect(await response.text()).not.toContain('GraphiQL');
      }
      const viewer = await fetch(`${api.http.url}/graphql`, {
        headers: { accept: 'text/html', cookie: api.viewerCookie },
        redirect: 'manual',
      });
      expect(viewer.status).toBe(403);
      expect(await viewer.text()).not.toContain('<script');
    });

    it('opens both to anyone with PUBLIC_INTROSPECTION=true', async () => {
      const page = await fetch(`${open.url}/graphql`, { headers: { accept: 'text/html' }, redirect: 'manual' });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script>');
      const answer = (await (await query(open.url, introspections[0]!)).json()) as GraphQLBody;
      expect(answer).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    });
  });

  describe('request size and query cost', () => {
    it('refuses operations over GET (their variables would sit in URLs and logs) with 405, answering nothing', async () => {
      const response = await fetch(`${api.http.url}/graphql?query=${encodeURIComponent('{ me { email } }')}`, {
        headers: { accept: 'application/json', cookie: api.adminCookie, [CSRF_HEADER]: '1' },
      });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      const body = (await response.json()) as GraphQLBody & { data?: unknown };
      expect(body.errors?.[0]?.extensions?.code).toBe('request/method-not-allowed');
      expect(body.data).toBeUndefined();
    });

    it('refuses a JSON body over 1 MB with 413 request/too-large, by Content-Length or while streaming', async () => {
      const big = JSON.stringify({ query: '{ me { email } }', variables: { pad: 'x'.repeat(1024 * 1024) } });
      const declared = await post(api.http.url, big, { cookie: api.adminCookie });
      expect(declared.status).toBe(413);
      expect(await firstCode(declared)).toBe('request/too-large');
      // Chunked: no Content-Length to refuse early, so the limit applies while the body is read.
      const bytes = new TextEncoder().encode(big);
      const chunked = await fetch(`${api.http.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: api.adminCookie },
        body: new ReadableStream({
          start(controller) {
            for (let at = 0; at < bytes.length; at += 64 * 1024) controller.enqueue(bytes.subarray(at, at + 64 * 1024));
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
      expect(await firstCode(chunked)).toBe('request/too-large');
    });

    it('refuses a 10,000-alias introspection bomb in under a second with a small answer, while others are served', async () => {
      const fields = Array.from(
        { length: 10_000 },
        (_, i) => `a${i}: __schema { queryType { name } types { name kind } }`,
      );
      const bomb = JSON.stringify({ query: `{ ${fields.join(' ')} }` });
      expect(bomb.length).toBeGreaterThan(500_000);
      const fire = async () => {
        const started = performance.now();
        const response = await post(api.http.url, bomb);
        const text = await response.text();
        return { ms: performance.now() - started, text };
      };
      const normal = async () => {
        const started = performance.now();
        const body = await (await query(api.http.url, '{ me { email } }', { cookie: api.adminCookie })).json();
        expect(body).toEqual({ data: { me: { email: ADMIN.email } } });
        return performance.now() - started;
      };
      const [bombs, normals] = await Promise.all([
        Promise.all(Array.from({ length: 6 }, fire)),
        Promise.all(Array.from({ length: 3 }, normal)),
      ]);
      for (const { ms, text } of bombs) {
        expect(ms).toBeLessThan(1000);
        expect(text.length).toBeLessThan(10 * 1024);
        expect((JSON.parse(text) as GraphQLBody).errors?.[0]?.extensions?.code).toBe('query/too-complex');
        expect(text).not.toContain('queryType');
      }
      for (const ms of normals) expect(ms).toBeLessThan(1000);
    });

    it('refuses many aliases or directives in a small query, with query/too-complex', async () => {
      const aliases = `{ ${Array.from({ length: 40 }, (_, i) => `m${i}: me { email }`).join(' ')} }`;
      const directives = `{ me { email ${'@include(if: true) '.repeat(40)} } }`;
      for (const text of [aliases, directives]) {
        const answer = (await api.gql(text, {}, { cookie: api.adminCookie })) as GraphQLBody;
        expect(answer.errors?.[0]?.extensions?.code, text.slice(0, 40)).toBe('query/too-complex');
        expect(answer.data ?? null).toBeNull();
      }
    });
  });

  it('listens on loopback unless HOST says otherwise', () => {
    expect((api.http.server.address() as AddressInfo).address).toBe('127.0.0.1');
    expect((open.server.address() as AddressInfo).address).toBe('0.0.0.0');
  });

  it('limits failed credentials per address on downloads and uploads, without an audit row for each', async () => {
    const download = (headers: Record<string, string> = {}) => fetch(`${open.url}/downloads/${NO_BACKUP}`, { headers });
    const upload = () =>
      fetch(`${open.url}/graphql`, {
        method: 'POST',
        headers: { [CSRF_HEADER]: '1', authorization: 'Bearer pgbs_not-a-token' },
        body: multipart(
          'mutation($file: File!) { uploadBackup(file: $file) { __typename } }',
          {},
          new Uint8Array(8),
          'x.dump',
        ),
      });
    const audited = async () =>
      (
        await withSql(
          api.env.metadata.url,
          (sql) => sql`SELECT count(*)::int AS n FROM audit_events WHERE action = 'backup.download'`,
        )
      )[0]!.n as number;
    const before = await audited();
    expect((await download()).status).toBe(401);
    expect((await download({ authorization: 'Bearer pgbs_wrong' })).status).toBe(401);
    expect((await upload()).status).toBe(401);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const refused = await download();
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await refused.json()).toMatchObject({ error: { code: 'auth/rate-limited' } });
      const refusedUpload = await upload();
      expect(refusedUpload.status).toBe(429);
      expect(await firstCode(refusedUpload)).toBe('auth/rate-limited');
    }
    // Anonymous refusals write no audit rows at all (nor do the limiter's): nobody can fill the log.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await audited()) - before).toBe(0);
    // An admin from the same address is not locked out.
    const cookie = await login(open.url, ADMIN);
    expect((await download({ cookie })).status).toBe(404);
  });
});

function directives(header: string | null): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) map.set(name, sources);
  }
  return map;
}
