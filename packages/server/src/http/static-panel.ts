import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves the built admin panel (packages/web/dist): files as they are, every other GET path
 * the SPA's index.html so deep links such as /settings/backups work. Returns false when there
 * is no build, so the caller can answer 404.
 */
export function createStaticPanel(root: string) {
  const resolvedRoot = path.resolve(root);
  return async function servePanel(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const urlPath = decodePath(req.url ?? '/');
    if (urlPath === null) return false;
    const candidate = path.resolve(resolvedRoot, `.${urlPath}`);
    // Never outside the build directory, whatever the path says.
    const inside = candidate === resolvedRoot || candidate.startsWith(resolvedRoot + path.sep);
    const file = inside && (await isFile(candidate)) ? candidate : path.join(resolvedRoot, 'index.html');
    const size = await isFile(file);
    if (!size) return false;
    const hashedAsset = file.includes(`${path.sep}assets${path.sep}`);
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-length': size,
      // Vite names assets by content hash; index.html must always be fresh.
      'cache-control': hashedAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') res.end();
    else await pipeline(createReadStream(file), res);
    return true;
  };
}

function decodePath(url: string): string | null {
  try {
    return decodeURIComponent(new URL(url, 'http://x').pathname);
  } catch {
    return null; // malformed %-escapes: not a file we have
  }
}

async function isFile(file: string): Promise<number | false> {
  try {
    const info = await stat(file);
    return info.isFile() ? info.size : false;
  } catch {
    return false;
  }
}
