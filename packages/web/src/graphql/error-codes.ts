import type { introspection } from './graphql-env.d.ts';

type Dashed<Words extends string> = Words extends `${infer Head}_${infer Tail}` ? `${Head}-${Dashed<Tail>}` : Words;

/** RESTORE_UNSAFE_SQL → restore/unsafe-sql: every code is domain/words-with-dashes, so the first "_" was the "/". */
type WireCode<Value extends string> = Value extends `${infer Domain}_${infer Words}`
  ? `${Lowercase<Domain>}/${Dashed<Lowercase<Words>>}`
  : never;

/** An error code as the server sends it (extensions.code, CodedError.code), from the schema's ErrorCode enum. */
export type ErrorCode = WireCode<introspection['types']['ErrorCode']['enumValues']>;
