import { Client, fetchExchange, mapExchange, subscriptionExchange } from '@urql/vue';
import { createClient as createWebSocketClient } from 'graphql-ws';
import { cacheExchangeSparingSecrets } from './secret-cache';
import { UNAUTHENTICATED, notifySessionExpired } from './session-expiry';
import { timeoutFetch } from './timeout-fetch';

/** Yoga's CSRF prevention refuses requests without it (uploads included, see multipart-upload.ts). */
export const CSRF_HEADERS = { 'x-graphql-yoga-csrf': '1' } as const;

export const GRAPHQL_PATH = '/graphql';
const REQUEST_TIMEOUT_MS = 30_000;
/** graphql-ws close code the server uses for "log in first" (4403 is "not allowed"). */
const WS_UNAUTHORIZED = 4401;

function webSocketUrl({ protocol, host }: Pick<Location, 'protocol' | 'host'>): string {
  return `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}${GRAPHQL_PATH}`;
}

export function createApiClient(location: Pick<Location, 'protocol' | 'host'> = window.location): Client {
  // Same origin, so the browser sends the session cookie with the upgrade request.
  const sockets = createWebSocketClient({
    url: webSocketUrl(location),
    on: {
      closed(event) {
        if ((event as CloseEvent | undefined)?.code === WS_UNAUTHORIZED) notifySessionExpired();
      },
    },
  });

  return new Client({
    url: GRAPHQL_PATH,
    preferGetMethod: false,
    fetch: timeoutFetch(REQUEST_TIMEOUT_MS),
    fetchOptions: { credentials: 'same-origin', headers: CSRF_HEADERS },
    exchanges: [
      mapExchange({
        onError(error) {
          if (error.graphQLErrors.some((e) => e.extensions?.code === UNAUTHENTICATED)) notifySessionExpired();
        },
      }),
      cacheExchangeSparingSecrets,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const payload = { ...request, query: request.query ?? '' };
          return { subscribe: (sink) => ({ unsubscribe: sockets.subscribe(payload, sink) }) };
        },
      }),
    ],
  });
}
