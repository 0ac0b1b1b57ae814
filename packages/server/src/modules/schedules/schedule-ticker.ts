import type { Clock } from '@pgbs/engine';
import { and, eq, isNull } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import { schedules, targets } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import { type Repeating, repeatUntilStopped } from '../../repeat.js';
import type { TargetsModule } from '../targets/targets-module.js';
import type { Schedules } from './schedules.js';

/**
 * Slots are minutes: ticks come every 15 s on the wall clock's quarter minutes (plus a margin),
 * so a slot is picked up within about a second by whichever instance ticks first. Ticks at a
 * random phase made every scheduled run wait 7.5 s on average (pnpm bench scheduling).
 */
export const TICK_MS = 15_000;
/** Past the boundary, so that a slot is due at the tick even if the clocks differ a little. */
const TICK_MARGIN_MS = 200;

/** From `now` until the next tick on the interval's wall-clock grid. */
export function delayToNextTick(now: number, intervalMs: number): number {
  return intervalMs - ((now - TICK_MARGIN_MS) % intervalMs);
}
/** A whole-server target's databases are listed again at most this often (new ones join its runs). */
const SYNC_MS = 5 * 60_000;

/**
 * Each server and worker ticks on a timer of its own: the claims are exactly-once in the database
 * (tick-schedules.ts), so a queue round-trip per tick would add latency and nothing else.
 */
export function startScheduleTicker(deps: {
  db: MetadataDb;
  schedules: Schedules;
  targets: Pick<TargetsModule, 'sync'>;
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
}): Repeating {
  let lastSync = -Infinity;

  const syncServers = async () => {
    if (deps.clock.now() - lastSync < SYNC_MS) return;
    lastSync = deps.clock.now();
    const servers = await deps.db
      .select({ id: targets.id, name: targets.name })
      .from(schedules)
      .innerJoin(targets, eq(targets.id, schedules.targetId))
      .where(and(eq(targets.kind, 'server'), eq(targets.enabled, true), isNull(targets.deletedAt)));
    for (const server of servers) {
      // An unreachable server keeps its known databases; its runs fail and are recorded.
      await deps.targets.sync(server.id).catch((error: unknown) => {
        deps.logger.warn('could not list the databases of a server target', {
          target: server.name,
          error: String(error),
        });
      });
    }
  };
  const pass = async () => {
    try {
      await syncServers();
      await deps.schedules.tick();
    } catch (error) {
      deps.logger.warn('schedule tick failed; retrying at the next', { error: String(error) });
    }
  };
  return repeatUntilStopped(deps.clock, pass, {
    firstDelayMs: 0,
    nextDelayMs: () => delayToNextTick(deps.clock.now(), deps.intervalMs ?? TICK_MS),
  });
}
