import { CombinedError } from '@urql/vue';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { RequestTimeoutError } from '@/api/timeout-fetch';
import {
  GENERIC_MESSAGE,
  NETWORK_MESSAGE,
  TIMEOUT_MESSAGE,
  describeRequestError,
  knownCodes,
  messageFor,
} from '@/errors/messages';
import engineErrors from '../../engine/src/errors.ts?raw';

/** The server's list: the ErrorCode union in packages/engine/src/errors.ts. */
const serverCodes = [...(/export type ErrorCode =([^;]+);/.exec(engineErrors)?.[1] ?? '').matchAll(/'([^']+)'/g)].map(
  (match) => match[1]!,
);

describe('error messages', () => {
  it('reads the server’s codes', () => {
    expect(serverCodes.length).toBeGreaterThan(30);
    expect(serverCodes).toContain('restore/missing-role');
  });

  it.each(serverCodes)('has a message for %s', (code) => {
    expect(messageFor(code)).not.toBe(GENERIC_MESSAGE);
  });

  it('knows no code the server does not have', () => {
    expect(knownCodes().filter((code) => !serverCodes.includes(code))).toEqual([]);
  });

  it('falls back to a generic text for unknown or missing codes', () => {
    expect(messageFor('backup/something-new')).toBe(GENERIC_MESSAGE);
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
