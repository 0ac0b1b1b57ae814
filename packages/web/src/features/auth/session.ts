import type { Client } from '@urql/vue';
import { type InjectionKey, type Ref, inject, readonly, shallowRef } from 'vue';
import { describeRequestError, messageFor } from '@/errors/messages';
import type { ResultOf } from '@/graphql/graphql';
import { LoginMutation, LogoutMutation, MeQuery } from '@/graphql/session';

export type Viewer = NonNullable<ResultOf<typeof MeQuery>['me']>;

export interface Session {
  /** undefined until asked; null when nobody is logged in. */
  viewer: Readonly<Ref<Viewer | null | undefined>>;
  /** Asks the server once, then answers from memory. */
  ensure(): Promise<Viewer | null>;
  /** null on success, else a message for the login form. */
  login(email: string, password: string): Promise<string | null>;
  logout(): Promise<void>;
  /** The server said the session is gone. */
  forget(): void;
}

/** The login page's query flag after a logout: it says so. */
export const LOGGED_OUT = 'logged-out';

export const SESSION: InjectionKey<Session> = Symbol('session');

export function createSession(client: Client): Session {
  const viewer = shallowRef<Viewer | null | undefined>(undefined);

  return {
    viewer: readonly(viewer),
    async ensure() {
      if (viewer.value !== undefined) return viewer.value;
      const result = await client.query(MeQuery, {}, { requestPolicy: 'network-only' }).toPromise();
      // Not remembered when the server did not answer: the next navigation asks again.
      if (result.error) return null;
      viewer.value = result.data?.me ?? null;
      return viewer.value;
    },
    async login(email, password) {
      const result = await client.mutation(LoginMutation, { email, password }).toPromise();
      if (result.error) return describeRequestError(result.error);
      const login = result.data?.login;
      if (login?.__typename === 'CodedError') return messageFor(login.code);
      if (login?.__typename !== 'MutationLoginSuccess') return messageFor(null);
      viewer.value = login.data;
      return null;
    },
    async logout() {
      // Forgotten before asking: the server closes the session's WebSocket before it answers, and
      // that close must not pass for an expiry, whose redirect would race the logout's own.
      viewer.value = null;
      await client.mutation(LogoutMutation, {}).toPromise();
    },
    forget() {
      viewer.value = null;
    },
  };
}

export function useSession(): Session {
  const session = inject(SESSION);
  if (!session) throw new Error('useSession() needs the session provided by main.ts');
  return session;
}
