import { type Clock, EngineError } from '@pgbs/engine';

/**
 * Fixed-window counters per key (action + address or user), in memory: enough for one
 * service process; limits reset when it restarts.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: Record<string, { max: number; windowSeconds: number }>,
  ) {}

  /** Counts one attempt; throws auth/rate-limited past the limit. */
  hit(action: string, key: string): void {
    const limit = this.limits[action];
    if (!limit) return;
    const now = this.clock.now();
    const id = `${action}:${key}`;
    const window = this.windows.get(id);
    if (!window || now - window.start >= limit.windowSeconds * 1000) {
      this.windows.set(id, { start: now, count: 1 });
      this.prune(now);
      return;
    }
    window.count += 1;
    if (window.count > limit.max) {
      const retry = Math.ceil((window.start + limit.windowSeconds * 1000 - now) / 1000);
      throw new EngineError('auth/rate-limited', `Too many ${action} attempts. Try again in ${retry} s.`, {
        retryAfterSeconds: retry,
      });
    }
  }

  private prune(now: number): void {
    if (this.windows.size < 10_000) return;
    for (const [id, window] of this.windows) if (now - window.start > 3_600_000) this.windows.delete(id);
  }
}
