import { flushPromises, mount } from '@vue/test-utils';
import { describe, expect, it, vi } from 'vitest';
import BackupsPage from '@/features/backups/BackupsPage.vue';
import { NETWORK_MESSAGE } from '@/errors/messages';
import { type FakeAnswer, fakeClient, networkError } from './support/fake-client';
import { testRouter } from './support/router';
import { TARGETS, backupRow, serverInfo } from './fixtures';

function mountPage(backups: (variables: Record<string, unknown>) => FakeAnswer) {
  const fake = fakeClient({
    ServerInfo: () => ({ data: { serverInfo } }),
    Jobs: () => ({ data: { jobs: [] } }),
    Targets: () => ({ data: { targets: TARGETS } }),
    Backups: backups,
  });
  return { fake, wrapper: mount(BackupsPage, { global: { ...fake.global, plugins: [testRouter()] } }) };
}

const page =
  (items: ReturnType<typeof backupRow>[], total = items.length) =>
  () => ({
    data: { backups: { total, items } },
  });

describe('Backups page', () => {
  it('shows the backups in the order the server gives them (newest first)', async () => {
    const { wrapper } = mountPage(
      page([
        backupRow({ id: 'b2', fileName: 'newer.dump', verifyStatus: 'ok', verifiedAt: '2025-11-21T08:00:00.000Z' }),
        backupRow({ id: 'b1', fileName: 'older.sql.gz', format: 'plain-gzip', origin: 'upload', description: '' }),
      ]),
    );
    await flushPromises();
    const rows = wrapper.findAll('tbody tr');
    expect(rows).toHaveLength(2);
    expect(rows[0]!.text()).toContain('newer.dump');
    expect(rows[0]!.text()).toContain('150 MiB');
    expect(rows[0]!.find('[data-test="checksum"]').text()).toBe('✓ Verified');
    expect(rows[0]!.text()).toContain('before release');
    expect(rows[0]!.find('[data-test="backup-details-link"]').attributes('href')).toBe('/settings/backups/b2');
    expect(rows[1]!.text()).toContain('older.sql.gz');
    expect(rows[1]!.find('[data-test="backup-details-link"]').attributes('title')).toContain('SQL (gzip)');
    expect(rows[1]!.text()).toContain('Upload');
    // Its SHA-256 was computed while it was written: recorded, not "not verified".
    expect(rows[1]!.find('[data-test="checksum"]').text()).toBe('Checksum recorded');
    // The page names the database once: the host without the "/database" suffix.
    expect(wrapper.text()).toContain('Database workload_tracker on localhost:54329 ·');
    // Delete is a button of its own kind, not a red link.
    expect(rows[0]!.findAll('button').at(-1)!.classes()).toContain('danger-outline');
    // Every cell names its column, for the stacked layout at phone width.
    expect(rows[0]!.find('td').attributes('data-label')).toBe('Date');
  });

  it('counts the copies of backups whose target has several destinations', async () => {
    const { wrapper } = mountPage(
      page([backupRow({ id: 'b2', copiesComplete: 2, copiesTotal: 3 }), backupRow({ id: 'b1' })]),
    );
    await flushPromises();
    const rows = wrapper.findAll('tbody tr');
    expect(rows[0]!.find('[data-test="backup-copies-count"]').text()).toBe('2 of 3 copies');
    // One destination: nothing to count.
    expect(rows[1]!.find('[data-test="backup-copies-count"]').exists()).toBe(false);
  });

  it('says so when there are no backups', async () => {
    const { wrapper } = mountPage(page([]));
    await flushPromises();
    expect(wrapper.find('[data-test="backups-empty"]').text()).toContain('No backups yet');
  });

  it('shows a loading state, then an error in human words', async () => {
    const loading = mountPage(() => 'pending');
    await flushPromises();
    expect(loading.wrapper.find('[data-test="backups-loading"]').exists()).toBe(true);

    const failing = mountPage(() => ({ error: networkError() }));
    await flushPromises();
    const error = failing.wrapper.find('[data-test="backups-error"]');
    expect(error.text()).toContain(NETWORK_MESSAGE);
    expect(error.text()).not.toContain('Failed to fetch');
    expect(error.find('button').text()).toBe('Try again');
  });

  it('filters by text (after a pause in typing), origin and an inclusive date range', async () => {
    vi.useFakeTimers();
    try {
      const { wrapper, fake } = mountPage(page([backupRow()]));
      await flushPromises();
      const last = () =>
        fake.client.executeQuery.mock.calls.filter(([r]) => 'offset' in (r.variables as object)).at(-1)![0].variables;
      await wrapper.find('[data-test="backup-search"]').setValue('nightly');
      expect(last()).toMatchObject({ search: null });
      vi.advanceTimersByTime(300);
      await flushPromises();
      expect(last()).toMatchObject({ search: 'nightly', origin: null, createdAfter: null, createdBefore: null });
      await wrapper.find('[data-test="backup-origin"]').setValue('upload');
      await wrapper.find('[data-test="backup-from"]').setValue('2025-11-20');
      await wrapper.find('[data-test="backup-to"]').setValue('2025-11-21');
      await flushPromises();
      expect(last()).toMatchObject({
        search: 'nightly',
        origin: 'upload',
        createdAfter: new Date(2025, 10, 20).toISOString(),
        createdBefore: new Date(2025, 10, 22).toISOString(),
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it("asks for one target's backups and names each backup's target", async () => {
    const { wrapper, fake } = mountPage((variables) =>
      page([
        backupRow(variables['targetId'] === 't2' ? { target: { ...backupRow().target!, id: 't2', name: 'shop' } } : {}),
      ])(),
    );
    await flushPromises();
    const last = () =>
      fake.client.executeQuery.mock.calls.filter(([r]) => 'offset' in (r.variables as object)).at(-1)![0].variables;
    expect(last()).toMatchObject({ targetId: null });
    expect(wrapper.find('[data-test="backup-target-name"]').text()).toBe('workload');
    await wrapper.find('[data-test="target-filter"]').setValue('t2');
    await flushPromises();
    expect(last()).toMatchObject({ targetId: 't2', offset: 0 });
    expect(wrapper.find('[data-test="backup-target-name"]').text()).toBe('shop');
  });

  it('says when no backup matches the filters', async () => {
    const { wrapper } = mountPage(page([]));
    await flushPromises();
    await wrapper.find('[data-test="backup-origin"]').setValue('upload');
    await flushPromises();
    expect(wrapper.find('[data-test="backups-none-match"]').exists()).toBe(true);
    expect(wrapper.find('[data-test="backups-empty"]').exists()).toBe(false);
  });

  it('pages through the backups', async () => {
    const { wrapper, fake } = mountPage(page([backupRow()], 45));
    await flushPromises();
    expect(wrapper.text()).toContain('1–1 of 45');
    const next = wrapper.findAll('.pager button').find((button) => button.text() === 'Next')!;
    await next.trigger('click');
    await flushPromises();
    const offsets = fake.client.executeQuery.mock.calls
      .filter(([request]) => 'offset' in (request.variables as object))
      .map(([request]) => (request.variables as { offset: number }).offset);
    expect(offsets).toContain(20);
  });
});
