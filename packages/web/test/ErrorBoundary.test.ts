import { mount } from '@vue/test-utils';
import { describe, expect, it, vi } from 'vitest';
import { defineComponent, h, nextTick, ref } from 'vue';
import ErrorBoundary from '@/ui/ErrorBoundary.vue';

describe('ErrorBoundary', () => {
  it('shows a recoverable error instead of a blank page, and "Try again" remounts', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const broken = ref(true);
    const Flaky = defineComponent({
      setup: () => () => {
        if (broken.value) throw new Error('render failed');
        return h('p', 'content');
      },
    });
    const wrapper = mount(ErrorBoundary, { slots: { default: () => h(Flaky) } });
    // The boundary re-renders with the error panel on the tick after the failed render.
    await nextTick();
    expect(wrapper.find('[role="alert"]').text()).toContain('stopped working');
    broken.value = false;
    await wrapper.find('button').trigger('click');
    expect(wrapper.text()).toBe('content');
  });
});
