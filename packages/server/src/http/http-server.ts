import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../app.js';
import type { Logger } from '../logger.js';
import { createYogaApp } from './yoga.js';

export interface HttpService {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** One HTTP server: GraphQL (and GraphiQL) on /graphql. */
export async function startHttpServer(app: App, logger: Logger, port: number): Promise<HttpService> {
  const yoga = createYogaApp(app, logger);
  const server = createServer(yoga);
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
