import { type AnyVariables, type Client, CombinedError, type GraphQLRequest, getOperationName } from '@urql/vue';
import { vi } from 'vitest';
import { shallowRef } from 'vue';
import { fromValue, never } from 'wonka';

/** What an operation answers: data, an error, or nothing ever (a pending request, an idle subscription). */
export type FakeAnswer = { data: unknown } | { error: CombinedError } | 'pending';
type Handler = (variables: Record<string, unknown>) => FakeAnswer;

/**
 * A stand-in for urql's Client that answers by operation name (`query Backups` → handlers.Backups).
 * Operations without a handler never answer.
 */
export function fakeClient(handlers: Record<string, Handler>) {
  const execute = (request: GraphQLRequest<unknown, AnyVariables>) => {
    const handler = handlers[getOperationName(request.query) ?? ''];
    const answer = handler ? handler((request.variables ?? {}) as Record<string, unknown>) : 'pending';
    if (answer === 'pending') return never;
    return fromValue({ operation: request, stale: false, hasNext: false, ...answer });
  };
  const client = {
    executeQuery: vi.fn(execute),
    executeMutation: vi.fn(execute),
    executeSubscription: vi.fn(execute),
  };
  return {
    client,
    /** Mount options that provide it where @urql/vue looks for the client. */
    global: { provide: { $urql: shallowRef(client as unknown as Client) } },
  };
}

export const networkError = () => new CombinedError({ networkError: new Error('Failed to fetch') });
