import { afterEach, describe, expect, it, vi } from 'vitest';
import { RequestTimeoutError, timeoutFetch } from '@/api/timeout-fetch';

/** A server that never answers: the request ends only when aborted. */
const hangingFetch: typeof fetch = (_input, init) =>
  new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))));

afterEach(() => {
  vi.useRealTimers();
});

describe('timeoutFetch', () => {
  it('gives up with a RequestTimeoutError', async () => {
    vi.useFakeTimers();
    const request = timeoutFetch(30_000, hangingFetch)('/graphql');
    const outcome = expect(request).rejects.toBeInstanceOf(RequestTimeoutError);
    await vi.advanceTimersByTimeAsync(30_000);
    await outcome;
  });

  it('still follows the caller’s own abort', async () => {
    const caller = new AbortController();
    const request = timeoutFetch(30_000, hangingFetch)('/graphql', { signal: caller.signal });
    caller.abort();
    await expect(request).rejects.toThrow('aborted');
  });
});
