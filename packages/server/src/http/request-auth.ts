import type { App } from '../app.js';
import { SESSION_COOKIE, type Viewer } from '../auth/auth-service.js';
import { readCookie } from './cookies.js';

export interface RequestCredentials {
  viewer: Viewer | null;
  sessionToken: string | null;
}

/** A bearer token (integrations) or the session cookie (the panel), checked the same way everywhere. */
export async function authenticate(
  app: App,
  headers: { authorization?: string | null; cookie?: string | null },
): Promise<RequestCredentials> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
  if (bearer) return { viewer: await app.auth.viewerFromApiToken(bearer), sessionToken: null };
  const sessionToken = readCookie(headers.cookie, SESSION_COOKIE);
  if (sessionToken) return { viewer: await app.auth.viewerFromSession(sessionToken), sessionToken };
  return { viewer: null, sessionToken: null };
}

/**
 * Counts a refused credential (download, upload) for the client's address; throws auth/rate-limited
 * past RATE_LIMIT_FAILED_AUTH_PER_15_MIN. Refusals cost a database lookup and, for downloads, an audit
 * row: anonymous clients must not repeat them at will.
 */
export function countFailedAuth(app: App, address: string | undefined): void {
  app.rateLimiter.hit('failed-auth', address ?? 'unknown');
}
