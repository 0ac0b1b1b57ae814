import type { App } from '../../src/app.js';
import { type HttpService, startHttpServer } from '../../src/http/http-server.js';
import { CSRF_HEADER } from '../../src/http/yoga.js';
import { type TestEnv, createTestEnv, silentLogger } from './harness.js';
import { login as loginAs } from '../../scripts/service-process.js';

export const ADMIN = { email: 'admin@example.com', password: 'admin-password-123' };
export const VIEWER = { email: 'viewer@example.com', password: 'viewer-password-123' };

/** A GraphQL multipart request (operations, map, file) as browsers and urql send it. */
export function multipart(
  query: string,
  variables: Record<string, unknown>,
  file: Uint8Array | Blob,
  filename: string,
): FormData {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query, variables: { ...variables, file: null } }));
  form.set('map', JSON.stringify({ 0: ['variables.file'] }));
  form.set('0', file instanceof Blob ? file : new Blob([new Uint8Array(file)]), filename);
  return form;
}

export interface ApiEnv {
  env: TestEnv;
  app: App;
  http: HttpService;
  /** Cookie header of a logged-in admin session. */
  adminCookie: string;
  viewerCookie: string;
  /** POST a GraphQL operation as JSON (with the CSRF header); returns the parsed body. */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{ data?: T; errors?: { message: string; extensions?: { code?: string } }[] }>;
  close(): Promise<void>;
}

/** The real app and HTTP server on port 0, with an admin and a viewer user logged in. */
export async function startApi(
  adminUrl: string,
  prefix: string,
  overrides: Record<string, string> = {},
): Promise<ApiEnv> {
  const env = await createTestEnv(adminUrl, prefix);
  const app = await env.startApp(overrides);
  await app.auth.createUser(ADMIN.email, ADMIN.password, 'admin');
  await app.auth.createUser(VIEWER.email, VIEWER.password, 'viewer');
  const http = await startHttpServer(app, silentLogger, 0);
  const gql: ApiEnv['gql'] = async (query, variables = {}, headers = {}) => {
    const response = await fetch(`${http.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CSRF_HEADER]: '1', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as never;
  };
  const login = (user: { email: string; password: string }) => loginAs(http.url, user);
  const adminCookie = await login(ADMIN);
  const viewerCookie = await login(VIEWER);
  return {
    env,
    app,
    http,
    adminCookie,
    viewerCookie,
    gql,
    async close() {
      await http.close();
      await env.cleanup();
    },
  };
}
