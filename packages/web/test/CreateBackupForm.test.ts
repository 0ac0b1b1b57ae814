import { flushPromises, mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import CreateBackupForm from '@/features/backups/CreateBackupForm.vue';
import { fakeClient } from './support/fake-client';
import { job } from './fixtures';

describe('Create backup form', () => {
  it('refuses a description over 500 characters with a visible message', async () => {
    const fake = fakeClient({});
    const wrapper = mount(CreateBackupForm, { global: fake.global });
    await wrapper.find('input').setValue('x'.repeat(501));
    expect(wrapper.find('[role="alert"]').text()).toContain('at most 500 characters');
    expect(wrapper.find('button[type="submit"]').attributes('disabled')).toBeDefined();
    await wrapper.find('form').trigger('submit');
    expect(fake.client.executeMutation).not.toHaveBeenCalled();
  });

  it('sends the trimmed description (or none) and reports the job', async () => {
    const started = job({ state: 'queued', progress: null });
    const fake = fakeClient({
      CreateBackup: () => ({ data: { createBackup: { __typename: 'MutationCreateBackupSuccess', data: started } } }),
    });
    const wrapper = mount(CreateBackupForm, { global: fake.global });
    await wrapper.find('input').setValue('  before release  ');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(fake.client.executeMutation.mock.calls[0]![0].variables).toEqual({ description: 'before release' });
    expect(wrapper.emitted('started')).toEqual([[started]]);

    await wrapper.find('input').setValue('   ');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(fake.client.executeMutation.mock.calls[1]![0].variables).toEqual({ description: null });
  });

  it('shows a coded error in human words', async () => {
    const fake = fakeClient({
      CreateBackup: () => ({
        data: { createBackup: { __typename: 'CodedError', code: 'job/busy', message: 'pg_dump: raw stderr' } },
      }),
    });
    const wrapper = mount(CreateBackupForm, { global: fake.global });
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(wrapper.text()).toContain('Another backup or restore is running');
    expect(wrapper.text()).not.toContain('raw stderr');
  });
});
