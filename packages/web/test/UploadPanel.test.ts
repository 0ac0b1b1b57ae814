import { type VueWrapper, flushPromises, mount } from '@vue/test-utils';
import { Encrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { h } from 'vue';
import UploadPanel from '@/features/backups/UploadPanel.vue';
import ConfirmHost from '@/ui/ConfirmHost.vue';
import { fakeClient } from './support/fake-client';

/** Records what the panel sends and lets the test play the network. */
class FakeXhr extends EventTarget {
  static last: FakeXhr | undefined;
  readonly upload = new EventTarget();
  withCredentials = false;
  responseText = '';
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: FormData | undefined;
  constructor() {
    super();
    FakeXhr.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  send(body: FormData) {
    this.body = body;
  }
  abort() {
    this.dispatchEvent(new Event('abort'));
  }
  progress(loaded: number, total: number) {
    this.upload.dispatchEvent(Object.assign(new Event('progress'), { loaded, total, lengthComputable: true }));
  }
  respond(body: unknown) {
    this.upload.dispatchEvent(new Event('load'));
    this.responseText = JSON.stringify(body);
    this.dispatchEvent(new Event('load'));
  }
}

beforeEach(() => {
  FakeXhr.last = undefined;
  vi.stubGlobal('XMLHttpRequest', FakeXhr);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

function mountPanel() {
  return mount(UploadPanel, {
    props: { maxUploadBytes: 1000, targetDatabase: 'workload_tracker' },
    global: fakeClient({}).global,
  });
}

async function pick(wrapper: Pick<VueWrapper, 'find'>, file: File) {
  const input = wrapper.find<HTMLInputElement>('[data-test="file-input"]');
  Object.defineProperty(input.element, 'files', { value: [file], configurable: true });
  await input.trigger('change');
}

const fileOf = (name: string, size: number) => new File([new Uint8Array(size)], name);

/** A real age file of a few bytes, encrypted to `identity`'s recipient. */
async function ageFileFor(name: string, identity: string): Promise<File> {
  const encrypter = new Encrypter();
  encrypter.addRecipient(await identityToRecipient(identity));
  return new File([(await encrypter.encrypt(new Uint8Array(10))).slice()], name);
}

describe('Upload panel', () => {
  it('refuses a file with the wrong extension without sending anything', async () => {
    const wrapper = mountPanel();
    await pick(wrapper, fileOf('notes.txt', 10));
    expect(wrapper.find('[data-test="upload-problem"]').text()).toContain('is not a backup file');
    expect(wrapper.find('[data-test="store-upload"]').exists()).toBe(false);
    expect(FakeXhr.last).toBeUndefined();
  });

  it('refuses a file over the server’s limit without sending anything', async () => {
    const wrapper = mountPanel();
    await pick(wrapper, fileOf('big.sql.gz', 1001));
    expect(wrapper.find('[data-test="upload-problem"]').text()).toContain('accepts files up to 1000 bytes');
    expect(FakeXhr.last).toBeUndefined();
  });

  it.each(['a.dump', 'a.backup', 'a.sql', 'a.SQL.GZ', 'a.tar', 'a.dump.zst', 'a.dump.zst.age'])(
    'accepts %s',
    async (name) => {
      const wrapper = mountPanel();
      await pick(wrapper, fileOf(name, 10));
      expect(wrapper.find('[data-test="upload-problem"]').exists()).toBe(false);
      expect(wrapper.find('[data-test="store-upload"]').exists()).toBe(true);
    },
  );

  it('uploads as a GraphQL multipart request with progress, and stores the file', async () => {
    const wrapper = mountPanel();
    await pick(wrapper, fileOf('staging.sql.gz', 800));
    await wrapper.find('[data-test="store-upload"]').trigger('click');
    const xhr = FakeXhr.last!;
    expect(xhr.method).toBe('POST');
    expect(xhr.url).toBe('/graphql');
    expect(xhr.withCredentials).toBe(true);
    expect(xhr.headers['x-graphql-yoga-csrf']).toBe('1');
    const operations = JSON.parse(xhr.body!.get('operations') as string) as { query: string; variables: object };
    expect(operations.query).toContain('uploadBackup');
    expect(operations.variables).toEqual({ file: null, description: null });
    expect(JSON.parse(xhr.body!.get('map') as string)).toEqual({ 0: ['variables.file'] });
    expect((xhr.body!.get('0') as File).name).toBe('staging.sql.gz');

    xhr.progress(400, 800);
    await flushPromises();
    expect(wrapper.find('[data-test="upload-progress"]').text()).toMatch(/400 bytes of 800 bytes\s+·\s+50 %/);
    expect(wrapper.find('[role="progressbar"]').attributes('aria-valuenow')).toBe('50');

    xhr.respond({
      data: { uploadBackup: { __typename: 'MutationUploadBackupSuccess', data: { id: 'b9', fileName: 'up.sql.gz' } } },
    });
    await flushPromises();
    expect(wrapper.text()).toContain('Stored up.sql.gz');
    expect(wrapper.emitted('uploaded')).toHaveLength(1);
  });

  it('aborts the upload with Cancel', async () => {
    const wrapper = mountPanel();
    await pick(wrapper, fileOf('staging.sql.gz', 800));
    await wrapper.find('[data-test="store-upload"]').trigger('click');
    FakeXhr.last!.progress(100, 800);
    await flushPromises();
    const cancel = wrapper.findAll('button').find((button) => button.text() === 'Cancel upload')!;
    await cancel.trigger('click');
    await flushPromises();
    expect(wrapper.text()).toContain('Upload cancelled');
    expect(wrapper.find('[role="progressbar"]').exists()).toBe(false);
  });

  it('maps a refusal to human words', async () => {
    const wrapper = mountPanel();
    await pick(wrapper, fileOf('evil.sql', 10));
    await wrapper.find('[data-test="store-upload"]').trigger('click');
    FakeXhr.last!.respond({
      data: { uploadBackup: { __typename: 'CodedError', code: 'restore/unsafe-sql', message: '\\! rm -rf /' } },
    });
    await flushPromises();
    expect(wrapper.text()).toContain('not allowed in a restore');
    expect(wrapper.text()).not.toContain('rm -rf');
  });

  it('asks an .age file for its identity and sends it with the restore and the upload, never for a file in clear', async () => {
    const wrapper = mount(
      { render: () => [h(UploadPanel, { maxUploadBytes: 1000, targetDatabase: 'workload_tracker' }), h(ConfirmHost)] },
      { global: fakeClient({}).global, attachTo: document.body },
    );
    const sent = () =>
      (JSON.parse(FakeXhr.last!.body!.get('operations') as string) as { variables: Record<string, unknown> }).variables;
    await pick(wrapper, fileOf('staging.dump', 10));
    expect(wrapper.find('[data-test="restore-identity"]').exists()).toBe(false);

    const key = await generateIdentity();
    await pick(wrapper, await ageFileFor('staging.dump.zst.age', key));
    const typed = wrapper.find<HTMLInputElement>('[data-test="identity-input"]');
    expect(typed.attributes('type')).toBe('password');
    await typed.setValue(`# my key\n${key}`);
    await typed.trigger('change');
    await wrapper.find('[data-test="restore-upload"]').trigger('click');
    // The key opens the file's header (checked here first, with WebCrypto): the dialog follows.
    await vi.waitFor(() => expect(wrapper.find('[data-test="confirm-input"]').exists()).toBe(true));
    await wrapper.find('[data-test="confirm-input"]').setValue('workload_tracker');
    await wrapper.find('[data-test="acknowledge"]').setValue(true);
    await wrapper.find('[data-test="confirm"]').trigger('click');
    await flushPromises();
    expect(sent()).toMatchObject({ confirmation: 'workload_tracker', identity: key });
    FakeXhr.last!.respond({
      data: { restoreFromUpload: { __typename: 'CodedError', code: 'key/wrong-identity', message: 'wrong key' } },
    });
    await flushPromises();
    expect(wrapper.find('[data-test="upload-result"]').text()).toContain('This key does not open');

    // Still chosen after a refusal: storing it sends the same identity.
    FakeXhr.last = undefined;
    await wrapper.find('[data-test="store-upload"]').trigger('click');
    await vi.waitFor(() => expect(FakeXhr.last).toBeDefined());
    expect(sent()).toEqual({ file: null, description: null, identity: key });
    wrapper.unmount();
  });

  it('refuses an .age file its key does not open, or that has no age header, before sending a byte', async () => {
    const wrapper = mount(
      { render: () => [h(UploadPanel, { maxUploadBytes: 1000, targetDatabase: 'workload_tracker' }), h(ConfirmHost)] },
      { global: fakeClient({}).global, attachTo: document.body },
    );
    const typeKey = async (key: string) => {
      const typed = wrapper.find<HTMLInputElement>('[data-test="identity-input"]');
      await typed.setValue(key);
      await typed.trigger('change');
    };
    const encrypted = await ageFileFor('staging.dump.zst.age', await generateIdentity());
    const refused = () => wrapper.find('[data-test="upload-result"]');
    for (const button of ['restore-upload', 'store-upload']) {
      await pick(wrapper, encrypted);
      await typeKey(await generateIdentity());
      await wrapper.find(`[data-test="${button}"]`).trigger('click');
      await vi.waitFor(() => expect(refused().exists()).toBe(true));
      expect(refused().text()).toBe(
        "This key does not open staging.dump.zst.age: it is none of the file's recipients. Nothing was sent.",
      );
      // No restore dialog was asked for, and nothing went out.
      expect(wrapper.find('[data-test="confirm"]').exists()).toBe(false);
      expect(FakeXhr.last).toBeUndefined();
    }

    await pick(wrapper, fileOf('zeros.dump.zst.age', 10));
    await typeKey(await generateIdentity());
    await wrapper.find('[data-test="store-upload"]').trigger('click');
    await vi.waitFor(() => expect(refused().exists()).toBe(true));
    expect(refused().text()).toContain('zeros.dump.zst.age does not begin with a readable age header');
    expect(FakeXhr.last).toBeUndefined();
    wrapper.unmount();
  });

  it('shows a restore refusal as the server words it, and retries with the acknowledgement', async () => {
    const wrapper = mount(
      { render: () => [h(UploadPanel, { maxUploadBytes: 1000, targetDatabase: 'workload_tracker' }), h(ConfirmHost)] },
      { global: fakeClient({}).global, attachTo: document.body },
    );
    /** Answers the restore dialog: the name, the acknowledgement, confirm; returns the options sent. */
    async function confirmDialog(): Promise<Record<string, boolean>> {
      await flushPromises();
      await wrapper.find('[data-test="confirm-input"]').setValue('workload_tracker');
      await wrapper.find('[data-test="acknowledge"]').setValue(true);
      await wrapper.find('[data-test="confirm"]').trigger('click');
      await flushPromises();
      const operations = JSON.parse(FakeXhr.last!.body!.get('operations') as string) as {
        variables: { options: Record<string, boolean> };
      };
      return operations.variables.options;
    }
    await pick(wrapper, fileOf('staging.dump', 10));
    await wrapper.find('[data-test="restore-upload"]').trigger('click');
    expect(await confirmDialog()).toMatchObject({ acceptSourceMismatch: false, skipUnrestorable: false });
    const refusal = 'The backup is of database "staging", not of "workload_tracker". Nothing was changed.';
    FakeXhr.last!.respond({
      data: { restoreFromUpload: { __typename: 'CodedError', code: 'restore/source-mismatch', message: refusal } },
    });
    await flushPromises();
    expect(wrapper.find('[data-test="upload-result"]').text()).toContain(refusal);

    await wrapper.find('[data-test="restore-retry"]').trigger('click');
    await flushPromises();
    const agreed = wrapper
      .findAll('[role="dialog"] label.check')
      .find((label) => label.text().startsWith('Restore although the file is of another database'))!;
    expect(agreed.find<HTMLInputElement>('input').element.checked).toBe(true);
    expect(await confirmDialog()).toMatchObject({ acceptSourceMismatch: true, skipUnrestorable: false });
    wrapper.unmount();
  });
});
