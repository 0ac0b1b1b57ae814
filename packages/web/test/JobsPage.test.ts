import { flushPromises, mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import JobsPage from '@/features/jobs/JobsPage.vue';
import { formatCompactDateTime, formatDateTime } from '@/format/format';
import { fakeClient } from './support/fake-client';
import { testRouter } from './support/router';
import { TARGETS, job } from './fixtures';

describe('Jobs history', () => {
  it('lists finished jobs with their outcome, duration and who ran them', async () => {
    const fake = fakeClient({
      Jobs: () => ({
        data: {
          jobs: [
            job({
              id: 'j2',
              kind: 'restore',
              state: 'failed',
              errorCode: 'restore/failed',
              errorMessage: 'psql failed',
              finishedAt: '2025-11-20T10:02:06.000Z',
              requestedBy: 'ops@example.com',
            }),
            job({ id: 'j1', state: 'cancelled', finishedAt: '2025-11-20T10:00:31.000Z', backupId: 'b1' }),
          ],
        },
      }),
    });
    const wrapper = mount(JobsPage, { global: { ...fake.global, plugins: [testRouter()] } });
    await flushPromises();
    const rows = wrapper.findAll('tbody tr');
    expect(rows).toHaveLength(2);
    expect(rows[0]!.find('[data-test="history-state"]').text()).toBe('Failed');
    expect(rows[0]!.find('[data-test="history-reason"]').text()).toContain('rolled back');
    expect(rows[0]!.text()).toContain('2 min 05 s');
    expect(rows[0]!.text()).toContain('ops@example.com');
    expect(rows[1]!.find('[data-test="history-state"]').text()).toBe('Cancelled');
    expect(rows[1]!.text()).toContain('30 s');
    expect(rows[1]!.find('a').attributes('href')).toBe('/settings/backups/b1');
    expect(rows[0]!.text()).toContain('workload');
    // When, short in the cell, in full in its title.
    const when = rows[0]!.find('time');
    expect(when.attributes('datetime')).toBe('2025-11-20T10:00:00.000Z');
    expect(when.attributes('title')).toBe(formatDateTime('2025-11-20T10:00:00.000Z'));
    expect(when.text()).toBe(formatCompactDateTime('2025-11-20T10:00:00.000Z'));
  });

  it("shows one target's jobs when one is picked", async () => {
    const fake = fakeClient({
      Targets: () => ({ data: { targets: TARGETS } }),
      Jobs: (variables) => ({
        data: { jobs: variables['targetId'] === 't2' ? [job({ id: 'j3', target: { id: 't2', name: 'shop' } })] : [] },
      }),
    });
    const wrapper = mount(JobsPage, { global: { ...fake.global, plugins: [testRouter()] } });
    await flushPromises();
    expect(wrapper.findAll('tbody tr [data-test="history-state"]')).toHaveLength(0);
    await wrapper.find('[data-test="target-filter"]').setValue('t2');
    await flushPromises();
    expect(fake.client.executeQuery.mock.calls.at(-1)![0].variables).toMatchObject({ targetId: 't2', offset: 0 });
    expect(wrapper.find('tbody tr').text()).toContain('shop');
  });

  it('shows the attempt of a scheduled backup and when its next try is due', async () => {
    const fake = fakeClient({
      Jobs: () => ({
        data: {
          jobs: [
            job({
              id: 'j5',
              state: 'failed',
              errorCode: 'pg/connection-failed',
              finishedAt: '2025-11-20T10:00:31.000Z',
              attempts: { attempt: 2, maxAttempts: 3, nextRetryAt: '2025-11-20T10:05:31.000Z' },
            }),
            job({ id: 'j4', state: 'succeeded', attempts: { attempt: 1, maxAttempts: 1, nextRetryAt: null } }),
          ],
        },
      }),
    });
    const wrapper = mount(JobsPage, { global: { ...fake.global, plugins: [testRouter()] } });
    await flushPromises();
    const rows = wrapper.findAll('tbody tr');
    expect(rows[0]!.find('[data-test="history-attempt"]').text()).toMatch(/^\(attempt 2 of 3, next try .+\)$/);
    // A schedule without retries: no attempt to speak of.
    expect(rows[1]!.find('[data-test="history-attempt"]').exists()).toBe(false);
  });

  it('pages back through older jobs 50 at a time, and forward again', async () => {
    const fake = fakeClient({
      Jobs: (variables) => ({
        data: {
          jobs: Array.from({ length: variables['offset'] === 0 ? 50 : 3 }, (_, i) =>
            job({ id: `j${Number(variables['offset']) + i}` }),
          ),
        },
      }),
    });
    const wrapper = mount(JobsPage, { global: { ...fake.global, plugins: [testRouter()] } });
    await flushPromises();
    const button = (label: string) => wrapper.findAll('nav button').find((b) => b.text() === label)!;
    expect(wrapper.find('nav[aria-label="Job pages"]').text()).toContain('Page 1');
    expect(button('Newer').attributes('disabled')).toBeDefined();
    await button('Older').trigger('click');
    await flushPromises();
    expect(fake.client.executeQuery.mock.calls.at(-1)![0].variables).toMatchObject({ limit: 50, offset: 50 });
    expect(wrapper.findAll('tbody tr')).toHaveLength(3);
    expect(wrapper.find('nav[aria-label="Job pages"]').text()).toContain('Page 2');
    expect(button('Older').attributes('disabled')).toBeDefined();
    await button('Newer').trigger('click');
    await flushPromises();
    expect(fake.client.executeQuery.mock.calls.at(-1)![0].variables).toMatchObject({ offset: 0 });
  });
});
