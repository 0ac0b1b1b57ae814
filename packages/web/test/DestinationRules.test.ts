import { flushPromises, mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import DestinationRules from '@/features/retention/DestinationRules.vue';
import { fakeClient } from './support/fake-client';

const NONE = {
  keepLast: null,
  keepHourly: null,
  keepDaily: null,
  keepWeekly: null,
  keepMonthly: null,
  keepYearly: null,
  keepWithinDays: null,
};

function mountRules(sent: { op: string; variables: unknown }[], own: unknown[]) {
  const fake = fakeClient({
    DestinationRetention: () => ({
      data: {
        previewRetention: {
          __typename: 'QueryPreviewRetentionSuccess',
          data: {
            destinations: [
              { destinationId: 'd1', destinationName: 'local', source: 'destination', rules: 'keep-within-days 7' },
              { destinationId: 'd2', destinationName: 'offsite', source: 'target', rules: 'keep-last 10' },
            ],
          },
        },
        destinationRetentionPolicies: {
          __typename: 'QueryDestinationRetentionPoliciesSuccess',
          data: own,
        },
      },
    }),
    SetDestinationRetentionPolicy: (variables) => {
      sent.push({ op: 'set', variables });
      return {
        data: {
          setDestinationRetentionPolicy: {
            __typename: 'MutationSetDestinationRetentionPolicySuccess',
            data: { destination: variables.destination },
          },
        },
      };
    },
    ClearDestinationRetentionPolicy: (variables) => {
      sent.push({ op: 'clear', variables });
      return {
        data: {
          clearDestinationRetentionPolicy: {
            __typename: 'CodedError',
            code: 'retention/destination-not-used',
            message: 'not used',
          },
        },
      };
    },
  });
  return mount(DestinationRules, { props: { target: 'shop' }, global: fake.global, attachTo: document.body });
}

const input = (wrapper: ReturnType<typeof mountRules>, key: string) =>
  wrapper.findAll('input').find((element) => element.element.id.endsWith(`-${key}`))!;

describe('Retention per destination', () => {
  it("shows whose rules each destination follows, and fills the form with the chosen one's own", async () => {
    const wrapper = mountRules([], [{ ...NONE, destination: 'local', keepWithinDays: 7 }]);
    await flushPromises();
    const listed = wrapper.find('[data-test="destination-rules"]').text();
    expect(listed).toContain('local: its own rules (keep-within-days 7)');
    expect(listed).toContain("offsite: the target's policy (keep-last 10)");
    expect((input(wrapper, 'keepWithinDays').element as HTMLInputElement).value).toBe('7');
    expect(wrapper.find('[data-test="use-target-policy"]').exists()).toBe(true);

    // offsite has no rules of its own: an empty form, nothing to clear.
    await wrapper.find('[data-test="destination-choice"]').setValue('offsite');
    expect((input(wrapper, 'keepWithinDays').element as HTMLInputElement).value).toBe('');
    expect(wrapper.find('[data-test="use-target-policy"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('saves exactly the count rules of the form for the chosen destination, and refuses bad numbers', async () => {
    const sent: { op: string; variables: unknown }[] = [];
    const wrapper = mountRules(sent, []);
    await flushPromises();
    await wrapper.find('[data-test="destination-choice"]').setValue('offsite');
    await input(wrapper, 'keepWithinDays').setValue('x');
    const save = wrapper.findAll('button').find((button) => button.text().startsWith('Save rules for'))!;
    expect(save.attributes('disabled')).toBeDefined();
    await input(wrapper, 'keepWithinDays').setValue('365');
    await wrapper.find('[data-test="destination-form"]').trigger('submit');
    await flushPromises();
    expect(sent).toEqual([
      { op: 'set', variables: { target: 'shop', destination: 'offsite', policy: { ...NONE, keepWithinDays: 365 } } },
    ]);
    expect(wrapper.find('[data-test="destination-notice"]').text()).toContain('offsite keeps');
    wrapper.unmount();
  });

  it("goes back to the target's policy, and shows a refusal", async () => {
    const sent: { op: string; variables: unknown }[] = [];
    const wrapper = mountRules(sent, [{ ...NONE, destination: 'local', keepWithinDays: 7 }]);
    await flushPromises();
    await wrapper.find('[data-test="use-target-policy"]').trigger('click');
    await flushPromises();
    expect(sent).toEqual([{ op: 'clear', variables: { target: 'shop', destination: 'local' } }]);
    expect(wrapper.find('[data-test="destination-notice"]').text()).toContain('neither backs up to that destination');
    wrapper.unmount();
  });
});
