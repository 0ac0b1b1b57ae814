import type { IncomingMessage, ServerResponse } from 'node:http';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError } from 'graphql';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, maskError as defaultMaskError } from 'graphql-yoga';
import { isConnectionLoss } from '../db/connection-loss.js';
import { EngineError } from '@pgbs/engine';
import type { App } from '../app.js';
import { AccessDenied, type GraphQLContext } from '../graphql/context.js';
import { schema } from '../graphql/schema.js';
import type { Logger } from '../logger.js';
import { type RequestCredentials, authenticate } from './request-auth.js';
import { useCredentialLifetime } from './credential-lifetime.js';
import { useUploadSpooling } from './upload-spooling.js';

/** From Node's HTTP handler (req, res), or from the graphql-ws layer for each WebSocket operation. */
export interface ServerContext {
  req: IncomingMessage;
  res?: ServerResponse;
  /** WebSocket operations only: authenticated once per connection, in connection_init (graphql-ws.ts). */
  connectionCredentials?: RequestCredentials;
}

/** The header urql and the panel send; Yoga refuses "simple" requests without it (CSRF). */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

export function createYogaApp(app: App, logger: Logger) {
  const cookies = new WeakMap<Request, string[]>();
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: { title: 'pgbs — PostgreSQL backups', credentials: 'same-origin' },
    // Bundled GraphiQL: the default page loads its assets from a CDN, which air-gapped servers can't reach.
    renderGraphiQL,
    landingPage: false,
    // Unexpected errors are logged by maskError below; refusals are not worth a log line.
    logging: false,
    // Uploads are parsed by our own streaming plugin (Yoga's parser holds whole files in memory).
    multipart: false,
    plugins: [
      // Listed first, so a cross-site post is refused (403) before the upload plugin authenticates it.
      // Neither reads the body: only the parser chosen after every onRequestParse hook does.
      useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
      useUploadSpooling(app, logger),
      useCredentialLifetime(),
      {
        onResponse({ request, response }) {
          for (const cookie of cookies.get(request) ?? []) response.headers.append('set-cookie', cookie);
        },
      },
    ],
    context: async ({ request, req, connectionCredentials }) => {
      const responseCookies: string[] = [];
      // A WebSocket operation has no Fetch request (nor a response to set cookies on).
      if (!connectionCredentials) cookies.set(request, responseCookies);
      const credentials =
        connectionCredentials ??
        (await authenticate(app, {
          authorization: request.headers.get('authorization'),
          cookie: request.headers.get('cookie'),
        }));
      return {
        app,
        viewer: credentials.viewer,
        sessionToken: credentials.sessionToken,
        address: req?.socket.remoteAddress ?? null,
        responseCookies,
      };
    },
    maskedErrors: {
      maskError(error, message, isDev) {
        // Made on purpose by Yoga or a plugin (CSRF, upload refusals): for the client as they are.
        if (error instanceof GraphQLError && !error.originalError) return error;
        const original = error instanceof GraphQLError ? error.originalError : error;
        // Coded errors are meant for the client (auth refusals, not-found in queries).
        if (original instanceof EngineError || original instanceof AccessDenied) {
          return new GraphQLError(original.message, { extensions: { code: original.code } });
        }
        if (isConnectionLoss(original)) {
          logger.warn('metadata database unreachable', { error: original });
          return new GraphQLError(
            'The service cannot reach its metadata database right now (is it restarting?). Nothing was changed; try again in a moment.',
            { extensions: { code: 'metadata/unavailable' } },
          );
        }
        logger.error('unexpected GraphQL error', { error: original ?? error });
        return defaultMaskError(error, message, isDev);
      },
    },
  });
}
