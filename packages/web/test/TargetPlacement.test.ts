import { flushPromises, mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import TargetsPage from '@/features/targets/TargetsPage.vue';
import { moved } from '@/features/targets/target-placement';
import { fakeClient } from './support/fake-client';
import { testRouter } from './support/router';

const target = (overrides: Record<string, unknown> = {}) => ({
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
  ...overrides,
});
const destination = (id: string, name: string) => ({
  id,
  name,
  kind: name === 'local' ? 'local' : 's3',
  location: name === 'local' ? '/var/backups' : `s3://pgbs/${name}`,
  hasCredentials: name !== 'local',
  enabled: true,
  managedBy: name === 'local' ? 'env' : null,
  copies: 0,
  usedBytes: 0,
  lastTest: null,
});
const recipient = (id: string, name: string, retiredAt: string | null = null) => ({
  id,
  name,
  recipient: `age1${id}`,
  fingerprint: `${id}0000000000000`.slice(0, 16),
  identityKept: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  retiredAt,
  backupCount: 0,
  dependentBackupIds: [],
});
const placementOf = (destinations: string[], recipients: string[]) => ({
  data: {
    targetDestinations: {
      __typename: 'QueryTargetDestinationsSuccess',
      data: destinations.map((name, i) => ({ id: `d${i}`, name, kind: 's3', enabled: true })),
    },
    targetRecipients: {
      __typename: 'QueryTargetRecipientsSuccess',
      data: recipients.map((name) => ({ id: name, name, fingerprint: '0123456789abcdef' })),
    },
  },
});
const refusal = (code: string) => ({ __typename: 'CodedError', code, message: `server words for ${code}` });

async function mountTargets(handlers: Parameters<typeof fakeClient>[0]) {
  const fake = fakeClient({
    Targets: () => ({
      data: {
        targets: [
          target({ id: 't0', name: 'pg', kind: 'server' }),
          target(),
          target({ id: 't2', name: 'pg-app', parentId: 't0' }),
        ],
      },
    }),
    Destinations: () => ({
      data: { destinations: [destination('dl', 'local'), destination('ds', 'offsite'), destination('dx', 'nas')] },
    }),
    Recipients: () => ({
      data: {
        recipients: [
          recipient('k0', 'old', '2026-02-01T00:00:00.000Z'),
          recipient('k1', 'laptop'),
          recipient('k2', 'vault'),
        ],
      },
    }),
    ...handlers,
  });
  const wrapper = mount(TargetsPage, { global: { ...fake.global, plugins: [testRouter()] } });
  await flushPromises();
  const row = (name: string) => wrapper.findAll('tbody tr').find((r) => r.find('strong').text() === name)!;
  const open = async (name: string) => {
    await row(name).find('[data-test="edit-placement"]').trigger('click');
    await flushPromises();
  };
  const button = (text: string) =>
    wrapper.findAll('button').find((b) => (b.attributes('aria-label') ?? b.text()) === text)!;
  return { fake, wrapper, row, open, button };
}

describe('A target’s destinations and keys', () => {
  it('shows them in the table compactly: the order, the default, and a server database following its server', async () => {
    const { row } = await mountTargets({
      TargetPlacement: ({ target: id }) =>
        id === 't1' ? placementOf(['local', 'offsite'], ['laptop', 'vault']) : placementOf([], []),
    });
    expect(row('shop').find('[data-test="placement-destinations"]').text()).toBe('To: local → offsite');
    expect(row('shop').find('[data-test="placement-recipients"]').text()).toBe('Encrypted to: laptop, vault');
    expect(row('pg').find('[data-test="placement-destinations"]').text()).toBe('To: local (the default)');
    expect(row('pg').find('[data-test="placement-recipients"]').text()).toContain(
      'ENCRYPT_TO if the server sets it, else stored unencrypted',
    );
    expect(row('pg-app').find('[data-test="placement-recipients"]').text()).toBe('Encrypted to: as pg');
  });

  it('sends the destinations in exactly the order chosen, and an empty list for the default', async () => {
    const sent: unknown[] = [];
    const { wrapper, open, button } = await mountTargets({
      TargetPlacement: () => placementOf(['local'], []),
      SetTargetDestinations: (variables) => {
        sent.push(variables);
        const names = variables['destinations'] as string[];
        return {
          data: {
            setTargetDestinations: {
              __typename: 'MutationSetTargetDestinationsSuccess',
              data: names.map((name) => ({ id: name, name, kind: 's3', enabled: true })),
            },
          },
        };
      },
    });
    await open('shop');
    const editor = () => wrapper.find('form[data-test="target-destinations"]');
    const options = editor()
      .findAll('option')
      .map((o) => o.element.value);
    // Already chosen ones are not offered again.
    expect(options).toEqual(['', 'offsite', 'nas']);
    await editor().find('select').setValue('nas');
    await button('Add').trigger('click');
    await editor().find('select').setValue('offsite');
    await button('Add').trigger('click');
    expect(
      editor()
        .findAll('li .name')
        .map((n) => n.text()),
    ).toEqual(['local', 'nas', 'offsite']);
    await button('Move offsite up').trigger('click');
    await button('Move offsite up').trigger('click');
    await button('Move local down').trigger('click');
    expect(
      editor()
        .findAll('li .name')
        .map((n) => n.text()),
    ).toEqual(['offsite', 'nas', 'local']);
    await button('Remove nas').trigger('click');
    await editor().trigger('submit');
    await flushPromises();
    expect(sent).toEqual([{ target: 't1', destinations: ['offsite', 'local'] }]);
    expect(wrapper.find('[data-test="placement-notice"]').text()).toBe(
      'Backups of shop go to offsite, then a copy to local.',
    );

    await button('Remove offsite').trigger('click');
    await button('Remove local').trigger('click');
    await editor().trigger('submit');
    await flushPromises();
    expect(sent[1]).toEqual({ target: 't1', destinations: [] });
    expect(wrapper.find('[data-test="placement-notice"]').text()).toBe('Backups of shop go to local (the default).');
  });

  it('sends exactly the unretired keys ticked, and says a refusal in the panel’s words', async () => {
    const sent: unknown[] = [];
    const { wrapper, open } = await mountTargets({
      TargetPlacement: () => placementOf([], ['vault']),
      SetTargetRecipients: (variables) => {
        sent.push(variables);
        return sent.length === 1
          ? {
              data: {
                setTargetRecipients: {
                  __typename: 'MutationSetTargetRecipientsSuccess',
                  data: (variables['recipients'] as string[]).map((name) => ({ id: name, name, fingerprint: 'f' })),
                },
              },
            }
          : { data: { setTargetRecipients: refusal('key/retired') } };
      },
    });
    await open('shop');
    const form = () => wrapper.find('form[data-test="target-recipients"]');
    const box = (name: string) =>
      form()
        .findAll('label.check')
        .find((l) => l.text().startsWith(name));
    // A retired key is not offered; the stored choice is ticked.
    expect(box('old')).toBeUndefined();
    expect((box('vault')!.find('input').element as HTMLInputElement).checked).toBe(true);
    await box('laptop')!.find('input').setValue(true);
    await form().trigger('submit');
    await flushPromises();
    expect(sent).toEqual([{ target: 't1', recipients: ['laptop', 'vault'] }]);
    expect(wrapper.find('[data-test="placement-notice"]').text()).toBe(
      'New backups of shop are encrypted to laptop, vault.',
    );
    await form().trigger('submit');
    await flushPromises();
    expect(wrapper.find('[data-test="placement-notice"]').text()).toBe(
      'This key is retired: new backups cannot be encrypted to it.',
    );
  });

  it('edits only the destinations of a server’s database, whose keys are the server’s', async () => {
    const { wrapper, open } = await mountTargets({ TargetPlacement: () => placementOf([], []) });
    await open('pg-app');
    expect(wrapper.find('form[data-test="target-destinations"]').exists()).toBe(true);
    expect(wrapper.find('form[data-test="target-recipients"]').exists()).toBe(false);
    expect(wrapper.text()).toContain('encrypted to the keys of pg, its whole-server target');
  });

  it('says a refused destination list in the panel’s words', async () => {
    const { wrapper, open } = await mountTargets({
      TargetPlacement: () => placementOf(['offsite'], []),
      SetTargetDestinations: () => ({ data: { setTargetDestinations: refusal('destination/not-found') } }),
    });
    await open('shop');
    await wrapper.find('form[data-test="target-destinations"]').trigger('submit');
    await flushPromises();
    expect(wrapper.find('[data-test="placement-notice"]').attributes('role')).toBe('alert');
    expect(wrapper.find('[data-test="placement-notice"]').text()).not.toContain('server words');
  });

  it('moves an item within the list', () => {
    expect(moved(['a', 'b', 'c'], 2, -1)).toEqual(['a', 'c', 'b']);
    expect(moved(['a', 'b', 'c'], 0, -1)).toEqual(['a', 'b', 'c']);
    expect(moved(['a', 'b', 'c'], 0, 5)).toEqual(['b', 'c', 'a']);
  });
});
