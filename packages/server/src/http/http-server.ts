import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../app.js';
import type { Logger } from '../logger.js';
import { handleDownload } from './download-route.js';
import { GRAPHIQL_CSP, isGraphiQLRequest, refuseGraphiQL } from './graphiql-page.js';
import { attachGraphqlWs } from './graphql-ws.js';
import { PANEL_CSP, commonHeaders } from './security-headers.js';
import { createStaticPanel } from './static-panel.js';
import { limitBodyIdle } from './timeouts.js';
import { createYogaApp } from './yoga.js';

export interface HttpService {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** One HTTP server: GraphQL (GraphiQL, SSE and graphql-ws) on /graphql, backup downloads on /downloads/, the panel on /. */
export async function startHttpServer(app: App, logger: Logger, port: number): Promise<HttpService> {
  const { host, headersTimeoutMs, bodyIdleTimeoutMs } = app.config.http;
  const yoga = createYogaApp(app, logger);
  const servePanel = createStaticPanel(app.config.panelDir);
  const headers = commonHeaders(app.config.secureCookies);
  const failed = (what: string, res: ServerResponse) => (error: unknown) => {
    logger.error(`${what} failed`, { error });
    if (!res.headersSent) res.writeHead(500);
    res.end();
  };
  const handleGraphql = async (req: IncomingMessage, res: ServerResponse) => {
    if (isGraphiQLRequest(req)) {
      if (await refuseGraphiQL(app, req, res)) return;
      res.setHeader('content-security-policy', GRAPHIQL_CSP);
    } else if (req.method === 'GET') {
      // Operations over GET carry their variables in the URL, where proxies and logs keep them (an
      // identity given to restoreCheck would be one): the panel, the CLI and GraphiQL all POST.
      const body = {
        errors: [{ message: 'Send GraphQL operations with POST.', extensions: { code: 'request/method-not-allowed' } }],
      };
      res.writeHead(405, { allow: 'POST', 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    await yoga(req, res);
  };
  // Node checks the headers timeout on this interval: the default (30 s) would let a slow client keep
  // its connection up to twice as long as configured.
  const server = createServer({ connectionsCheckingInterval: Math.min(1000, headersTimeoutMs) }, (req, res) => {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    limitBodyIdle(req, bodyIdleTimeoutMs);
    if (req.url?.startsWith('/downloads/')) {
      handleDownload(app, req, res).catch(failed('download', res));
      return;
    }
    if (req.url === '/graphql' || req.url?.startsWith('/graphql?') || req.url?.startsWith('/graphql/')) {
      handleGraphql(req, res).catch(failed('GraphQL request', res));
      return;
    }
    res.setHeader('content-security-policy', PANEL_CSP);
    servePanel(req, res)
      .then((served) => {
        if (!served) res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found. The API is at /graphql.\n');
      })
      .catch(failed('static file', res));
  });
  const ws = attachGraphqlWs(server, yoga, app, logger);
  server.headersTimeout = headersTimeoutMs;
  // Multi-GB uploads and long downloads must not be cut by a total time: slow clients are cut by the
  // headers timeout and the body's idle limit (limitBodyIdle) instead.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${urlHost(host)}:${actual}`,
    async close() {
      await ws.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/** Where a local client reaches the server: "localhost" for loopback and all interfaces. */
function urlHost(host: string): string {
  if (['127.0.0.1', '0.0.0.0', '::', '::1', 'localhost'].includes(host)) return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}
