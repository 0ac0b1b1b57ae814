import { describe, expect, it } from 'vitest';
import type { Clock } from '@pgbs/engine';
import { RateLimiter } from '../../src/auth/rate-limiter.js';
import { ServiceError } from '../../src/errors/service-error.js';

function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 1_000_000;
  return {
    now: () => now,
    setTimeout: () => ({ cancel: () => {} }),
    advance: (ms) => (now += ms),
  };
}

describe('rate limiter', () => {
  it('allows max attempts per window and per key, then refuses with a retry time', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(clock, { login: { max: 3, windowSeconds: 60 } });
    for (let i = 0; i < 3; i++) limiter.hit('login', '10.0.0.1');
    limiter.hit('login', '10.0.0.2');
    clock.advance(20_000);
    const error = (() => {
      try {
        limiter.hit('login', '10.0.0.1');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).code).toBe('auth/rate-limited');
    expect((error as ServiceError).details.retryAfterSeconds).toBe(40);
    clock.advance(40_000);
    expect(() => limiter.hit('login', '10.0.0.1')).not.toThrow();
  });

  it('counts only what count() is told (failed logins); check() refuses once the window is full', () => {
    const limiter = new RateLimiter(fakeClock(), { login: { max: 2, windowSeconds: 60 } });
    for (let i = 0; i < 5; i++) limiter.check('login', 'a'); // successes are never counted
    limiter.count('login', 'a');
    limiter.check('login', 'a');
    limiter.count('login', 'a');
    expect(() => limiter.check('login', 'a')).toThrow(/Too many login attempts/);
    expect(() => limiter.check('login', 'b')).not.toThrow();
  });

  it('ignores actions without a limit', () => {
    const limiter = new RateLimiter(fakeClock(), {});
    for (let i = 0; i < 1000; i++) limiter.hit('anything', 'x');
  });
});
