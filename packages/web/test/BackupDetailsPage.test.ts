import { flushPromises, mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import { describeRequestError, messageFor } from '@/errors/messages';
import BackupDetailsPage from '@/features/backups/BackupDetailsPage.vue';
import { fakeClient, networkError } from './support/fake-client';
import { testRouter } from './support/router';
import { backupRow, job } from './fixtures';

const details = {
  ...backupRow(),
  databaseName: 'workload_tracker',
  serverVersion: '15.18',
  clientVersion: '17.6',
  durationMs: 4200,
  tableCount: 2,
  tables: [
    { schema: 'public', name: 'people', bytes: 16_384, rows: 1200 },
    { schema: 'app', name: 'time_entries', bytes: 5_242_880, rows: null },
  ],
  contents: { schemas: ['app', 'public'], tables: [], pgDumpVersion: '17.6', sourceServerVersion: '15.18' },
  job: job({ state: 'succeeded', finishedAt: '2025-11-20T10:00:05.000Z' }),
  copies: [],
  recipientFingerprints: [],
};

function mountPage(backup: unknown, handlers: Parameters<typeof fakeClient>[0] = {}) {
  const fake = fakeClient({
    Backup: (variables) => ({ data: { backup: { ...(backup as object), id: variables['id'] } } }),
    ...handlers,
  });
  const wrapper = mount(BackupDetailsPage, {
    props: { id: 'b1' },
    global: { ...fake.global, plugins: [testRouter()] },
  });
  return { fake, wrapper };
}

describe('Backup details', () => {
  it('shows the versions, source database, checksum, origin, the job that made it, and every table', async () => {
    const { wrapper, fake } = mountPage(details);
    await flushPromises();
    expect(fake.client.executeQuery.mock.calls[0]![0].variables).toEqual({ id: 'b1' });
    expect(wrapper.find('[data-test="source-database"]').text()).toBe('workload_tracker');
    expect(wrapper.find('[data-test="server-version"]').text()).toBe('15.18');
    expect(wrapper.find('[data-test="client-version"]').text()).toBe('17.6');
    expect(wrapper.find('[data-test="sha256"]').text()).toContain(details.sha256);
    expect(wrapper.text()).toContain('Checksum recorded');
    expect(wrapper.text()).toContain('Manual by admin@localhost');
    const madeBy = wrapper.find('[data-test="made-by-job"]').text();
    expect(madeBy).toContain('Backup job j1');
    expect(madeBy).toContain('Succeeded after 4 s, run by admin@localhost');
    expect(wrapper.find('[data-test="schemas"]').text()).toContain('app, public');
    const rows = wrapper.findAll('tbody tr');
    expect(rows.map((row) => row.text())).toEqual([
      expect.stringMatching(/public\.people\s*16 KiB\s*1,?200/),
      expect.stringMatching(/app\.time_entries\s*5 MiB\s*—/),
    ]);
  });

  it('says whether it is encrypted, and to which recipients', async () => {
    const clear = mountPage(details);
    await flushPromises();
    expect(clear.wrapper.find('[data-test="backup-encryption"]').text()).toBe('None (stored in clear)');
    const sealed = mountPage({
      ...details,
      recipientFingerprints: ['0123456789abcdef', 'fedcba9876543210'],
      recipients: [{ name: 'offline', fingerprint: '0123456789abcdef' }],
    });
    await flushPromises();
    expect(sealed.wrapper.find('[data-test="backup-encryption"]').text()).toBe(
      'age, to offline, an unknown key (fingerprint fedcba9876543210)',
    );
  });

  it('lists its copies with their states, and why a failed one failed', async () => {
    const copy = { sizeBytes: 157_286_400, errorCode: null, errorMessage: null, completedAt: null, attempts: 1 };
    const { wrapper } = mountPage({
      ...details,
      copies: [
        {
          ...copy,
          destination: { id: 'd1', name: 'local', kind: 'local' },
          state: 'complete',
          completedAt: '2025-11-20T10:00:05.000Z',
        },
        {
          ...copy,
          destination: { id: 'd2', name: 'offsite', kind: 's3' },
          state: 'failed',
          attempts: 2,
          errorCode: 'destination/unreachable',
          errorMessage: 'connect ECONNREFUSED',
        },
      ],
    });
    await flushPromises();
    const table = wrapper.find('[data-test="backup-copies"]');
    expect(wrapper.text()).toContain('Copies: 1 of 2');
    const rows = table.findAll('tbody tr').map((row) => row.text());
    expect(rows[0]).toMatch(/local \(local\)\s*Complete/);
    expect(rows[1]).toContain('offsite (s3)');
    expect(rows[1]).toContain('Failed');
    expect(rows[1]).toContain(messageFor('destination/unreachable'));
    expect(rows[1]).toContain('attempt 2');
  });

  it('pins and unpins the backup, and says what that means for retention', async () => {
    const sent: unknown[] = [];
    const { wrapper } = mountPage(details, {
      PinBackup: (variables) => {
        sent.push(variables);
        return {
          data: {
            pinBackup: { __typename: 'MutationPinBackupSuccess', data: { id: 'b1', pinned: variables['pinned'] } },
          },
        };
      },
    });
    await flushPromises();
    expect(wrapper.find('[data-test="backup-pinned"]').text()).toContain('by the target’s policy');
    await wrapper.find('[data-test="toggle-pin"]').trigger('click');
    await flushPromises();
    expect(sent).toEqual([{ id: 'b1', pinned: true }]);
  });

  it('shows a refused pin as its coded message', async () => {
    const { wrapper } = mountPage(
      { ...details, pinned: true },
      {
        PinBackup: () => ({
          data: { pinBackup: { __typename: 'CodedError', code: 'backup/not-found', message: 'gone' } },
        }),
      },
    );
    await flushPromises();
    expect(wrapper.find('[data-test="backup-pinned"]').text()).toContain('Pinned');
    expect(wrapper.find('[data-test="toggle-pin"]').text()).toBe('Unpin');
    await wrapper.find('[data-test="toggle-pin"]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-test="backup-pinned"]').text()).toContain(messageFor('backup/not-found'));
  });

  it('says an upload has no job and no recorded table sizes', async () => {
    const { wrapper } = mountPage({ ...details, origin: 'upload', tables: [], contents: null, job: null });
    await flushPromises();
    expect(wrapper.find('[data-test="made-by-job"]').text()).toContain('uploaded');
    expect(wrapper.text()).toContain('No table sizes were recorded');
  });

  it('re-encrypts an encrypted backup with the identity typed, sent once and then cleared; a refusal shows its message', async () => {
    const sent: Record<string, unknown>[] = [];
    const { wrapper } = mountPage(
      { ...details, recipientFingerprints: ['0123456789abcdef'] },
      {
        ReencryptBackup: (variables) => {
          sent.push(variables);
          return sent.length === 1
            ? {
                data: {
                  reencryptBackup: {
                    __typename: 'MutationReencryptBackupSuccess',
                    data: job({ id: 'j9', kind: 'reencrypt' }),
                  },
                },
              }
            : {
                data: {
                  reencryptBackup: {
                    __typename: 'CodedError',
                    code: 'backup/already-encrypted-to-current',
                    message: 'already',
                  },
                },
              };
        },
      },
    );
    await flushPromises();
    expect(wrapper.find('[data-test="backup-recipients"]').text()).toContain('0123456789abcdef');
    const identity = wrapper.find('[data-test="reencrypt-identity"]');
    await identity.setValue('AGE-SECRET-KEY-1TEST');
    await wrapper.find('[data-test="reencrypt"]').trigger('submit');
    await flushPromises();
    expect(sent[0]).toEqual({ id: 'b1', identity: 'AGE-SECRET-KEY-1TEST' });
    expect((identity.element as HTMLInputElement).value).toBe('');
    expect(wrapper.text()).toContain('Re-encryption started (job j9)');
    await wrapper.find('[data-test="reencrypt"]').trigger('submit');
    await flushPromises();
    expect(sent[1]).toEqual({ id: 'b1', identity: null });
    expect(wrapper.text()).toContain(messageFor('backup/already-encrypted-to-current'));
  });

  it('says why a re-encryption request failed, and clears the identity all the same', async () => {
    const failure = networkError();
    const { wrapper } = mountPage(
      { ...details, recipientFingerprints: ['0123456789abcdef'] },
      { ReencryptBackup: () => ({ error: failure }) },
    );
    await flushPromises();
    const identity = wrapper.find('[data-test="reencrypt-identity"]');
    await identity.setValue('AGE-SECRET-KEY-1TEST');
    await wrapper.find('[data-test="reencrypt"]').trigger('submit');
    await flushPromises();
    expect((identity.element as HTMLInputElement).value).toBe('');
    expect(wrapper.find('[data-test="reencrypt"] + [role="alert"]').text()).toBe(describeRequestError(failure));
  });

  it('says a backup in clear is stored in clear, and asks no identity to encrypt it', async () => {
    const { wrapper } = mountPage(details);
    await flushPromises();
    expect(wrapper.find('[data-test="backup-recipients"]').text()).toBe('Stored in clear.');
    expect(wrapper.find('[data-test="reencrypt-identity"]').exists()).toBe(false);
  });
});
