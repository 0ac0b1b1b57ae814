import { flushPromises, mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import DestinationsPage from '@/features/destinations/DestinationsPage.vue';
import { addDestinationInput, EMPTY_DESTINATION_FORM, formProblem } from '@/features/destinations/destination-form';
import { fakeClient, networkError } from './support/fake-client';

const local = {
  id: 'd0',
  name: 'local',
  kind: 'local',
  location: '/var/backups',
  hasCredentials: false,
  enabled: true,
  managedBy: 'env',
  copies: 2,
  usedBytes: 2048,
  lastTest: null,
};

describe('Destinations', () => {
  it('lists destinations with their usage, and adds an S3 one with its credentials, then says how its test went', async () => {
    const sent: unknown[] = [];
    const fake = fakeClient({
      Destinations: () => ({ data: { destinations: [local] } }),
      AddDestination: (variables) => {
        sent.push(variables);
        return {
          data: {
            addDestination: {
              __typename: 'MutationAddDestinationSuccess',
              data: {
                destination: { ...local, id: 'd1', name: 'offsite', kind: 's3', managedBy: null, copies: 0 },
                test: { ok: false, at: '2026-01-01T00:00:00Z', errorCode: 'destination/bucket-missing' },
              },
            },
          },
        };
      },
    });
    const wrapper = mount(DestinationsPage, { global: fake.global });
    await flushPromises();
    expect(wrapper.find('[data-test="usage"]').text()).toBe('2 copies, 2 KiB');
    expect(wrapper.text()).toContain('from configuration');
    const field = (label: string) => {
      const target = wrapper
        .findAll('label')
        .find((l) => l.text() === label)!
        .attributes('for');
      return wrapper.find(`[id="${target}"]`);
    };
    await field('Name').setValue('offsite');
    await field('Endpoint').setValue('http://minio:9000');
    await field('Bucket').setValue('pgbs-backups');
    await field('Secret access key').setValue('the-secret');
    expect(wrapper.find('[data-test="destination-problem"]').text()).toContain('both the access key id and the secret');
    await field('Access key id').setValue('AKIA1');
    expect(wrapper.find('[data-test="destination-problem"]').exists()).toBe(false);
    await wrapper.find('form[data-test="add-destination"]').trigger('submit');
    await flushPromises();
    expect(sent).toEqual([
      {
        input: {
          name: 'offsite',
          kind: 's3',
          endpoint: 'http://minio:9000',
          bucket: 'pgbs-backups',
          prefix: '',
          pathStyle: true,
          credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'the-secret' },
        },
      },
    ]);
    expect(wrapper.find('[data-test="destinations-notice"]').text()).toContain('The bucket does not exist');
  });

  it('refuses an endpoint with credentials in it, and sends a local directory alone', () => {
    const form = { ...EMPTY_DESTINATION_FORM, name: 'x', endpoint: 'https://k:s@host', bucket: 'b-1' };
    expect(formProblem(form)).toContain('Leave the credentials out');
    const localForm = {
      ...EMPTY_DESTINATION_FORM,
      name: 'nas',
      kind: 'local' as const,
      directory: '/mnt/nas',
      bucket: 'ignored',
    };
    expect(formProblem(localForm)).toBeNull();
    expect(addDestinationInput(localForm)).toEqual({ name: 'nas', kind: 'local', directory: '/mnt/nas' });
  });

  it('needs credentials unless the service’s own are chosen, and then sends none', () => {
    const form = { ...EMPTY_DESTINATION_FORM, name: 'x', endpoint: 'https://s3.example', bucket: 'b-1' };
    expect(formProblem(form)).toContain('or use the service’s own credentials');
    const ambient = { ...form, useEnvironmentCredentials: true, accessKeyId: 'typed-before' };
    expect(formProblem(ambient)).toBeNull();
    expect(addDestinationInput(ambient)).toMatchObject({ credentialSource: 'environment' });
    expect(addDestinationInput(ambient)).not.toHaveProperty('credentials');
  });

  it('says when the list is loading, empty, or failed, and Refresh asks the server again', async () => {
    let answers: unknown[] = ['pending'];
    const fake = fakeClient({ Destinations: () => (answers.shift() ?? { data: { destinations: [] } }) as never });
    const wrapper = mount(DestinationsPage, { global: fake.global });
    await flushPromises();
    expect(wrapper.find('[role="status"]').text()).toBe('Loading destinations…');

    const again = mount(DestinationsPage, { global: fake.global });
    await flushPromises();
    expect(again.find('tbody').text()).toBe('No destinations.');

    answers = [{ error: networkError() }];
    await again
      .findAll('button')
      .find((button) => button.text() === 'Refresh')!
      .trigger('click');
    await flushPromises();
    expect(again.text()).toContain('The server cannot be reached');
    expect(again.find('table').exists()).toBe(false);
  });
});
