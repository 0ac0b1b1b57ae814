import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent } from 'vue';
import { createMemoryHistory, createRouter } from 'vue-router';
import { leaveOnExpiry } from '@/features/auth/expiry';
import LoginPage from '@/features/auth/LoginPage.vue';
import { LOGGED_OUT, SESSION, type Session } from '@/features/auth/session';
import { HOME, safeRedirect } from '@/router';

/** A session that accepts any password: what is under test is where the login page goes next. */
function fakeSession(): Session {
  let viewer: Awaited<ReturnType<Session['ensure']>> = null;
  return {
    viewer: { value: null } as Session['viewer'],
    ensure: () => Promise.resolve(viewer),
    login() {
      viewer = { id: 'u1', email: 'admin@localhost', role: 'admin' };
      return Promise.resolve(null);
    },
    logout: () => Promise.resolve(),
    forget: () => {},
  };
}

/** Any page but the login page: not under test. */
const Elsewhere = defineComponent({ render: () => null });

async function logInFrom(url: string) {
  const session = fakeSession();
  // The app's routes but for the pages behind the login, which are not under test.
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', component: LoginPage },
      { path: '/:other(.*)*', component: Elsewhere },
    ],
  });
  await router.push(url);
  const wrapper = mount(LoginPage, { global: { plugins: [router], provide: { [SESSION as symbol]: session } } });
  await flushPromises();
  await wrapper.find('#login-email').setValue('admin@localhost');
  await wrapper.find('#login-password').setValue('a-password-long-enough');
  await wrapper.find('form').trigger('submit');
  await flushPromises();
  return router;
}

describe('returning after login', () => {
  afterEach(() => vi.restoreAllMocks());

  it('loads GraphiQL, the server’s own page, when it sent the browser to log in', async () => {
    const assign = vi.spyOn(window.location, 'assign').mockImplementation(() => {});
    await logInFrom('/login?redirect=%2Fgraphql%3Fquery%3D%257Bme%257D');
    expect(assign).toHaveBeenCalledWith('/graphql?query=%7Bme%7D');
  });

  it('never leaves the origin: absolute, protocol-relative and backslash addresses go home', async () => {
    const assign = vi.spyOn(window.location, 'assign').mockImplementation(() => {});
    for (const hostile of ['https://evil.example/graphql', '//evil.example/graphql', '/\\evil.example/graphql']) {
      expect(safeRedirect(hostile), hostile).toBe(HOME);
      const router = await logInFrom(`/login?redirect=${encodeURIComponent(hostile)}`);
      expect(router.currentRoute.value.path, hostile).toBe(HOME);
    }
    expect(assign).not.toHaveBeenCalled();
    expect(safeRedirect('/settings/general?x=1')).toBe('/settings/general?x=1');
  });
});

describe('the login page', () => {
  async function open(url: string) {
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [{ path: '/:any(.*)*', component: LoginPage }],
    });
    await router.push(url);
    const session = { ...fakeSession(), login: () => Promise.resolve('The email or password is not correct.') };
    const wrapper = mount(LoginPage, { global: { plugins: [router], provide: { [SESSION as symbol]: session } } });
    await flushPromises();
    return wrapper;
  }

  it('says the user logged out, and keeps its subtitle after a wrong password', async () => {
    const out = await open(`/login?${LOGGED_OUT}=1`);
    expect(out.find('[data-test="logged-out"]').text()).toBe('You have logged out.');
    expect((await open('/login')).find('[data-test="logged-out"]').exists()).toBe(false);

    const wrapper = await open('/login?redirect=%2Fsettings%2Faudit');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(wrapper.find('[role="alert"]').text()).toContain('not correct');
    expect(wrapper.text()).toContain('Log in to continue where you were.');
  });
});

describe('an expired session', () => {
  async function at(url: string, viewer: Session['viewer']['value']) {
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/login', component: LoginPage, meta: { public: true } },
        { path: '/:other(.*)*', component: Elsewhere },
      ],
    });
    await router.push(url);
    const forget = vi.fn();
    const session = { ...fakeSession(), viewer: { value: viewer } as Session['viewer'], forget };
    leaveOnExpiry(session, router);
    await flushPromises();
    return { route: router.currentRoute.value, forget };
  }

  it('goes to the login page, to come back where the user was', async () => {
    const { route, forget } = await at('/settings/audit', { id: 'u1', email: 'admin@localhost', role: 'admin' });
    expect(route.path).toBe('/login');
    expect(route.query.redirect).toBe('/settings/audit');
    expect(forget).toHaveBeenCalledOnce();
  });

  it('stays out of the way of a logout in flight, which navigates itself (CI saw its notice lost)', async () => {
    const { route, forget } = await at('/settings/audit', null);
    expect(route.fullPath).toBe('/settings/audit');
    expect(forget).not.toHaveBeenCalled();
  });
});
