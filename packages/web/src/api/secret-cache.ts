import {
  type AnyVariables,
  type Client,
  type Exchange,
  type Operation,
  type OperationResult,
  type TypedDocumentNode,
  cacheExchange,
  createRequest,
} from '@urql/vue';
import { type Source, empty, filter, merge, pipe, share, take, toPromise } from 'wonka';

/** Variables that carry a secret (an encrypted backup's age identity, for the restore check). */
const SECRET_VARIABLES = ['identity'];

/** A query (or its teardown) that sends a secret; mutations are never cached, and keep their cache invalidation. */
export function carriesSecret(operation: Operation): boolean {
  if (operation.kind === 'mutation') return false;
  const variables = (operation.variables ?? {}) as Record<string, unknown>;
  return SECRET_VARIABLES.some((name) => variables[name] != null);
}

/**
 * urql's document cache for every operation but those that carry a secret. The cache keeps each
 * query's last result, with its operation and so its variables, by key for the page's life, whatever
 * the request policy: a query that sends an identity goes past it to the same exchanges below, and
 * its results come back past it, so nothing of it outlives the component that asked.
 */
export const cacheExchangeSparingSecrets: Exchange =
  ({ forward, client, dispatchDebug }) =>
  (operations$) => {
    const operations = pipe(operations$, share);
    let passedResults$: Source<OperationResult> = empty;
    const cachedResults$ = cacheExchange({
      client,
      dispatchDebug,
      // Called once, synchronously: the one downstream serves both streams (exchanges forward once).
      forward(cacheOperations$) {
        const results$ = pipe(forward(merge([cacheOperations$, pipe(operations, filter(carriesSecret))])), share);
        passedResults$ = pipe(
          results$,
          filter((result) => carriesSecret(result.operation)),
        );
        return pipe(
          results$,
          filter((result) => !carriesSecret(result.operation)),
        );
      },
    })(
      pipe(
        operations,
        filter((operation) => !carriesSecret(operation)),
      ),
    );
    return merge([cachedResults$, passedResults$]);
  };

/**
 * Sends a mutation and keeps nothing of it: useMutation holds its last operation, variables
 * included, as long as the page lives; for a mutation that sends a secret.
 */
export function mutateKeepingNothing<Data, Variables extends AnyVariables>(
  client: Client,
  query: TypedDocumentNode<Data, Variables>,
  variables: Variables,
): Promise<OperationResult<Data, Variables>> {
  return pipe(
    client.executeMutation<Data, Variables>(createRequest(query, variables)),
    filter((result) => !result.hasNext),
    take(1),
    toPromise,
  );
}
