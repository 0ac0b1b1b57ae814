import { constants } from 'node:os';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let handler: (() => void) | null = null;

/**
 * The CLI's one handler for Ctrl-C, SIGTERM and SIGHUP. While a job is followed, the signal
 * cancels it (see `onInterrupt`); otherwise the CLI exits at once with 128 + the signal number,
 * as a shell does. process.exit lets the embedded PostgreSQL's exit hook stop a server this
 * process started.
 */
export function installSignalHandlers(): void {
  for (const signal of SIGNALS) {
    process.on(signal, () => {
      if (handler) handler();
      else process.exit(128 + constants.signals[signal]);
    });
  }
}

/** Routes the signals to `interrupt` until the returned function is called. */
export function onInterrupt(interrupt: () => void): () => void {
  handler = interrupt;
  return () => {
    if (handler === interrupt) handler = null;
  };
}
