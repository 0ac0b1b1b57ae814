import { slotsBetween } from './cron.js';

export type MissedPolicy = 'run-once' | 'skip';
export const MISSED_POLICIES: readonly MissedPolicy[] = ['run-once', 'skip'];

/**
 * A slot is on time while it is at most this old when a tick sees it. Ticks come every few
 * seconds on each instance, so an older slot was passed while no instance was ticking.
 */
export const DEFAULT_GRACE_MS = 2 * 60_000;

/** At most this many slots are recorded by one tick; the rest wait for the next (a long outage of a per-minute schedule). */
export const MAX_SLOTS_PER_TICK = 1000;

export interface DueSlots {
  /** The slot to run now, if any. */
  run: Date | null;
  /** Slots recorded as missed, oldest first. */
  missed: Date[];
  /** The newest slot that gets its record: the schedule's last_slot_at afterwards (null: nothing due). */
  through: Date | null;
}

/**
 * What is due between the last recorded slot and now. Every slot gets exactly one record:
 * - on time (within the grace), the newest slot runs, whatever the policy;
 * - slots older than the newest are missed (they were passed while every instance was down);
 * - a late newest slot runs under `run-once` (one catch-up run, however many were missed) and is
 *   missed under `skip`.
 */
export function dueSlots(input: {
  cron: string;
  timeZone: string;
  lastSlotAt: Date;
  now: Date;
  missedPolicy: MissedPolicy;
  graceMs?: number;
  limit?: number;
}): DueSlots {
  const limit = input.limit ?? MAX_SLOTS_PER_TICK;
  const slots = slotsBetween(input.cron, input.timeZone, input.lastSlotAt, input.now, limit + 1);
  if (slots.length === 0) return { run: null, missed: [], through: null };
  if (slots.length > limit) {
    // Newer slots follow, so all of these are older than the newest due one.
    const missed = slots.slice(0, limit);
    return { run: null, missed, through: missed.at(-1)! };
  }
  const newest = slots.at(-1)!;
  const older = slots.slice(0, -1);
  const onTime = input.now.getTime() - newest.getTime() <= (input.graceMs ?? DEFAULT_GRACE_MS);
  return onTime || input.missedPolicy === 'run-once'
    ? { run: newest, missed: older, through: newest }
    : { run: null, missed: slots, through: newest };
}
