import type { IncomingMessage } from 'node:http';

/** The idle limit last set for each request whose body is being received. */
const limits = new WeakMap<IncomingMessage, number>();

/**
 * Cuts the connection when the request body pauses longer than `idleMs`, until the body has been
 * read to its end. The socket's inactivity timer is used, so each byte restarts it and nothing runs
 * per chunk; Node destroys a socket whose timeout nobody handles. Called again to change the limit
 * (an admin's upload gets a longer one once authenticated).
 */
export function limitBodyIdle(req: IncomingMessage, idleMs: number): void {
  if (!hasBody(req) || req.readableEnded) return;
  const armed = limits.has(req);
  limits.set(req, idleMs);
  req.socket.setTimeout(idleMs);
  if (armed) return;
  // Once the body is in, the answer may take long (validating an upload): that is not the client's
  // pause. Unless the response is already done and Node has set its keep-alive timeout instead.
  req.once('end', () => {
    if (req.socket.timeout === limits.get(req)) req.socket.setTimeout(0);
  });
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}
