import { type VueWrapper, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { nextTick, ref } from 'vue';
import { type ConfirmRequest, useConfirm } from '@/composables/useConfirm';
import ConfirmHost from '@/ui/ConfirmHost.vue';

let host: VueWrapper | undefined;

afterEach(() => {
  host?.unmount();
  host = undefined;
  document.body.innerHTML = '';
});

/** Mounts the host, asks, and returns the dialog plus a way to read the answer. */
async function ask(request: Partial<ConfirmRequest> = {}) {
  host = mount(ConfirmHost, { attachTo: document.body });
  let answer: boolean | undefined;
  void useConfirm()
    .confirm({ title: 'Delete this backup?', message: 'It cannot be undone.', ...request })
    .then((value) => (answer = value));
  await flush();
  return {
    dialog: host.find('[role="dialog"]'),
    confirmButton: () => host!.find<HTMLButtonElement>('[data-test="confirm"]'),
    input: () => host!.find<HTMLInputElement>('[data-test="confirm-input"]'),
    answer: () => answer,
  };
}

async function flush() {
  for (let i = 0; i < 3; i++) await nextTick();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

describe('ConfirmationDialog', () => {
  it('is a labelled modal dialog', async () => {
    const { dialog } = await ask();
    expect(dialog.attributes('aria-modal')).toBe('true');
    const title = document.getElementById(dialog.attributes('aria-labelledby')!);
    expect(title?.textContent).toBe('Delete this backup?');
    expect(document.getElementById(dialog.attributes('aria-describedby')!)?.textContent).toBe('It cannot be undone.');
  });

  it('enables confirm only once the exact text is typed, and resolves true', async () => {
    const { confirmButton, input, answer } = await ask({ typeToConfirm: 'backup-1.dump' });
    expect(confirmButton().element.disabled).toBe(true);
    await input().setValue('backup-1.dum');
    expect(confirmButton().element.disabled).toBe(true);
    await input().setValue('backup-1.dump ');
    expect(confirmButton().element.disabled).toBe(true);
    await input().setValue('backup-1.dump');
    expect(confirmButton().element.disabled).toBe(false);
    await confirmButton().trigger('click');
    await flush();
    expect(answer()).toBe(true);
    expect(document.querySelector('[role="dialog"]')).toBeNull();
  });

  it('needs the acknowledgement checkbox too when there is one', async () => {
    const { confirmButton, input } = await ask({ typeToConfirm: 'workload_tracker', acknowledgement: 'I understand' });
    await input().setValue('workload_tracker');
    expect(confirmButton().element.disabled).toBe(true);
    await host!.find('[data-test="acknowledge"]').setValue(true);
    expect(confirmButton().element.disabled).toBe(false);
  });

  it('resolves false on Escape and on Cancel', async () => {
    const first = await ask({ typeToConfirm: 'x' });
    await first.dialog.trigger('keydown', { key: 'Escape' });
    await flush();
    expect(first.answer()).toBe(false);
    host?.unmount();

    const second = await ask();
    await host!.find('[data-test="cancel"]').trigger('click');
    await flush();
    expect(second.answer()).toBe(false);
  });

  it('confirms with Enter only when allowed', async () => {
    const { input, answer } = await ask({ typeToConfirm: 'backup-1.dump' });
    await input().setValue('wrong');
    await input().trigger('keydown', { key: 'Enter' });
    await flush();
    expect(answer()).toBeUndefined();
    expect(document.querySelector('[role="dialog"]')).not.toBeNull();

    await input().setValue('backup-1.dump');
    await input().trigger('keydown', { key: 'Enter' });
    await flush();
    expect(answer()).toBe(true);
  });

  it('does not confirm when Enter is pressed on Cancel', async () => {
    const { answer } = await ask();
    await host!.find('[data-test="cancel"]').trigger('keydown', { key: 'Enter' });
    await flush();
    expect(answer()).toBeUndefined();
  });

  it('starts on the input, or on Cancel for a plain question', async () => {
    const typed = await ask({ typeToConfirm: 'x' });
    expect(document.activeElement).toBe(typed.input().element);
    host?.unmount();

    await ask();
    expect(document.activeElement).toBe(host!.find('[data-test="cancel"]').element);
  });

  it('keeps Tab and Shift+Tab inside the dialog', async () => {
    const { dialog, input, confirmButton } = await ask({ typeToConfirm: 'x' });
    await input().setValue('x');
    const last = confirmButton().element;
    last.focus();
    await dialog.trigger('keydown', { key: 'Tab' });
    expect(document.activeElement).toBe(input().element);
    await dialog.trigger('keydown', { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(last);
  });

  it('brings focus back when it escapes the dialog', async () => {
    const { input } = await ask({ typeToConfirm: 'x' });
    const outside = document.createElement('button');
    document.body.append(outside);
    outside.focus();
    await flush();
    expect(document.activeElement).toBe(input().element);
  });

  it('binds the option toggles to the caller’s refs', async () => {
    const snapshot = ref(true);
    await ask({ toggles: [{ label: 'Take a safety snapshot first', model: snapshot }] });
    const checkbox = host!.find<HTMLInputElement>('fieldset input[type="checkbox"]');
    expect(checkbox.element.checked).toBe(true);
    await checkbox.setValue(false);
    expect(snapshot.value).toBe(false);
  });
});
