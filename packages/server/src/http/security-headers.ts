import { createHash } from 'node:crypto';

type Directives = Record<string, string[]>;

const BASE: Directives = {
  'default-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  // 'self' covers the same-origin WebSocket (CSP 3).
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

const render = (directives: Directives): string =>
  Object.entries({ ...BASE, ...directives })
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');

/** On every answer: no MIME sniffing, no Referer (download links carry their signature), HSTS once served over TLS. */
export function commonHeaders(secureCookies: boolean): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...(secureCookies ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

/** The panel's Vite build has no inline script or style (Vue's :style bindings go through the CSSOM). */
export const PANEL_CSP = render({ 'script-src': ["'self'"], 'style-src': ["'self'"] });

/**
 * GraphiQL's page is one inline script (allowed by its hash, nothing else), which starts the Monaco
 * editor's workers from blob: URLs. Monaco and React add <style> elements at run time, so styles
 * stay inline-capable; they cannot run code.
 */
export function graphiqlCsp(html: string): string {
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
    ([, body]) => `'sha256-${createHash('sha256').update(body!).digest('base64')}'`,
  );
  return render({
    'script-src': hashes,
    'worker-src': ['blob:'],
    'style-src': ["'self'", "'unsafe-inline'"],
    'font-src': ["'self'", 'data:'],
  });
}
