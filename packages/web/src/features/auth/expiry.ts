import type { Router } from 'vue-router';
import type { Session } from './session';

/**
 * The server no longer knows the session: back to the login page, to return where the user was.
 * Not after a logout from this page (the viewer is already null): that logout navigates itself,
 * and a second navigation would replace its "You have logged out." with a redirect.
 */
export function leaveOnExpiry(session: Session, router: Router): void {
  if (session.viewer.value === null) return;
  session.forget();
  const current = router.currentRoute.value;
  if (!current.meta.public) void router.replace({ path: '/login', query: { redirect: current.fullPath } });
}
