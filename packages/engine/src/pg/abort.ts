import { CodedError, EngineError } from '../errors.js';
import type { RunningProcess } from './process.js';

/**
 * The error to report for an aborted operation: the job runner aborts with a coded reason (its own
 * codes too, such as a time limit), which is reported as it is.
 */
export function abortReason(signal: AbortSignal): CodedError {
  const reason: unknown = signal.reason;
  if (reason instanceof CodedError) return reason;
  return new EngineError('job/cancelled', 'The operation was cancelled.');
}

/** Kills the children (whole process groups) when the signal fires; returns the detach function. */
export function killOnAbort(signal: AbortSignal, children: readonly RunningProcess[]): () => void {
  const kill = () => {
    for (const child of children) child.kill('SIGKILL');
  };
  if (signal.aborted) kill();
  signal.addEventListener('abort', kill, { once: true });
  return () => signal.removeEventListener('abort', kill);
}
