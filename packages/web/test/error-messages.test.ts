import { CombinedError } from '@urql/vue';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { RequestTimeoutError } from '@/api/timeout-fetch';
import { GENERIC_MESSAGE, NETWORK_MESSAGE, TIMEOUT_MESSAGE, describeRequestError, messageFor } from '@/errors/messages';

// That every code of the schema's ErrorCode enum has words is checked by the compiler (pnpm typecheck).
describe('error messages', () => {
  it('words a code as the server sends it', () => {
    expect(messageFor('restore/missing-role')).toMatch(/roles that do not exist/);
  });

  it('falls back to a generic text for unknown or missing codes', () => {
    expect(messageFor('backup/something-new')).toBe(GENERIC_MESSAGE);
    expect(messageFor('toString')).toBe(GENERIC_MESSAGE);
    expect(messageFor(null)).toBe(GENERIC_MESSAGE);
    expect(messageFor(undefined)).toBe(GENERIC_MESSAGE);
  });

  it('describes failed requests without the raw error', () => {
    const coded = new CombinedError({
      graphQLErrors: [new GraphQLError('raw', { extensions: { code: 'auth/forbidden' } })],
    });
    expect(describeRequestError(coded)).toBe(messageFor('auth/forbidden'));
    expect(describeRequestError(new CombinedError({ networkError: new RequestTimeoutError(30_000) }))).toBe(
      TIMEOUT_MESSAGE,
    );
    expect(describeRequestError(new CombinedError({ networkError: new TypeError('Failed to fetch') }))).toBe(
      NETWORK_MESSAGE,
    );
    expect(describeRequestError(new CombinedError({ graphQLErrors: [new GraphQLError('Unexpected error.')] }))).toBe(
      GENERIC_MESSAGE,
    );
  });
});
