import { flushPromises, mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import DashboardPage from '@/features/dashboard/DashboardPage.vue';
import RetentionPage from '@/features/retention/RetentionPage.vue';
import TargetsPage from '@/features/targets/TargetsPage.vue';
import { fakeClient } from './support/fake-client';
import { TARGETS } from './fixtures';
import { testRouter } from './support/router';

const envTarget = {
  targetId: 't0',
  name: 'default',
  kind: 'database',
  enabled: true,
  managedBy: 'env',
  lastSuccessAt: null,
  lastSuccessSizeBytes: null,
  nextRunAt: null,
  schedulePaused: false,
  failures: { count: 0, lastAt: null, lastCode: null },
  pruningPaused: false,
  failedRunsInARow: 0,
  failedRunsGuard: 3,
  sizeTrend: [],
};

async function mountDashboard(entries: unknown[]) {
  const fake = fakeClient({ Dashboard: () => ({ data: { dashboard: entries } }) });
  const router = testRouter();
  await router.push('/settings/dashboard');
  const wrapper = mount(DashboardPage, { global: { ...fake.global, plugins: [router] } });
  await flushPromises();
  return wrapper;
}

describe('Dashboard', () => {
  it('tells a newcomer to add a target', async () => {
    const wrapper = await mountDashboard([envTarget]);
    const start = wrapper.find('[data-test="dashboard-start"]');
    expect(start.text()).toContain('add a target');
    expect(start.find('a').attributes('href')).toBe('/settings/targets');
    expect(wrapper.find('[data-test="last-success"]').text()).toBe('never');
  });

  it('shows the last success, next run, failures, the paused pruning and the size trend', async () => {
    const wrapper = await mountDashboard([
      envTarget,
      {
        ...envTarget,
        targetId: 't1',
        name: 'shop',
        managedBy: null,
        lastSuccessAt: '2026-01-01T03:00:00.000Z',
        lastSuccessSizeBytes: 2048,
        nextRunAt: '2026-01-02T03:00:00.000Z',
        failures: { count: 3, lastAt: '2026-01-01T06:00:00.000Z', lastCode: 'pg/connection-failed' },
        pruningPaused: true,
        failedRunsInARow: 3,
        sizeTrend: [1024, 2048],
      },
    ]);
    expect(wrapper.find('[data-test="dashboard-start"]').exists()).toBe(false);
    const card = wrapper.find('[data-test="dashboard-shop"]');
    expect(card.find('[data-test="last-success"]').text()).toContain('2 KiB');
    expect(card.find('[data-test="next-run"] time').attributes('datetime')).toBe('2026-01-02T03:00:00.000Z');
    expect(card.find('[data-test="failures"]').text()).toContain('3 since the last success');
    expect(card.find('[data-test="failures"]').text()).toContain('The server cannot connect to the database.');
    expect(card.find('[data-test="pruning-paused"]').text()).toContain('the last 3 scheduled runs failed');
    const trend = card.find('[data-test="size-trend"]');
    expect(trend.attributes('aria-label')).toBe('Over the last 2 backups the size grew from 1 KiB to 2 KiB');
    expect(trend.find('polyline').attributes('points')).toBeTruthy();
  });
});

describe('Retention', () => {
  it('saves only a previewed policy, and sends exactly the form', async () => {
    const sent: unknown[] = [];
    const previews: unknown[] = [];
    const fake = fakeClient({
      Targets: () => ({
        data: {
          targets: [
            {
              id: 't1',
              name: 'shop',
              kind: 'database',
              parentId: null,
              url: 'postgres://b@db/shop',
              hasPassword: true,
              enabled: true,
              managedBy: null,
              excludeDatabases: [],
              keepGlobals: false,
              globalsWithPasswords: false,
              lastTest: null,
            },
          ],
        },
      }),
      RetentionPolicy: () => ({ data: { retentionPolicy: null } }),
      PreviewRetention: (variables) => {
        previews.push(variables);
        return {
          data: {
            previewRetention: {
              __typename: 'QueryPreviewRetentionSuccess',
              data: {
                hasPolicy: true,
                timeZone: 'UTC',
                freedBytes: 10,
                guard: { blocked: false, failedRuns: 0, threshold: 3 },
                decisions: [
                  {
                    backupId: 'b2',
                    action: 'keep',
                    reasons: ['last'],
                    rule: null,
                    backup: {
                      id: 'b2',
                      fileName: 'new.dump',
                      createdAt: '2026-01-02T00:00:00Z',
                      sizeBytes: 10,
                      origin: 'scheduled',
                    },
                  },
                  {
                    backupId: 'b1',
                    action: 'delete',
                    reasons: [],
                    rule: 'keep-last 1',
                    backup: {
                      id: 'b1',
                      fileName: 'old.dump',
                      createdAt: '2026-01-01T00:00:00Z',
                      sizeBytes: 10,
                      origin: 'scheduled',
                    },
                  },
                ],
              },
            },
          },
        };
      },
      SetRetentionPolicy: (variables) => {
        sent.push(variables);
        return { data: { setRetentionPolicy: { __typename: 'MutationSetRetentionPolicySuccess', data: {} } } };
      },
    });
    const router = testRouter();
    await router.push('/settings/retention?target=shop');
    const wrapper = mount(RetentionPage, { global: { ...fake.global, plugins: [router] }, attachTo: document.body });
    await flushPromises();

    const keepLast = wrapper.findAll('input').find((input) => input.element.id.endsWith('-keepLast'))!;
    await keepLast.setValue('1');
    const save = wrapper.findAll('button').find((button) => button.text() === 'Save policy')!;
    expect(save.attributes('disabled')).toBeDefined();

    await wrapper.find('[data-test="preview-policy"]').trigger('click');
    await flushPromises();
    expect(previews).toEqual([
      { target: 'shop', policy: expect.objectContaining({ keepLast: 1, failedRunsGuard: 3 }) },
    ]);
    expect(wrapper.find('[data-test="preview-summary"]').text()).toMatch(/1\s*of 2 backups would be deleted/);
    expect(wrapper.text()).toContain('keep-last 1');
    expect(save.attributes('disabled')).toBeUndefined();

    // A change after the preview needs a new one.
    await keepLast.setValue('2');
    expect(save.attributes('disabled')).toBeDefined();
    await keepLast.setValue('1');
    await wrapper.find('[data-test="policy-form"]').trigger('submit');
    await flushPromises();
    expect(sent).toEqual([{ target: 'shop', policy: expect.objectContaining({ keepLast: 1, keepDaily: null }) }]);
    expect(wrapper.find('[data-test="policy-notice"]').text()).toContain('Policy of shop saved');
    wrapper.unmount();
  });

  it('says there are no targets yet, with a link to add one, and shows no form', async () => {
    const fake = fakeClient({ Targets: () => ({ data: { targets: [] } }) });
    const router = testRouter();
    await router.push('/settings/retention');
    const wrapper = mount(RetentionPage, { global: { ...fake.global, plugins: [router] } });
    await flushPromises();
    expect(wrapper.text()).toContain('No targets yet. Add a target first.');
    expect(wrapper.find('a[href="/settings/targets"]').exists()).toBe(true);
    expect(wrapper.find('[data-test="target-select"]').exists()).toBe(false);
    expect(wrapper.find('[data-test="policy-form"]').exists()).toBe(false);
  });

  it('works on the target picked, kept in the address', async () => {
    const fake = fakeClient({
      Targets: () => ({ data: { targets: TARGETS } }),
      RetentionPolicy: () => ({ data: { retentionPolicy: null } }),
    });
    const router = testRouter();
    await router.push('/settings/retention');
    const wrapper = mount(RetentionPage, { global: { ...fake.global, plugins: [router] } });
    await flushPromises();
    expect(wrapper.text()).toContain('workload has no policy');
    await wrapper.find('[data-test="target-select"]').setValue('shop');
    await flushPromises();
    expect(router.currentRoute.value.query['target']).toBe('shop');
    expect(wrapper.text()).toContain('shop has no policy');
  });
});

describe('Targets', () => {
  const server = {
    id: 't2',
    name: 'fleet',
    kind: 'server',
    parentId: null,
    url: 'postgres://b@db/postgres',
    hasPassword: true,
    enabled: true,
    managedBy: null,
    excludeDatabases: ['scratch'],
    keepGlobals: true,
    globalsWithPasswords: false,
    lastTest: null,
  };

  async function mountTargets(sent: { op: string; variables: unknown }[]) {
    const record = (op: string) => (variables: Record<string, unknown>) => {
      sent.push({ op, variables });
      return { data: { [op]: { __typename: `Mutation${op[0]!.toUpperCase()}${op.slice(1)}Success`, data: server } } };
    };
    const fake = fakeClient({
      Targets: () => ({ data: { targets: [server] } }),
      AddTarget: record('addTarget'),
      UpdateTarget: record('updateTarget'),
    });
    const wrapper = mount(TargetsPage, { global: { ...fake.global, plugins: [testRouter()] } });
    await flushPromises();
    return wrapper;
  }

  it('adds a whole server with the databases to leave out and its roles kept', async () => {
    const sent: { op: string; variables: unknown }[] = [];
    const wrapper = await mountTargets(sent);
    const form = wrapper.find('[data-test="add-target"]');
    await form.find('input[type="text"]').setValue('fleet');
    await form.find('input[placeholder^="postgres://"]').setValue('postgres://b@db/postgres');
    await form.find('select').setValue('server');
    await form.find('input[placeholder^="e.g. scratch"]').setValue('scratch, reporting');
    await form.find('[data-test="keep-globals"]').setValue(true);
    await form.find('[data-test="globals-passwords"]').setValue(true);
    await form.trigger('submit');
    await flushPromises();
    expect(sent).toEqual([
      {
        op: 'addTarget',
        variables: {
          input: {
            name: 'fleet',
            url: 'postgres://b@db/postgres',
            kind: 'server',
            keepGlobals: true,
            globalsWithPasswords: true,
            excludeDatabases: ['scratch', 'reporting'],
          },
        },
      },
    ]);
  });

  it('edits what a run keeps, starting from the stored choices', async () => {
    const sent: { op: string; variables: unknown }[] = [];
    const wrapper = await mountTargets(sent);
    const edit = wrapper.findAll('button').find((button) => button.text().startsWith('Edit'))!;
    await edit.trigger('click');
    const form = wrapper.find('[data-test="edit-target"]');
    const exclude = form.find<HTMLInputElement>('input[placeholder^="e.g. scratch"]');
    expect(exclude.element.value).toBe('scratch');
    expect(form.find<HTMLInputElement>('[data-test="keep-globals"]').element.checked).toBe(true);
    await exclude.setValue('');
    await form.find('[data-test="keep-globals"]').setValue(false);
    await form.trigger('submit');
    await flushPromises();
    expect(sent).toEqual([
      {
        op: 'updateTarget',
        variables: {
          id: 't2',
          input: {
            url: 'postgres://b@db/postgres',
            keepGlobals: false,
            globalsWithPasswords: false,
            excludeDatabases: [],
          },
        },
      },
    ]);
  });
});
