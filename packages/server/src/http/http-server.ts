import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../app.js';
import type { Logger } from '../logger.js';
import { handleDownload } from './download-route.js';
import { attachGraphqlWs } from './graphql-ws.js';
import { createStaticPanel } from './static-panel.js';
import { createYogaApp } from './yoga.js';

export interface HttpService {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** One HTTP server: GraphQL (GraphiQL, SSE and graphql-ws) on /graphql, backup downloads on /downloads/, the panel on /. */
export async function startHttpServer(app: App, logger: Logger, port: number): Promise<HttpService> {
  const yoga = createYogaApp(app, logger);
  const servePanel = createStaticPanel(app.config.panelDir);
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/downloads/')) {
      handleDownload(app, req, res).catch((error: unknown) => {
        logger.error('download failed', { error });
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
      return;
    }
    if (req.url === '/graphql' || req.url?.startsWith('/graphql?') || req.url?.startsWith('/graphql/')) {
      void yoga(req, res);
      return;
    }
    servePanel(req, res)
      .then((served) => {
        if (!served) res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found. The API is at /graphql.\n');
      })
      .catch((error: unknown) => {
        logger.error('static file failed', { error });
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  const ws = attachGraphqlWs(server, yoga, app, logger);
  // Multi-GB uploads and long downloads must not be cut by Node's defaults (300 s).
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    server,
    url: `http://localhost:${actual}`,
    async close() {
      await ws.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
