import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { BREAK, type DocumentNode, GraphQLError, Kind, visit } from 'graphql';
import { type Plugin, createYoga, maskError as defaultMaskError } from 'graphql-yoga';
import { isConnectionLoss } from '../db/connection-loss.js';
import { isCodedError } from '../errors/service-error.js';
import type { App } from '../app.js';
import { AccessDenied, type GraphQLContext, requireAdminViewer } from '../graphql/context.js';
import { schema } from '../graphql/schema.js';
import type { Logger } from '../logger.js';
import { GRAPHIQL_HTML, GRAPHIQL_OPTIONS } from './graphiql-page.js';
import { sessionCookie } from './cookies.js';
import { isTrustedOrigin } from './origin.js';
import { authenticate } from './request-auth.js';
import type { ServerContext } from './server-context.js';
import { useCredentialLifetime } from './credential-lifetime.js';
import { useUploadSpooling } from './upload-spooling.js';

/** The header urql and the panel send; Yoga refuses "simple" requests without it (CSRF). */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

/** The panel's operations are a few KB; an upload's file is not part of this body. */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

const CORS_HEADERS = ['content-type', 'authorization', CSRF_HEADER];

export function createYogaApp(app: App, logger: Logger) {
  const cookies = new WeakMap<Request, string[]>();
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    // Who may open it is decided before Yoga (graphiql-page.ts).
    graphiql: GRAPHIQL_OPTIONS,
    renderGraphiQL: () => GRAPHIQL_HTML,
    landingPage: false,
    // Yoga's default echoes any Origin with credentials: only the panel's own origin and ALLOWED_ORIGINS
    // may read answers made with the admin's cookie (other origins get no CORS headers at all).
    cors: (request) => {
      const origin = request.headers.get('origin');
      if (!origin || !isTrustedOrigin(origin, request.headers.get('host'), app.config.allowedOrigins)) return false;
      return { origin, credentials: true, methods: ['GET', 'POST'], allowedHeaders: CORS_HEADERS };
    },
    // JSON operations; multipart uploads bypass this (upload-spooling.ts) and keep MAX_UPLOAD_BYTES.
    maxRequestBodySize: MAX_JSON_BODY_BYTES,
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
      useCostLimits(),
      ...(app.config.http.publicIntrospection ? [] : [useAdminOnlyIntrospection()]),
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
        setSessionCookie: (session) => {
          const secure = app.config.secureCookies;
          responseCookies.push(
            session ? sessionCookie(session.token, session.expiresAt, secure) : sessionCookie('', new Date(0), secure),
          );
        },
      };
    },
    maskedErrors: {
      maskError(error, message, isDev) {
        if (error instanceof GraphQLError && error.extensions.code === 'REQUEST_ENTITY_TOO_LARGE') {
          return new GraphQLError(`The request body is larger than ${MAX_JSON_BODY_BYTES} bytes.`, {
            extensions: { code: 'request/too-large', http: { status: 413 } },
          });
        }
        // Made on purpose by Yoga or a plugin (CSRF, upload refusals): for the client as they are.
        if (error instanceof GraphQLError && !error.originalError) return error;
        const original = error instanceof GraphQLError ? error.originalError : error;
        // Coded errors are meant for the client (auth refusals, not-found in queries).
        if (isCodedError(original) || original instanceof AccessDenied) {
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

/**
 * Limits on a query's shape, checked while parsing (tokens) and validating, before anything runs:
 * a 10,000-alias query is refused after its first tokens. Generous for the panel's queries and
 * GraphiQL's introspection; refusals carry the code query/too-complex.
 */
function useCostLimits(): Plugin {
  const coded = { propagateOnRejection: true, onReject: [codeRefusal] };
  return EnvelopArmorPlugin({
    maxTokens: { n: 2000, ...coded },
    maxAliases: { n: 30, ...coded },
    maxDepth: { n: 15, ...coded },
    maxDirectives: { n: 30, ...coded },
    costLimit: { maxCost: 20_000, ...coded },
    // "Did you mean …" would describe the schema to anyone, introspection or not.
    blockFieldSuggestion: { enabled: true },
  });
}

/** Armor's errors have no code; the rejected error object is handed here before it is thrown. */
function codeRefusal(_context: unknown, error: GraphQLError): void {
  error.extensions['code'] = 'query/too-complex';
}

/** __schema and __type answer for signed-in admins only (__typename stays open: it describes nothing). */
function useAdminOnlyIntrospection(): Plugin<GraphQLContext> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (!introspects(args.document)) return;
      try {
        requireAdminViewer(args.contextValue.viewer);
      } catch (error) {
        const { code, message } = error as AccessDenied;
        setResultAndStopExecution({ errors: [new GraphQLError(message, { extensions: { code } })] });
      }
    },
  };
}

function introspects(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    [Kind.FIELD](node) {
      if (node.name.value !== '__schema' && node.name.value !== '__type') return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}
