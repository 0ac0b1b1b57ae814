import type { Clock } from '@pgbs/engine';
import { describe, expect, it } from 'vitest';
import { repeatUntilStopped } from '../../src/repeat.js';

/** A clock whose timers run when the test says so. */
function manualClock() {
  const timers: { fn: () => void; ms: number }[] = [];
  const clock: Clock = {
    now: () => 0,
    setTimeout(fn, ms) {
      timers.push({ fn, ms });
      return { cancel() {} };
    },
  };
  return { clock, timers, fire: () => timers.at(-1)!.fn() };
}

describe('repeatUntilStopped', () => {
  it('waits the first delay, then the next delay after each pass has ended, one pass at a time', async () => {
    const { clock, timers, fire } = manualClock();
    let release: () => void = () => {};
    let passes = 0;
    const loop = repeatUntilStopped(
      clock,
      async () => {
        passes += 1;
        await new Promise<void>((resolve) => (release = resolve));
      },
      { firstDelayMs: 0, nextDelayMs: () => 15_000 },
    );
    expect(timers.map((timer) => timer.ms)).toEqual([0]);
    fire();
    expect(passes).toBe(1);
    // The pass is still running: no next timer yet.
    expect(timers).toHaveLength(1);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(timers.map((timer) => timer.ms)).toEqual([0, 15_000]);
    await loop.stop();
  });

  it('goes on after a failed pass; stop waits for the pass in progress and schedules nothing more', async () => {
    const { clock, timers, fire } = manualClock();
    let release: () => void = () => {};
    let passes = 0;
    const loop = repeatUntilStopped(
      clock,
      async () => {
        passes += 1;
        if (passes === 1) throw new Error('down for a moment');
        await new Promise<void>((resolve) => (release = resolve));
      },
      { firstDelayMs: 10, nextDelayMs: () => 10 },
    );
    fire();
    await new Promise((resolve) => setImmediate(resolve));
    expect(timers).toHaveLength(2);
    fire();
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(passes).toBe(2);
    // Nothing after the stop.
    expect(timers).toHaveLength(2);
  });
});
