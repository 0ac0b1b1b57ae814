/**
 * Whether a browser request from `origin` may carry the admin's cookie and read the answer: no
 * Origin (not a browser, so no ambient cookie), the server's own origin (by the Host header), or
 * one listed in ALLOWED_ORIGINS. Shared by CORS (yoga.ts) and the WebSocket upgrade (graphql-ws.ts).
 */
export function isTrustedOrigin(
  origin: string | null | undefined,
  host: string | null | undefined,
  allowedOrigins: string[],
): boolean {
  if (origin === undefined || origin === null) return true;
  const url = parseUrl(origin); // null for "null" (sandboxed frames, file:)
  if (!url) return false;
  if (allowedOrigins.includes(url.origin)) return true;
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !host) return false;
  // Parsed with the origin's scheme, the Host header drops a default port the same way the origin does.
  return parseUrl(`${url.protocol}//${host}`)?.host === url.host;
}

const parseUrl = (text: string): URL | null => (URL.canParse(text) ? new URL(text) : null);
