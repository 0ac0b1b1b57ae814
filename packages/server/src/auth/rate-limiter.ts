import type { Clock } from '@pgbs/engine';
import { ServiceError } from '../errors/service-error.js';

/**
 * Fixed-window counters per key (action + account and address, or user), in memory: enough for one
 * service process; limits reset when it restarts.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: Record<string, { max: number; windowSeconds: number }>,
  ) {}

  /** Counts one attempt; throws auth/rate-limited, without counting it, once the limit is reached. */
  hit(action: string, key: string): void {
    this.check(action, key);
    this.count(action, key);
  }

  /** Throws auth/rate-limited when the window already holds the limit, without counting this attempt. */
  check(action: string, key: string): void {
    const limit = this.limits[action];
    const window = this.current(action, key);
    if (!limit || !window || window.count < limit.max) return;
    const retry = Math.ceil((window.start + limit.windowSeconds * 1000 - this.clock.now()) / 1000);
    throw new ServiceError('auth/rate-limited', `Too many ${action} attempts. Try again in ${retry} s.`, {
      retryAfterSeconds: retry,
    });
  }

  /** Counts an attempt that must count without being refused now (a failed login, after the fact). */
  count(action: string, key: string): void {
    if (!this.limits[action]) return;
    const window = this.current(action, key);
    if (window) {
      window.count += 1;
      return;
    }
    const now = this.clock.now();
    this.windows.set(`${action}:${key}`, { start: now, count: 1 });
    this.prune(now);
  }

  /** The key's window, unless there is none or it has passed. */
  private current(action: string, key: string): { start: number; count: number } | undefined {
    const limit = this.limits[action];
    const window = this.windows.get(`${action}:${key}`);
    if (!limit || !window || this.clock.now() - window.start >= limit.windowSeconds * 1000) return undefined;
    return window;
  }

  private prune(now: number): void {
    if (this.windows.size < 10_000) return;
    for (const [id, window] of this.windows) if (now - window.start > 3_600_000) this.windows.delete(id);
  }
}
