export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`No answer within ${Math.round(timeoutMs / 1000)} s.`);
  }
}

/**
 * fetch that gives up after timeoutMs. urql replaces fetchOptions.signal with its own (for teardown),
 * so the timeout lives in the fetch function and follows urql's signal too.
 */
export function timeoutFetch(timeoutMs: number, baseFetch: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const controller = new AbortController();
    const outer = init?.signal;
    const forward = () => controller.abort(outer?.reason);
    if (outer?.aborted) forward();
    outer?.addEventListener('abort', forward, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      return await baseFetch(input, { ...init, signal: controller.signal });
    } catch (error) {
      throw timedOut ? new RequestTimeoutError(timeoutMs) : error;
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', forward);
    }
  };
}
