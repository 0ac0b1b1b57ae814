import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

/** Documents typed from packages/server/schema.graphql (through the generated graphql-env.d.ts). */
export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: {
    /** ISO 8601, as the server serializes it. */
    DateTime: string;
    Bytes: number;
    File: File;
  };
}>();

export type { ResultOf, VariablesOf } from 'gql.tada';
