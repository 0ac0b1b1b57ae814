import type { IncomingMessage, Server } from 'node:http';
import { GraphQLError } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { App } from '../app.js';
import type { Viewer } from '../auth/auth-service.js';
import type { Logger } from '../logger.js';
import { CREDENTIAL_ENDED } from './credential-lifetime.js';
import { isTrustedOrigin } from './origin.js';
import { type RequestCredentials, authenticate } from './request-auth.js';
import type { ServerContext } from './server-context.js';
import type { createYogaApp } from './yoga.js';

type Yoga = ReturnType<typeof createYogaApp>;
type Enveloped = ReturnType<Yoga['getEnveloped']>;

/** Yoga's execute/subscribe for one operation, carried to graphql-ws through rootValue (Yoga's documented pattern). */
interface EnvelopedRoot {
  execute: Enveloped['execute'];
  subscribe: Enveloped['subscribe'];
}

/** The socket of a credential that has ended: no further operation, and the client is told to log in. */
const CREDENTIAL_ENDED_CLOSE = `${CREDENTIAL_ENDED.code}: ${CREDENTIAL_ENDED.message}`;

/** A terminated client must not hold close() for ws's 30 s close handshake timeout. */
const CLOSE_GRACE_MS = 1000;

/**
 * graphql-ws on /graphql, executed by Yoga (same schema, plugins, error masking and context as HTTP).
 * Authenticated in connection_init (only admins get past it) and again for every operation, so that
 * a credential that ended in another process is refused even before its "ended" event arrives. The
 * socket is closed with 4401 as soon as its credential ends (app.liveCredentials).
 */
export function attachGraphqlWs(server: Server, yoga: Yoga, app: App, logger: Logger): { close(): Promise<void> } {
  // GraphQL messages are small; ws's default limit is 100 MiB.
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: 1024 * 1024 });
  const disposable = useServer<Record<string, unknown> | undefined>(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args),
      onConnect: async (ctx) => {
        try {
          const result = await authenticateConnection(app, ctx.extra.request, ctx.connectionParams);
          if ('refusal' in result) {
            // Closed here rather than by returning false, to tell "log in" (4401) from "not allowed" (4403).
            ctx.extra.socket.close(result.refusal.closeCode, result.refusal.reason);
            return false;
          }
          const { socket } = ctx.extra;
          const untrack = app.liveCredentials.track(result.credentials.viewer, () =>
            socket.close(CloseCode.Unauthorized, CREDENTIAL_ENDED_CLOSE),
          );
          socket.once('close', untrack);
          return true;
        } catch (error) {
          logger.error('WebSocket authentication failed', { error });
          ctx.extra.socket.close(CloseCode.InternalServerError, 'Internal server error');
          return false;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        const current = await authenticateConnection(app, ctx.extra.request, ctx.connectionParams);
        if ('refusal' in current) {
          ctx.extra.socket.close(CloseCode.Unauthorized, CREDENTIAL_ENDED_CLOSE);
          return [new GraphQLError(CREDENTIAL_ENDED.message, { extensions: { code: CREDENTIAL_ENDED.code } })];
        }
        const initialContext: ServerContext = {
          req: ctx.extra.request,
          connectionCredentials: current.credentials,
        };
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...initialContext,
          params: payload,
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          // A syntax error is the client's, reported like on HTTP; graphql-ws would close the socket.
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies EnvelopedRoot,
        };
      },
    },
    wss,
  );
  return {
    async close() {
      // 1001 Going away for every client, then cut off those that do not answer the close handshake.
      const closing = disposable.dispose();
      const timer = setTimeout(() => {
        for (const client of wss.clients) client.terminate();
      }, CLOSE_GRACE_MS);
      try {
        await closing;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

type ConnectionAuth =
  | { credentials: RequestCredentials & { viewer: Viewer } }
  | { refusal: { closeCode: CloseCode.Unauthorized | CloseCode.Forbidden; reason: string } };

/**
 * A bearer token in connectionParams (`{ authorization: 'Bearer …' }` or `{ token }`), else the session
 * cookie of the upgrade request. Browsers attach cookies to WebSocket upgrades from any page without
 * CORS (SameSite stops cross-site ones, not a sibling subdomain or an old browser), so the cookie
 * counts only from a trusted Origin.
 */
async function authenticateConnection(
  app: App,
  request: IncomingMessage,
  params: Record<string, unknown> | undefined,
): Promise<ConnectionAuth> {
  const authorization = bearerOf(params);
  const trusted = isTrustedOrigin(request.headers.origin, request.headers.host, app.config.allowedOrigins);
  const { cookie } = request.headers;
  const credentials = await authenticate(app, { authorization, cookie: trusted ? cookie : null });
  const { viewer } = credentials;
  if (viewer?.role === 'admin') return { credentials: { ...credentials, viewer } };
  if (viewer) return refuse(CloseCode.Forbidden, 'auth/forbidden', 'Only administrators may subscribe.');
  if (!authorization && cookie && !trusted) {
    return refuse(CloseCode.Forbidden, 'auth/forbidden', 'The session cookie is not accepted from this origin.');
  }
  return refuse(CloseCode.Unauthorized, 'auth/unauthenticated', 'Log in first.');
}

function refuse(
  closeCode: CloseCode.Unauthorized | CloseCode.Forbidden,
  code: string,
  message: string,
): ConnectionAuth {
  // The close reason is the only message a refused client gets; it carries the same code as HTTP errors.
  return { refusal: { closeCode, reason: `${code}: ${message}` } };
}

function bearerOf(params: Record<string, unknown> | undefined): string | null {
  if (typeof params?.authorization === 'string') return params.authorization;
  if (typeof params?.token === 'string') return `Bearer ${params.token}`;
  return null;
}
