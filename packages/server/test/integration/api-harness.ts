import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
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

export interface GqlResult {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string; extensions?: { code?: string } }[];
}

/** A graphql-ws client over `ws` for the server at `httpUrl`; headers go on the upgrade request (cookie, Origin). */
export function graphqlWsClient(
  httpUrl: string,
  options: { headers?: Record<string, string>; connectionParams?: Record<string, unknown>; lazy?: boolean } = {},
): Client {
  const headers = options.headers ?? {};
  return createClient({
    url: httpUrl.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: class extends WebSocket {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols, { headers });
      }
    },
    connectionParams: options.connectionParams,
    lazy: options.lazy ?? true,
    // A non-lazy client reports its socket's close on the console; tests read it from the 'closed' event.
    onNonLazyError: () => {},
    retryAttempts: 0,
  });
}

export interface SseStream {
  contentType: string | null;
  /** The "next" events so far, as they arrive. */
  results: GqlResult[];
  /** Settles when the server ends the stream; `completed` when it sent "complete" first. */
  ended: Promise<{ completed: boolean }>;
  /** The client goes away. */
  abort(): void;
}

/** One operation over Yoga's SSE transport, parsed from the raw event stream as it arrives. */
export async function openSse(
  httpUrl: string,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string>,
): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(`${httpUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', [CSRF_HEADER]: '1', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  const results: GqlResult[] = [];
  const read = async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    let completed = false;
    try {
      for await (const chunk of response.body!) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        for (let end = buffered.indexOf('\n\n'); end !== -1; end = buffered.indexOf('\n\n')) {
          const fields = new Map(
            buffered
              .slice(0, end)
              .split('\n')
              .filter((line) => !line.startsWith(':')) // keep-alive comments
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trimStart()]),
          );
          buffered = buffered.slice(end + 2);
          if (fields.get('event') === 'complete') completed = true;
          if (fields.get('event') === 'next') results.push(JSON.parse(fields.get('data')!) as GqlResult);
        }
      }
    } catch {
      // Aborted, or the connection was cut: it ended without "complete".
    }
    return { completed };
  };
  return {
    contentType: response.headers.get('content-type'),
    results,
    ended: read(),
    abort: () => controller.abort(),
  };
}
