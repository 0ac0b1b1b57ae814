import { type RouterHistory, createRouter, createWebHistory } from 'vue-router';
import type { Session } from './features/auth/session';
import { SETTINGS_SECTIONS } from './features/settings/sections';

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without a session. */
    public?: boolean;
    title?: string;
  }
}

/** After login: every target at a glance (or, for a newcomer, what to do first). */
export const HOME = '/settings/dashboard';

const SAME_ORIGIN = 'http://pgbs.invalid';

/**
 * Only paths of this origin: "//evil.example", "/\\evil.example" (browsers read it as "//") or
 * "https://…" after login would be an open redirect. Resolved the way a browser would, then kept
 * as a path.
 */
export function safeRedirect(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || !URL.canParse(value, SAME_ORIGIN)) return HOME;
  const url = new URL(value, SAME_ORIGIN);
  return url.origin === SAME_ORIGIN ? `${url.pathname}${url.search}${url.hash}` : HOME;
}

/** Pages the server renders itself (GraphiQL), reached by loading them rather than through the router. */
export function isServerPage(path: string): boolean {
  return /^\/graphql(?:[/?#]|$)/.test(path);
}

export function createAppRouter(session: Session, history: RouterHistory = createWebHistory()) {
  const router = createRouter({
    history,
    routes: [
      { path: '/', redirect: HOME },
      {
        path: '/login',
        component: () => import('./features/auth/LoginPage.vue'),
        meta: { public: true, title: 'Log in' },
      },
      {
        path: '/settings',
        component: () => import('./features/settings/SettingsLayout.vue'),
        redirect: HOME,
        children: [
          ...SETTINGS_SECTIONS.map((section) => ({
            path: section.path,
            component: section.component,
            meta: { title: section.label },
          })),
          {
            path: 'backups/:id',
            component: () => import('./features/backups/BackupDetailsPage.vue'),
            props: true,
            meta: { title: 'Backup details' },
          },
        ],
      },
      { path: '/:unknown(.*)*', redirect: HOME },
    ],
  });

  router.beforeEach(async (to) => {
    if (to.meta.public) return true;
    if (await session.ensure()) return true;
    return { path: '/login', query: { redirect: to.fullPath } };
  });

  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · pgbs` : 'pgbs';
  });

  return router;
}
