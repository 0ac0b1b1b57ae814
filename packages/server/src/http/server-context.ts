import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestCredentials } from './request-auth.js';

/** From Node's HTTP handler (req, res), or from the graphql-ws layer for each WebSocket operation. */
export interface ServerContext {
  req: IncomingMessage;
  res?: ServerResponse;
  /** WebSocket operations only: authenticated once per connection, in connection_init (graphql-ws.ts). */
  connectionCredentials?: RequestCredentials;
}
