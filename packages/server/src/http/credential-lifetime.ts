import type { ExecutionResult } from 'graphql';
import { type Plugin, Repeater, createGraphQLError, isAsyncIterable } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.js';

/** What a subscriber gets last when its credential ends; then its stream completes. */
export const CREDENTIAL_ENDED = {
  code: 'auth/unauthenticated',
  message: 'The session or API token has ended (logged out, revoked, removed or expired): log in again.',
} as const;

/**
 * Ends every subscription (SSE and graphql-ws alike: both run through Yoga's subscribe) when the
 * credential it was opened with ends, and keeps that credential's session alive meanwhile.
 */
export function useCredentialLifetime(): Plugin<GraphQLContext> {
  return {
    onSubscribe({ args }) {
      const { app, viewer } = args.contextValue;
      return {
        onSubscribeResult({ result, setResult }) {
          if (!viewer || !isAsyncIterable(result)) return;
          setResult(
            new Repeater<ExecutionResult>(async (push, stop) => {
              const untrack = app.liveCredentials.track(viewer, () => {
                const error = createGraphQLError(CREDENTIAL_ENDED.message, {
                  extensions: { code: CREDENTIAL_ENDED.code },
                });
                void push({ errors: [error] });
                stop();
              });
              const source = result[Symbol.asyncIterator]();
              try {
                for (;;) {
                  const next = await Promise.race([source.next(), stop]);
                  if (!next || next.done) break;
                  await push(next.value);
                }
              } finally {
                untrack();
                stop();
                await source.return?.();
              }
            }),
          );
        },
      };
    },
  };
}
