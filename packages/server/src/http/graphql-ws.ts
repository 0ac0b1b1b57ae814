import type { Server } from 'node:http';
import type { App } from '../app.js';
import type { Logger } from '../logger.js';
import type { createYogaApp } from './yoga.js';

/** graphql-ws on /graphql: placeholder until the WebSocket transport lands (being written now). */
export function attachGraphqlWs(
  _server: Server,
  _yoga: ReturnType<typeof createYogaApp>,
  _app: App,
  _logger: Logger,
): { close(): Promise<void> } {
  return { close: async () => {} };
}
