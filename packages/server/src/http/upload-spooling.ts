import { isCodedError } from '../errors/service-error.js';
import { type Plugin, createGraphQLError } from 'graphql-yoga';
import type { App } from '../app.js';
import { AccessDenied, requireAdminViewer } from '../graphql/context.js';
import type { Logger } from '../logger.js';
import { UploadRefusal, largestBody, parseMultipartUpload, tooLarge } from './multipart-upload.js';
import { authenticate, countFailedAuth } from './request-auth.js';
import { UploadSpool } from '../storage/spooled-file.js';
import { limitBodyIdle } from './timeouts.js';
import type { ServerContext } from './server-context.js';

const isUpload = (request: Request) =>
  request.method === 'POST' && /^multipart\/form-data\b/i.test(request.headers.get('content-type') ?? '');

/**
 * GraphQL multipart uploads, streamed to temp files instead of Yoga's in-memory parser. Nothing of
 * the body is read before the CSRF header (Yoga's CSRF plugin, listed before this one), the
 * credentials (admins only) and the rate limit are checked. The temp files are deleted when the
 * response is ready, whatever happened, except those a job has taken over (SpooledFile.retainUntil).
 */
export function useUploadSpooling(app: App, logger: Logger): Plugin<Record<string, unknown>, ServerContext> {
  const spools = new WeakMap<Request, UploadSpool>();
  return {
    onRequest({ request, setRequest, fetchAPI }) {
      if (!isUpload(request)) return;
      // Yoga gets a copy without the body: its maxRequestBodySize would refuse any upload over 25 MB by
      // its Content-Length, and nothing but our parser may consume the stream.
      const headers = new fetchAPI.Headers(request.headers);
      headers.delete('content-length');
      setRequest(new fetchAPI.Request(request.url, { method: request.method, headers, signal: request.signal }));
    },

    async onRequestParse({ request, serverContext, setRequestParser }) {
      if (!isUpload(request)) return;
      const { req } = serverContext;
      try {
        const { viewer } = await authenticate(app, {
          authorization: request.headers.get('authorization'),
          cookie: request.headers.get('cookie'),
        });
        if (!viewer || viewer.role !== 'admin') countFailedAuth(app, req.socket.remoteAddress);
        app.rateLimiter.hit('upload', requireAdminViewer(viewer).userId);
        if (Number(req.headers['content-length']) > largestBody(app.config.maxUploadBytes)) {
          throw tooLarge(app.config.maxUploadBytes);
        }
      } catch (error) {
        throw refusal(error);
      }
      // An admin's upload may take hours while its bytes keep coming.
      limitBodyIdle(req, app.config.http.uploadIdleTimeoutMs);
      const spool = new UploadSpool(app.uploadSpoolDir);
      spools.set(request, spool);
      setRequestParser(async () => {
        try {
          await spool.prepare();
          return await parseMultipartUpload(req, spool, app.config.maxUploadBytes);
        } catch (error) {
          await spool.cleanup();
          throw refusal(error);
        }
      });
    },

    async onResponse({ request, response, serverContext }) {
      if (!isUpload(request)) return;
      // Resolvers are done with the files by now; a restore job has retained its own.
      await spools
        .get(request)
        ?.cleanup()
        .catch((error: unknown) => logger.error('could not delete uploaded temp files', { error }));
      // Node would read (and discard) the rest of an unread body to reuse the connection: close it
      // instead, so that a refused client stops sending.
      if (!serverContext.req.complete) response.headers.set('connection', 'close');
    },
  };
}

/** The HTTP refusal for an error the client can act on; anything else stays an internal error. */
function refusal(error: unknown): unknown {
  if (error instanceof UploadRefusal) return httpError(error.status, error.code, error.message);
  if (error instanceof AccessDenied) {
    return httpError(error.code === 'auth/unauthenticated' ? 401 : 403, error.code, error.message);
  }
  if (isCodedError(error, 'auth/rate-limited')) {
    return httpError(429, error.code, error.message, { 'retry-after': String(error.details.retryAfterSeconds) });
  }
  return error;
}

function httpError(status: number, code: string, message: string, headers?: Record<string, string>) {
  return createGraphQLError(message, { extensions: { code, http: { status, headers } } });
}
