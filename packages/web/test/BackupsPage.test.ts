import { flushPromises, mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import BackupsPage from '@/features/backups/BackupsPage.vue';
import { NETWORK_MESSAGE } from '@/errors/messages';
import { type FakeAnswer, fakeClient, networkError } from './support/fake-client';
import { backupRow, serverInfo } from './fixtures';

function mountPage(backups: (variables: Record<string, unknown>) => FakeAnswer) {
  const fake = fakeClient({
    ServerInfo: () => ({ data: { serverInfo } }),
    Jobs: () => ({ data: { jobs: [] } }),
    Backups: backups,
  });
  return { fake, wrapper: mount(BackupsPage, { global: fake.global }) };
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
    expect(rows[0]!.text()).toContain('Custom');
    expect(rows[0]!.text()).toContain('Verified');
    expect(rows[0]!.text()).toContain('before release');
    expect(rows[0]!.text()).toContain('admin@localhost');
    expect(rows[1]!.text()).toContain('older.sql.gz');
    expect(rows[1]!.text()).toContain('SQL (gzip)');
    expect(rows[1]!.text()).toContain('Upload');
    expect(rows[1]!.text()).toContain('Not verified');
    // Every cell names its column, for the stacked layout at phone width.
    expect(rows[0]!.find('td').attributes('data-label')).toBe('Date');
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
