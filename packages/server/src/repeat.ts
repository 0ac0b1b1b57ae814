import type { Clock } from '@pgbs/engine';

export interface Repeating {
  /** No pass starts after this; resolves once a pass in progress has ended. */
  stop(): Promise<void>;
}

/**
 * Runs `pass` after `firstDelayMs`, then again `nextDelayMs()` after each pass has ended (never
 * two at once, however long one takes), until stopped: the shape of every background loop of an
 * instance (the schedule ticker, the recovery of interrupted jobs, the instance's heartbeat).
 * `pass` handles its own errors: a rejection is swallowed so that the loop goes on.
 */
export function repeatUntilStopped(
  clock: Clock,
  pass: () => Promise<void>,
  options: { firstDelayMs: number; nextDelayMs: () => number },
): Repeating {
  let stopped = false;
  let timer: { cancel(): void } | null = null;
  let running: Promise<void> = Promise.resolve();
  const schedule = (delay: number) => {
    timer = clock.setTimeout(() => {
      running = pass()
        .catch(() => {})
        .finally(() => {
          if (!stopped) schedule(options.nextDelayMs());
        });
    }, delay);
  };
  schedule(options.firstDelayMs);
  return {
    async stop() {
      stopped = true;
      timer?.cancel();
      await running;
    },
  };
}
