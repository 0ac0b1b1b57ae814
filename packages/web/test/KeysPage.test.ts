import { type VueWrapper, flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { h } from 'vue';
import KeysPage from '@/features/keys/KeysPage.vue';
import ConfirmHost from '@/ui/ConfirmHost.vue';
import { fakeClient } from './support/fake-client';
import { testRouter } from './support/router';

const IDENTITY = 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ';
const RECIPIENT = 'age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';

const key = (overrides: Record<string, unknown> = {}) => ({
  id: 'k1',
  name: 'offline',
  recipient: RECIPIENT,
  fingerprint: '0123456789abcdef',
  identityKept: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  retiredAt: null,
  backupCount: 0,
  dependentBackupIds: [],
  ...overrides,
});
const refusal = (code: string) => ({ __typename: 'CodedError', code, message: `server words for ${code}` });

let wrapper: VueWrapper | null = null;
afterEach(() => {
  wrapper?.unmount();
  wrapper = null;
  vi.restoreAllMocks();
});

async function mountKeys(handlers: Parameters<typeof fakeClient>[0]) {
  const fake = fakeClient(handlers);
  wrapper = mount(
    { render: () => [h(KeysPage), h(ConfirmHost)] },
    { global: { ...fake.global, plugins: [testRouter()] }, attachTo: document.body },
  );
  await flushPromises();
  const field = (label: string) => {
    const id = wrapper!
      .findAll('label')
      .find((l) => l.text() === label)!
      .attributes('for');
    return wrapper!.find(`[id="${id}"]`);
  };
  const button = (text: string) => wrapper!.findAll('button').find((b) => b.text().startsWith(text))!;
  return { fake, wrapper, field, button, dialog: () => wrapper!.find('[role="dialog"]') };
}

describe('Keys', () => {
  it('lists keys with their fingerprint, whether the identity is kept, and the backups that depend on them', async () => {
    const { wrapper } = await mountKeys({
      Recipients: () => ({
        data: {
          recipients: [
            key({ backupCount: 5, dependentBackupIds: ['b1', 'b2'], identityKept: true }),
            key({ id: 'k0', name: 'old', retiredAt: '2026-02-01T00:00:00.000Z' }),
          ],
        },
      }),
    });
    const rows = wrapper.findAll('tbody tr');
    expect(rows[0]!.text()).toContain('0123456789abcdef');
    expect(rows[0]!.text()).toContain('Kept (sealed)');
    expect(rows[0]!.find('[data-test="key-backups"]').text()).toBe('5 (2 only with this key)');
    expect(rows[0]!.text()).toContain('Active');
    expect(rows[1]!.text()).toContain('Retired');
    expect(rows[1]!.text()).toContain('Not kept');
    // A retired key cannot be retired again.
    expect(rows[1]!.text()).not.toContain('Retire…');
  });

  it('shows a generated identity once, downloads it as a file made in the browser, and forgets it when dismissed', async () => {
    const sent: unknown[] = [];
    const { fake, wrapper, field, button } = await mountKeys({
      Recipients: () => ({ data: { recipients: [] } }),
      GenerateKey: (variables) => {
        sent.push(variables);
        return {
          data: {
            generateKey: {
              __typename: 'MutationGenerateKeySuccess',
              data: { identity: IDENTITY, recoveryKit: `kit with ${IDENTITY}`, recipient: key() },
            },
          },
        };
      },
    });
    await field('Name').setValue('offline');
    await wrapper.find('[data-test="keep-on-server"]').setValue(true);
    await wrapper.find('form[data-test="generate-key"]').trigger('submit');
    await flushPromises();
    expect(sent).toEqual([{ name: 'offline', keepOnServer: true }]);
    const shown = wrapper.find('[data-test="generated-identity"]');
    expect(shown.find('[data-test="identity"]').text()).toBe(IDENTITY);
    expect(shown.text()).toContain('shown only once');
    expect(shown.text()).toContain('lose it and you lose those backups');

    // The download: a Blob in this page, a link with the file name; no request goes anywhere.
    const blobs: Blob[] = [];
    const createObjectURL = vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => {
      blobs.push(blob as Blob);
      return 'blob:pgbs/identity';
    });
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {});
    const clicked: { href: string; download: string }[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ href: this.href, download: this.download });
    });
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const requests = fake.client.executeQuery.mock.calls.length + fake.client.executeMutation.mock.calls.length;
    await shown.find('[data-test="download-identity"]').trigger('click');
    expect(createObjectURL).toHaveBeenCalledTimes(1);
    expect(clicked).toEqual([{ href: 'blob:pgbs/identity', download: 'offline.age-key.txt' }]);
    expect(await blobs[0]!.text()).toBe(`# pgbs key offline\n# public key: ${RECIPIENT}\n${IDENTITY}\n`);
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(fake.client.executeQuery.mock.calls.length + fake.client.executeMutation.mock.calls.length).toBe(requests);

    await wrapper.find('[data-test="identity-done"]').trigger('click');
    expect(wrapper.find('[data-test="generated-identity"]').exists()).toBe(false);
    expect(wrapper.html()).not.toContain(IDENTITY);
    expect(window.location.href).not.toContain(IDENTITY);
    // The form is ready for the next one, without the opt-in.
    expect((field('Name').element as HTMLInputElement).value).toBe('');
    expect((wrapper.find('[data-test="keep-on-server"]').element as HTMLInputElement).checked).toBe(false);
    expect(button('Generate a key').exists()).toBe(true);
  });

  it('says a refused key in the panel’s words, and shows no identity', async () => {
    const { wrapper } = await mountKeys({
      Recipients: () => ({ data: { recipients: [key()] } }),
      GenerateKey: () => ({ data: { generateKey: refusal('key/name-taken') } }),
    });
    await wrapper.find('form[data-test="generate-key"]').trigger('submit');
    await flushPromises();
    expect(wrapper.find('[data-test="keys-notice"]').text()).toBe('A key with this name exists already.');
    expect(wrapper.find('[data-test="generated-identity"]').exists()).toBe(false);
  });

  it('adds a recipient exactly as typed (trimmed), and says why one is refused', async () => {
    const sent: unknown[] = [];
    const { wrapper, field } = await mountKeys({
      Recipients: () => ({ data: { recipients: [] } }),
      AddRecipient: (variables) => {
        sent.push(variables);
        return sent.length === 1
          ? { data: { addRecipient: { __typename: 'MutationAddRecipientSuccess', data: key({ name: 'laptop' }) } } }
          : { data: { addRecipient: refusal('key/invalid-recipient') } };
      },
    });
    await field('Recipient').setValue(`  ${RECIPIENT} `);
    await field('Name (optional)').setValue('laptop');
    await wrapper.find('form[data-test="add-recipient"]').trigger('submit');
    await flushPromises();
    expect(sent).toEqual([{ recipient: RECIPIENT, name: 'laptop' }]);
    expect(wrapper.find('[data-test="keys-notice"]').text()).toBe('Recipient “laptop” added.');

    await field('Recipient').setValue('age1short');
    await wrapper.find('form[data-test="add-recipient"]').trigger('submit');
    await flushPromises();
    expect(sent[1]).toEqual({ recipient: 'age1short', name: null });
    expect(wrapper.find('[data-test="keys-notice"]').text()).toContain('This is not an age recipient');
  });

  it('retires the last key of some backups only once they are named, and sends exactly those', async () => {
    const retired: unknown[] = [];
    // The refusal found a backup made since the list was loaded: the confirmation names the fresh list.
    let dependents = ['b1'];
    const { wrapper, button, dialog } = await mountKeys({
      Recipients: () => ({ data: { recipients: [key({ backupCount: 2, dependentBackupIds: dependents })] } }),
      BackupLabel: ({ id }) => ({
        data: { backup: { id, fileName: `${String(id)}.dump.zst.age`, createdAt: '2026-01-02T00:00:00.000Z' } },
      }),
      RetireRecipient: (variables) => {
        retired.push(variables);
        const confirmed = variables['confirmBackupIds'] as string[] | undefined;
        return confirmed?.join() === dependents.join()
          ? { data: { retireRecipient: { __typename: 'MutationRetireRecipientSuccess', data: key() } } }
          : { data: { retireRecipient: refusal('key/last-recipient') } };
      },
    });
    dependents = ['b1', 'b2'];
    await button('Retire…').trigger('click');
    await flushPromises();
    expect(dialog().text()).toContain('Retire the key offline?');
    await dialog().find('[data-test="confirm"]').trigger('click');
    await flushPromises();

    expect(retired).toEqual([{ id: 'k1' }]);
    const listed = dialog().findAll('[data-test="dependent-backup"]');
    expect(listed.map((link) => link.text())).toEqual([
      expect.stringContaining('b1.dump.zst.age'),
      expect.stringContaining('b2.dump.zst.age'),
    ]);
    expect(listed[0]!.attributes('href')).toBe('/settings/backups/b1');
    expect(dialog().text()).toContain('only the identity of offline opens these backups');
    const confirmButton = () => dialog().find<HTMLButtonElement>('[data-test="confirm"]');
    await dialog().find('[data-test="confirm-input"]').setValue('offline');
    expect(confirmButton().element.disabled).toBe(true);
    await dialog().find('[data-test="acknowledge"]').setValue(true);
    expect(confirmButton().element.disabled).toBe(false);
    await confirmButton().trigger('click');
    await flushPromises();

    expect(retired).toEqual([{ id: 'k1' }, { id: 'k1', confirmBackupIds: ['b1', 'b2'] }]);
    expect(wrapper.find('[data-test="keys-notice"]').text()).toBe('Key “offline” retired.');
  });

  it('says a key still in use cannot be retired, without asking to name backups', async () => {
    const { wrapper, button, dialog } = await mountKeys({
      Recipients: () => ({ data: { recipients: [key()] } }),
      RetireRecipient: () => ({ data: { retireRecipient: refusal('key/in-use') } }),
    });
    await button('Retire…').trigger('click');
    await flushPromises();
    await dialog().find('[data-test="confirm"]').trigger('click');
    await flushPromises();
    expect(dialog().exists()).toBe(false);
    expect(wrapper.find('[data-test="keys-notice"]').text()).toBe(
      'Targets still encrypt to this key. Give them other keys first.',
    );
  });

  it('shows a key’s recovery kit, and a refusal in the panel’s words', async () => {
    const { wrapper, button } = await mountKeys({
      Recipients: () => ({ data: { recipients: [key(), key({ id: 'k2', name: 'gone' })] } }),
      RecoveryKit: ({ id }) => ({
        data: {
          recoveryKit:
            id === 'k1'
              ? { __typename: 'QueryRecoveryKitSuccess', data: 'age -d -i key.txt x.dump.zst.age | zstd -d' }
              : refusal('key/not-found'),
        },
      }),
    });
    await button('Recovery kit').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-test="recovery-kit"]').text()).toBe('age -d -i key.txt x.dump.zst.age | zstd -d');
    await wrapper
      .findAll('button')
      .filter((b) => b.text().startsWith('Recovery kit'))[1]!
      .trigger('click');
    await flushPromises();
    expect(wrapper.text()).toContain('This key does not exist.');
  });
});
