import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import type { Logger } from '../logger.js';

/**
 * A message channel between every process of one installation (the server, CLIs): LISTEN/NOTIFY on
 * the metadata database. Each process delivers its own messages itself, so the relay skips them.
 * NOTIFY payloads are limited to 8000 bytes: send ids, not rows. The metadata database being
 * unreachable only costs the other processes' messages (logged once per outage).
 */
export async function notifyChannel<T>(
  deps: { sql: Sql; logger: Logger },
  channel: string,
  onRemote: (message: T) => void | Promise<void>,
): Promise<(message: T) => void> {
  const self = randomUUID();
  let failing = false;
  const relay = async (payload: string) => {
    try {
      const notice = JSON.parse(payload) as { from: string; message: T };
      if (notice.from !== self) await onRemote(notice.message);
    } catch (error) {
      deps.logger.warn('could not relay a message from another process', { error, channel });
    }
  };
  await deps.sql.listen(channel, (payload) => void relay(payload));
  return (message) => {
    deps.sql.notify(channel, JSON.stringify({ from: self, message })).then(
      () => (failing = false),
      (error: unknown) => {
        if (!failing) deps.logger.warn('could not send a message to other processes', { error, channel });
        failing = true;
      },
    );
  };
}
