import { type AnyVariables, type DocumentInput, useQuery } from '@urql/vue';
import { computed } from 'vue';

/**
 * A settings page's list (targets, destinations, keys): fetched from the cache and then the network,
 * asked again when a mutation touches its type, and refreshed on demand.
 */
export function useListQuery<Data, Row>(
  query: DocumentInput<Data, AnyVariables>,
  typename: string,
  rowsOf: (data: Data) => readonly Row[],
) {
  const result = useQuery<Data, AnyVariables>({
    query,
    requestPolicy: 'cache-and-network',
    context: { additionalTypenames: [typename] },
  });
  const rows = computed(() => (result.data.value ? rowsOf(result.data.value) : []));
  const refresh = () => result.executeQuery({ requestPolicy: 'network-only' });
  return { query: result, rows, refresh };
}

export type ListQuery<Row> = ReturnType<typeof useListQuery<unknown, Row>>;
