import type { App } from '../app.js';
import type { Viewer } from '../auth/auth-service.js';
import type { Actor } from '../modules/backups/index.js';

/** Per request (HTTP) or per connection (WebSocket). */
export interface GraphQLContext {
  app: App;
  viewer: Viewer | null;
  address: string | null;
  /**
   * Sets the session cookie on the HTTP response (login), or clears it with null (logout). The
   * transport provides it: GraphQL knows nothing of HTTP headers.
   */
  setSessionCookie(session: { token: string; expiresAt: Date } | null): void;
  /** The raw session cookie of this request, for logout. */
  sessionToken: string | null;
}

/**
 * A refusal for lack of rights. Not a CodedError on purpose: the errors plugin would turn it
 * into a typed result of the mutation; clients want it as a top-level error on every operation
 * (extensions.code), so one handler can send them to the login page.
 */
export class AccessDenied extends Error {
  override readonly name = 'AccessDenied';
  constructor(
    readonly code: 'auth/unauthenticated' | 'auth/forbidden',
    message: string,
  ) {
    super(message);
  }
}

/** Every operation but login needs an admin; the codes let clients tell "log in" from "not allowed". */
export function requireAdmin(context: GraphQLContext): Viewer {
  return requireAdminViewer(context.viewer);
}

/** The same check outside GraphQL execution (the upload path checks before reading the body). */
export function requireAdminViewer(viewer: Viewer | null): Viewer {
  if (!viewer) throw new AccessDenied('auth/unauthenticated', 'Log in first.');
  if (viewer.role !== 'admin') throw new AccessDenied('auth/forbidden', 'Only administrators may do this.');
  return viewer;
}

export function actorOf(context: GraphQLContext): Actor {
  return { name: context.viewer?.email ?? null, address: context.address };
}
