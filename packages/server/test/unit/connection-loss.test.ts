import { describe, expect, it } from 'vitest';
import type { Clock } from '@pgbs/engine';
import { isConnectionLoss, retryWhileUnreachable } from '../../src/db/connection-loss.js';

const lost = () => Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' });

/** A clock whose timers fire at once and advance its time. */
function fakeClock(): Clock & { waits: number[] } {
  let now = 0;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    setTimeout(fn, ms) {
      waits.push(ms);
      now += ms;
      queueMicrotask(fn);
      return { cancel: () => {} };
    },
  };
}

describe('isConnectionLoss', () => {
  it('recognises the driver, socket and server codes, also wrapped in a cause', () => {
    expect(isConnectionLoss(lost())).toBe(true);
    expect(isConnectionLoss(new Error('Failed query', { cause: lost() }))).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('shutdown'), { code: '57P01' }))).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isConnectionLoss(new Error('plain'))).toBe(false);
    expect(isConnectionLoss('CONNECTION_CLOSED')).toBe(false);
  });
});

describe('retryWhileUnreachable', () => {
  it('runs the work again, backing off, until the database answers', async () => {
    const clock = fakeClock();
    let calls = 0;
    const result = await retryWhileUnreachable(
      async () => {
        if (++calls < 4) throw lost();
        return 'recorded';
      },
      { clock },
    );
    expect(result).toBe('recorded');
    expect(clock.waits).toEqual([250, 500, 1000]);
  });

  it('throws other errors at once, and a connection loss once the limit is reached', async () => {
    const clock = fakeClock();
    const wrong = Object.assign(new Error('syntax'), { code: '42601' });
    await expect(retryWhileUnreachable(() => Promise.reject(wrong), { clock })).rejects.toBe(wrong);
    expect(clock.waits).toEqual([]);
    await expect(retryWhileUnreachable(() => Promise.reject(lost()), { clock, limitMs: 3000 })).rejects.toMatchObject({
      code: 'CONNECTION_CLOSED',
    });
    expect(clock.waits).toEqual([250, 500, 1000]);
  });
});
