import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../app.js';

/** GET /downloads/<backupId>: placeholder until the download route lands (being written now). */
export async function handleDownload(_app: App, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.writeHead(501).end();
}
