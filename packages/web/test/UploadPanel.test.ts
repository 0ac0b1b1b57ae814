import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import UploadPanel from '@/features/backups/UploadPanel.vue';
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

async function pick(wrapper: ReturnType<typeof mountPanel>, file: File) {
  const input = wrapper.find<HTMLInputElement>('[data-test="file-input"]');
  Object.defineProperty(input.element, 'files', { value: [file], configurable: true });
  await input.trigger('change');
}

const fileOf = (name: string, size: number) => new File([new Uint8Array(size)], name);

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

  it.each(['a.dump', 'a.backup', 'a.sql', 'a.SQL.GZ', 'a.tar'])('accepts %s', async (name) => {
    const wrapper = mountPanel();
    await pick(wrapper, fileOf(name, 10));
    expect(wrapper.find('[data-test="upload-problem"]').exists()).toBe(false);
    expect(wrapper.find('[data-test="store-upload"]').exists()).toBe(true);
  });

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
});
