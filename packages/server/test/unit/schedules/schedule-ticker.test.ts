import { describe, expect, it } from 'vitest';
import { TICK_MS, delayToNextTick } from '../../../src/modules/schedules/schedule-ticker.js';

describe('delayToNextTick', () => {
  const at = (iso: string) => new Date(iso).getTime();

  it('ticks just after each quarter minute of the wall clock, whenever the last tick ended', () => {
    for (const [now, next] of [
      ['2026-05-01T10:00:07.000Z', '2026-05-01T10:00:15.200Z'],
      ['2026-05-01T10:00:44.900Z', '2026-05-01T10:00:45.200Z'],
      ['2026-05-01T10:00:59.999Z', '2026-05-01T10:01:00.200Z'],
      // A tick that ended right at its own start time waits for the next boundary, not zero.
      ['2026-05-01T10:01:00.200Z', '2026-05-01T10:01:15.200Z'],
    ] as const) {
      expect(new Date(at(now) + delayToNextTick(at(now), TICK_MS)).toISOString()).toBe(next);
    }
  });
});
