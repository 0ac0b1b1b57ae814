import { flushPromises, mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import AuditPage from '@/features/audit/AuditPage.vue';
import { auditDetails } from '@/features/audit/audit-details';
import { TARGETS } from './fixtures';
import { fakeClient } from './support/fake-client';

const event = (overrides: Record<string, unknown>) => ({
  id: '1',
  at: '2025-11-20T10:00:00.000Z',
  action: 'backup.create',
  outcome: 'succeeded',
  actor: 'admin@localhost',
  address: '::ffff:127.0.0.1',
  subjectId: null,
  details: '{}',
  ...overrides,
});

describe('Audit log', () => {
  it('shows cancelled jobs as cancelled and details as labelled words, job.cancel naming its job', async () => {
    const fake = fakeClient({
      AuditEvents: () => ({
        data: {
          auditEvents: [
            event({
              id: '2',
              action: 'job.cancel',
              details: JSON.stringify({ jobId: 'j7', kind: 'restore', backupId: null, state: 'running' }),
            }),
            event({
              id: '1',
              outcome: 'cancelled',
              details: JSON.stringify({ jobId: 'j7', state: 'cancelled', errorCode: 'job/cancelled' }),
            }),
          ],
        },
      }),
    });
    const wrapper = mount(AuditPage, { global: fake.global });
    await flushPromises();
    const rows = wrapper.findAll('tbody tr');
    expect(rows[0]!.find('[data-test="audit-details"]').text()).toMatch(/Job\s*j7\s*Kind\s*restore/);
    expect(rows[1]!.find('[data-test="audit-outcome"]').text()).toBe('Cancelled');
    expect(rows[1]!.find('[data-test="audit-details"]').text()).not.toContain('{');
  });

  it('searches by action prefix and actor, within an inclusive date range', async () => {
    const fake = fakeClient({ AuditEvents: () => ({ data: { auditEvents: [] } }) });
    const wrapper = mount(AuditPage, { global: fake.global });
    await flushPromises();
    await wrapper.find('[data-test="audit-action"]').setValue('restore');
    await wrapper.find('[data-test="audit-actor"]').setValue('ops');
    await wrapper.find('[data-test="audit-from"]').setValue('2025-11-20');
    await wrapper.find('[data-test="audit-to"]').setValue('2025-11-20');
    await flushPromises();
    expect(fake.client.executeQuery.mock.calls.at(-1)![0].variables).toEqual({
      limit: 50,
      offset: 0,
      actionPrefix: 'restore',
      actorContains: 'ops',
      since: new Date(2025, 10, 20).toISOString(),
      before: new Date(2025, 10, 21).toISOString(),
      targetId: null,
    });
    expect(wrapper.text()).toContain('No events match these filters.');
  });

  it("filters by target and names each event's target", async () => {
    const fake = fakeClient({
      Targets: () => ({ data: { targets: TARGETS } }),
      AuditEvents: (variables) => ({
        data: {
          auditEvents: variables['targetId'] ? [event({ target: { name: 'shop' } })] : [event({ target: null })],
        },
      }),
    });
    const wrapper = mount(AuditPage, { global: fake.global });
    await flushPromises();
    expect(wrapper.find('tbody tr').text()).toContain('—');
    await wrapper.find('[data-test="target-filter"]').setValue('t2');
    await flushPromises();
    expect(fake.client.executeQuery.mock.calls.at(-1)![0].variables).toMatchObject({ targetId: 't2', offset: 0 });
    expect(wrapper.find('tbody tr').text()).toContain('shop');
  });

  it('words the details: error codes, switched-on options, nested values', () => {
    expect(
      auditDetails(
        JSON.stringify({
          errorCode: 'restore/failed',
          options: { noOwner: true, safetySnapshot: true, noPrivileges: false },
          terminatedSessions: [],
          sizeBytes: 10,
        }),
      ),
    ).toEqual([
      { label: 'Error', value: expect.stringContaining('rolled back') },
      { label: 'Options', value: 'noOwner, safetySnapshot' },
      { label: 'Sessions terminated', value: 'none' },
      { label: 'Size bytes', value: '10' },
    ]);
    expect(auditDetails('not json')).toEqual([{ label: 'Details', value: 'not json' }]);
  });
});
