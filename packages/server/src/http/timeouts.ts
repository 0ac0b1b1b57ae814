import type { IncomingMessage } from 'node:http';

/**
 * Cuts the connection when the request body pauses longer than `idleMs`, until the body has been
 * read to its end. The socket's inactivity timer is used, so each byte restarts it and nothing runs
 * per chunk; Node destroys a socket whose timeout nobody handles. Called again to change the limit
 * (an admin's upload gets a longer one once authenticated).
 */
export function limitBodyIdle(req: IncomingMessage, idleMs: number): void {
  if (!hasBody(req) || req.readableEnded) return;
  req.socket.setTimeout(idleMs);
  if (armed.has(req)) return;
  armed.add(req);
  // Once the body is in, the answer may take long (validating an upload): that is not the client's pause.
  req.once('end', () => req.socket.setTimeout(0));
}

const armed = new WeakSet<IncomingMessage>();

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}
