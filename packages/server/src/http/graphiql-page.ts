import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { App } from '../app.js';
import { authenticate } from './request-auth.js';
import { graphiqlCsp } from './security-headers.js';

export const GRAPHIQL_OPTIONS = { title: 'pgbs — PostgreSQL backups', credentials: 'same-origin' } as const;

/**
 * Bundled GraphiQL (the default page loads its assets from a CDN, which air-gapped servers can't
 * reach), rendered once: its CSP allows exactly this page's inline script, by hash.
 */
export const GRAPHIQL_HTML = renderGraphiQL(GRAPHIQL_OPTIONS);
export const GRAPHIQL_CSP = graphiqlCsp(GRAPHIQL_HTML);

/** Yoga's own test for serving GraphiQL on its endpoint: a browser GET asking for HTML. */
export function isGraphiQLRequest(req: IncomingMessage): boolean {
  return req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
}

/**
 * GraphiQL is for signed-in admins (unless PUBLIC_INTROSPECTION): anybody else is sent to the panel's
 * login, which comes back here. Returns true when it answered the request.
 */
export async function refuseGraphiQL(app: App, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (app.config.http.publicIntrospection) return false;
  const { viewer } = await authenticate(app, { authorization: req.headers.authorization, cookie: req.headers.cookie });
  if (viewer?.role === 'admin') return false;
  if (viewer) {
    res
      .writeHead(403, { 'content-type': 'text/plain; charset=utf-8' })
      .end('auth/forbidden: GraphiQL is for administrators.\n');
  } else {
    // req.url is this server's own /graphql path: a same-origin return address, never another site.
    res.writeHead(302, { location: `/login?redirect=${encodeURIComponent(req.url ?? '/graphql')}` }).end();
  }
  return true;
}
