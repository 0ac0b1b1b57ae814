import type { Clock } from '@pgbs/engine';

/** postgres.js's own codes and the socket errors that mean the server went away. */
const LOST_CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
]);

/**
 * Whether an error (or one it wraps: drizzle puts the driver's error in `cause`) says the
 * database was unreachable, not that the query was wrong: a connection exception (SQLSTATE class
 * 08), a shutdown or start-up in progress (57P01-57P03), or a socket error.
 */
export function isConnectionLoss(error: unknown): boolean {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (LOST_CONNECTION_CODES.has(code) || /^(08|57P0[123])/.test(code))) return true;
  }
  return false;
}

/**
 * Runs `work` again while the database is unreachable (a restart takes seconds), waiting 0.25 s,
 * then twice as long each time up to 5 s, for at most `limitMs`; any other error, or the limit,
 * is thrown. For the writes that record what a job did: losing one would leave a finished backup
 * out of the catalog or a job "running" until the next start. Retried work must be idempotent.
 */
export async function retryWhileUnreachable<T>(
  work: () => Promise<T>,
  options: { clock: Clock; limitMs?: number; onRetry?: (error: unknown) => void },
): Promise<T> {
  const deadline = options.clock.now() + (options.limitMs ?? 120_000);
  for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
    try {
      return await work();
    } catch (error) {
      if (!isConnectionLoss(error) || options.clock.now() + delay > deadline) throw error;
      options.onRetry?.(error);
      await new Promise<void>((resolve) => options.clock.setTimeout(resolve, delay));
    }
  }
}
