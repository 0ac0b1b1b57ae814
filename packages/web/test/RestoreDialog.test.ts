import { type VueWrapper, flushPromises, mount } from '@vue/test-utils';
import { CombinedError } from '@urql/vue';
import { GraphQLError } from 'graphql';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { h, shallowRef } from 'vue';
import { createApiClient } from '@/api/client';
import BackupsPage from '@/features/backups/BackupsPage.vue';
import { messageFor } from '@/errors/messages';
import { formatDateTime } from '@/format/format';
import ConfirmHost from '@/ui/ConfirmHost.vue';
import { type FakeAnswer, fakeClient } from './support/fake-client';
import { watchMaps } from './support/retained';
import { testRouter } from './support/router';
import { backupRow, job, serverInfo } from './fixtures';

type Item = { where: string; kind: string; name: string; reason: string; skippable: boolean };

function restoreCheck(overrides: { sourceDatabase?: string; unrestorable?: Item[] } = {}) {
  const sourceDatabase = overrides.sourceDatabase ?? serverInfo.targetDatabase;
  return {
    data: {
      restoreCheck: {
        mode: 'owner',
        role: { owner: 'workload_tracker_owner' },
        sourceDatabase,
        targetDatabase: serverInfo.targetDatabase,
        sourceMismatch: sourceDatabase !== serverInfo.targetDatabase,
        unrestorable: overrides.unrestorable ?? [],
      },
    },
  };
}

const eventTrigger: Item = {
  where: 'archive',
  kind: 'EVENT TRIGGER',
  name: 'audit_ddl',
  reason: 'only a superuser may create event triggers',
  skippable: true,
};
const foreignOwner: Item = {
  where: 'archive',
  kind: 'owner',
  name: 'public.reports',
  reason: 'owned by "reporting", a role the database\'s owner is not a member of',
  skippable: false,
};

type TargetRow = {
  id: string;
  name: string;
  database: string;
  kind: string;
  parentId: string | null;
  enabled: boolean;
};
const liveTarget = (id: string, name: string, database: string, more: Partial<TargetRow> = {}): TargetRow => ({
  id,
  name,
  database,
  kind: 'database',
  parentId: null,
  enabled: true,
  ...more,
});
/** The backup's own target, another one, and three a restore cannot go to. */
const TARGETS: TargetRow[] = [
  liveTarget('t1', 'workload', serverInfo.targetDatabase),
  liveTarget('t2', 'staging', 'staging_db'),
  liveTarget('t3', 'paused', 'paused_db', { enabled: false }),
  liveTarget('t4', 'cluster', 'postgres', { kind: 'server', enabled: false }),
  liveTarget('t5', 'cluster/sales', 'sales', { parentId: 't4' }),
];

let wrapper: VueWrapper | undefined;

afterEach(async () => {
  // The app's one dialog outlives the page: answered here, so the next test starts without it.
  const open = wrapper?.find('[role="dialog"]');
  if (open?.exists()) {
    await open
      .findAll('button')
      .find((button) => button.text() === 'Cancel')!
      .trigger('click');
    await flushPromises();
  }
  wrapper?.unmount();
  wrapper = undefined;
  document.body.innerHTML = '';
});

/** The backups page with the app's dialog host, a Restore… click away from the dialog. */
async function openRestoreDialog(
  check: (variables: Record<string, unknown>) => FakeAnswer,
  restoreAnswer: () => FakeAnswer = () => ({
    data: { restoreBackup: { __typename: 'MutationRestoreBackupSuccess', data: job({ kind: 'restore' }) } },
  }),
  backup = backupRow(),
  targets: TargetRow[] = [],
) {
  const fake = fakeClient({
    ServerInfo: () => ({ data: { serverInfo } }),
    Jobs: () => ({ data: { jobs: [] } }),
    Targets: () => ({ data: { targets } }),
    Backups: () => ({ data: { backups: { total: 1, items: [backup] } } }),
    RestoreCheck: check,
    RestoreBackup: restoreAnswer,
  });
  wrapper = mount(
    { render: () => [h(BackupsPage), h(ConfirmHost)] },
    { global: { ...fake.global, plugins: [testRouter()] }, attachTo: document.body },
  );
  await flushPromises();
  await wrapper
    .findAll('tbody button')
    .find((button) => button.text().startsWith('Restore…'))!
    .trigger('click');
  await flushPromises();
  const dialog = () => wrapper!.find('[role="dialog"]');
  expect(dialog().exists()).toBe(true);
  return {
    fake,
    dialog,
    confirmButton: () => dialog().find<HTMLButtonElement>('[data-test="confirm"]'),
    blockedReason: () => dialog().find('[data-test="blocked-reason"]'),
    /** The option checkbox whose label starts with `label`. */
    option: (label: string) =>
      dialog()
        .findAll('label.check')
        .find((element) => element.text().startsWith(label))!
        .find('input'),
    /** Types the name and ticks the general acknowledgement: what every restore needs. */
    async fillConfirmation() {
      await dialog().find('[data-test="confirm-input"]').setValue(serverInfo.targetDatabase);
      await dialog().find('[data-test="acknowledge"]').setValue(true);
    },
    /** The options the RestoreBackup mutation was sent with. */
    sentOptions: () =>
      fake.client.executeMutation.mock.calls.map(
        ([request]) => (request.variables as { options: Record<string, boolean> }).options,
      ),
  };
}

describe('Restore dialog', () => {
  it("names the backup's own target and is confirmed by that target's database, not the default one", async () => {
    const shop = backupRow({ target: { id: 't2', name: 'shop', database: 'shop_db', removed: false } });
    const restore = await openRestoreDialog(() => restoreCheck(), undefined, shop);
    expect(restore.dialog().text()).toContain('All current data in target shop (database “shop_db”) will be replaced');
    const checked = restore.fake.client.executeQuery.mock.calls
      .map(([request]) => request.variables as Record<string, unknown>)
      .find((variables) => 'noOwner' in variables);
    expect(checked).toMatchObject({ id: shop.id, targetId: 't2' });
    await restore.fillConfirmation();
    expect(restore.confirmButton().element.disabled).toBe(true);
    await restore.dialog().find('[data-test="confirm-input"]').setValue('shop_db');
    expect(restore.confirmButton().element.disabled).toBe(false);
    await restore.confirmButton().trigger('click');
    await flushPromises();
    expect(restore.fake.client.executeMutation.mock.calls[0]![0].variables).toMatchObject({
      id: shop.id,
      targetId: 't2',
      confirmation: 'shop_db',
    });
  });

  it('offers the other live targets, starting at its own, which it restores into unless told otherwise', async () => {
    const restore = await openRestoreDialog(() => restoreCheck(), undefined, backupRow(), TARGETS);
    const select = restore.dialog().find<HTMLSelectElement>('[data-test="restore-target-select"]');
    expect(select.findAll('option').map((option) => option.text())).toEqual([
      `workload (database ${serverInfo.targetDatabase}) — this backup’s own target`,
      'staging (database staging_db)',
    ]);
    expect(select.element.value).toBe('t1');
    expect(restore.dialog().find('[data-test="other-target"]').exists()).toBe(false);
    await restore.fillConfirmation();
    await restore.confirmButton().trigger('click');
    await flushPromises();
    expect(restore.fake.client.executeMutation.mock.calls[0]![0].variables).toMatchObject({
      targetId: 't1',
      confirmation: serverInfo.targetDatabase,
    });
  });

  it("restores into another target when chosen, saying so, and is confirmed by that target's database", async () => {
    const restore = await openRestoreDialog(() => restoreCheck(), undefined, backupRow(), TARGETS);
    await restore.fillConfirmation();
    expect(restore.confirmButton().element.disabled).toBe(false);
    await restore.dialog().find('[data-test="restore-target-select"]').setValue('t2');
    await flushPromises();
    expect(restore.dialog().find('[role="alert"].warning').text()).toContain(
      'All current data in target staging (database “staging_db”) will be replaced',
    );
    expect(restore.dialog().find('[data-test="other-target"]').text()).toMatch(
      /taken of target workload\. It will be restored into another target,\s+staging, whose database “staging_db” will be replaced\./,
    );
    // The name typed for the own target no longer confirms: the chosen target's database does.
    expect(restore.dialog().find('label[for$="-input"]').text()).toBe('Type staging_db to confirm');
    expect(restore.confirmButton().element.disabled).toBe(true);
    await restore.dialog().find('[data-test="confirm-input"]').setValue('staging_db');
    expect(restore.confirmButton().element.disabled).toBe(false);
    // The check is run again, against the chosen target.
    const checked = restore.fake.client.executeQuery.mock.calls
      .map(([request]) => request.variables as Record<string, unknown>)
      .filter((variables) => 'noOwner' in variables)
      .map((variables) => variables['targetId']);
    expect(checked).toEqual(['t1', 't2']);
    await restore.confirmButton().trigger('click');
    await flushPromises();
    expect(restore.fake.client.executeMutation.mock.calls[0]![0].variables).toMatchObject({
      id: backupRow().id,
      targetId: 't2',
      confirmation: 'staging_db',
    });
    expect(restore.sentOptions()[0]).not.toHaveProperty('target');
  });

  it('asks again for what was acknowledged for one target when another is chosen', async () => {
    const restore = await openRestoreDialog(
      () => restoreCheck({ sourceDatabase: 'staging' }),
      undefined,
      backupRow(),
      TARGETS,
    );
    await restore.dialog().find('[data-test="accept-source-mismatch"]').setValue(true);
    await restore.dialog().find('[data-test="restore-target-select"]').setValue('t2');
    await flushPromises();
    expect(restore.dialog().find<HTMLInputElement>('[data-test="accept-source-mismatch"]').element.checked).toBe(false);
    await restore.dialog().find('[data-test="confirm-input"]').setValue('staging_db');
    await restore.dialog().find('[data-test="acknowledge"]').setValue(true);
    expect(restore.confirmButton().element.disabled).toBe(true);
  });

  it('offers no choice when the backup has no other target to go to', async () => {
    const restore = await openRestoreDialog(() => restoreCheck(), undefined, backupRow(), TARGETS.slice(0, 1));
    expect(restore.dialog().find('[data-test="restore-target"]').exists()).toBe(false);
  });

  it('restores a backup of a removed target into a live one, the first unless another is chosen', async () => {
    const removed = backupRow({ target: { id: 't9', name: 'old', database: 'old_db', removed: true } });
    const restore = await openRestoreDialog(() => restoreCheck(), undefined, removed, TARGETS);
    const select = restore.dialog().find<HTMLSelectElement>('[data-test="restore-target-select"]');
    expect(select.findAll('option').map((option) => option.text())).toEqual([
      `workload (database ${serverInfo.targetDatabase})`,
      'staging (database staging_db)',
    ]);
    expect(select.element.value).toBe('t1');
    expect(restore.dialog().find('[data-test="other-target"]').text()).toMatch(
      /taken of target old \(removed\)\. It will\s+be restored into another target,\s+workload,/,
    );
    // Checked against the live target, never the removed one.
    const checked = restore.fake.client.executeQuery.mock.calls
      .map(([request]) => request.variables as Record<string, unknown>)
      .filter((variables) => 'noOwner' in variables)
      .map((variables) => variables['targetId']);
    expect(checked).toEqual(['t1']);
    await restore.dialog().find('[data-test="restore-target-select"]').setValue('t2');
    await restore.dialog().find('[data-test="confirm-input"]').setValue('staging_db');
    await restore.dialog().find('[data-test="acknowledge"]').setValue(true);
    await restore.confirmButton().trigger('click');
    await flushPromises();
    expect(restore.fake.client.executeMutation.mock.calls[0]![0].variables).toMatchObject({
      id: removed.id,
      targetId: 't2',
      confirmation: 'staging_db',
    });
  });

  it('blocks the restore of a removed target’s backup while no live target can take it, checking nothing', async () => {
    const removed = backupRow({ target: { id: 't9', name: 'old', database: 'old_db', removed: true } });
    const restore = await openRestoreDialog(() => restoreCheck(), undefined, removed, []);
    expect(restore.dialog().text()).toContain('The target old of this backup was removed');
    expect(restore.dialog().text()).not.toContain('All current data in');
    expect(restore.blockedReason().text()).toContain('No live target can take this backup: add one under Targets');
    await restore.dialog().find('[data-test="confirm-input"]').setValue('old_db');
    await restore.dialog().find('[data-test="acknowledge"]').setValue(true);
    expect(restore.confirmButton().element.disabled).toBe(true);
    // Neither the check nor the restore named the removed target.
    const checked = restore.fake.client.executeQuery.mock.calls
      .map(([request]) => request.variables as Record<string, unknown>)
      .filter((variables) => 'noOwner' in variables);
    expect(checked).toEqual([]);
    expect(restore.fake.client.executeMutation).not.toHaveBeenCalled();
  });

  it('checks the backup first, then restores with the defaults when nothing stands in the way', async () => {
    const restore = await openRestoreDialog(() => restoreCheck());
    expect(restore.dialog().find('[data-test="restore-mode"]').text()).toContain('workload_tracker_owner');
    expect(restore.dialog().text()).toContain('the application’s queries wait until it finishes');
    // The backup is named as people tell backups apart: date, size, description, then the file.
    expect(restore.dialog().text()).toContain(
      `the backup of ${formatDateTime(backupRow().createdAt)} (150 MiB, “before release”; file ${backupRow().fileName})`,
    );
    await restore.fillConfirmation();
    expect(restore.blockedReason().exists()).toBe(false);
    await restore.confirmButton().trigger('click');
    await flushPromises();
    expect(restore.sentOptions()).toEqual([
      {
        safetySnapshot: true,
        noOwner: false,
        noPrivileges: false,
        terminateBlockers: false,
        acceptSourceMismatch: false,
        skipUnrestorable: false,
      },
    ]);
  });

  it('keeps the button disabled while the check runs', async () => {
    const restore = await openRestoreDialog(() => 'pending');
    await restore.fillConfirmation();
    expect(restore.confirmButton().element.disabled).toBe(true);
    expect(restore.blockedReason().text()).toContain('Checking');
  });

  it('needs the acknowledgement of a backup of another database, and sends it', async () => {
    const restore = await openRestoreDialog(() => restoreCheck({ sourceDatabase: 'staging' }));
    expect(restore.dialog().find('[data-test="source-mismatch"]').text()).toMatch(
      /This backup is of database\s+staging, not\s+workload_tracker/,
    );
    await restore.fillConfirmation();
    expect(restore.confirmButton().element.disabled).toBe(true);
    await restore.dialog().find('[data-test="accept-source-mismatch"]').setValue(true);
    expect(restore.confirmButton().element.disabled).toBe(false);
    await restore.confirmButton().trigger('click');
    await flushPromises();
    expect(restore.sentOptions()[0]).toMatchObject({ acceptSourceMismatch: true, skipUnrestorable: false });
  });

  it('lists skippable objects and needs “Leave these out” ticked, then sends skipUnrestorable', async () => {
    const restore = await openRestoreDialog(() => restoreCheck({ unrestorable: [eventTrigger] }));
    const listed = restore.dialog().find('[data-test="unrestorable"]').text();
    expect(listed).toContain('EVENT TRIGGER');
    expect(listed).toContain('audit_ddl');
    expect(listed).toContain('in the backup');
    expect(listed).toContain('only a superuser may create event triggers');
    await restore.fillConfirmation();
    expect(restore.confirmButton().element.disabled).toBe(true);
    expect(restore.blockedReason().text()).toContain('Leave these out');
    await restore.dialog().find('[data-test="skip-unrestorable"]').setValue(true);
    expect(restore.confirmButton().element.disabled).toBe(false);
    await restore.confirmButton().trigger('click');
    await flushPromises();
    expect(restore.sentOptions()[0]).toMatchObject({ skipUnrestorable: true, acceptSourceMismatch: false });
  });

  it('disables the button for objects that cannot be skipped, suggests no-owner, and checks again with it', async () => {
    const restore = await openRestoreDialog((variables) =>
      restoreCheck({ unrestorable: variables['noOwner'] ? [] : [eventTrigger, foreignOwner] }),
    );
    expect(restore.dialog().find('[data-test="skip-unrestorable"]').exists()).toBe(false);
    await restore.fillConfirmation();
    expect(restore.confirmButton().element.disabled).toBe(true);
    expect(restore.blockedReason().text()).toContain('Skip ownership (no-owner)');
    expect(restore.confirmButton().attributes('aria-describedby')).toBe(restore.blockedReason().attributes('id'));

    await restore.option('Skip ownership').setValue(true);
    await flushPromises();
    const checks = restore.fake.client.executeQuery.mock.calls
      .map(([request]) => request.variables as Record<string, unknown>)
      .filter((variables) => 'noOwner' in variables);
    expect(checks.map((variables) => variables['noOwner'])).toEqual([false, true]);
    expect(restore.dialog().find('[data-test="unrestorable"]').exists()).toBe(false);
    expect(restore.confirmButton().element.disabled).toBe(false);
  });

  it('says a superuser has to step in when skipping and no-owner cannot help', async () => {
    const schema = { ...foreignOwner, where: 'target', kind: 'SCHEMA', name: 'reporting' };
    const restore = await openRestoreDialog(() => restoreCheck({ unrestorable: [schema] }));
    await restore.fillConfirmation();
    expect(restore.confirmButton().element.disabled).toBe(true);
    expect(restore.blockedReason().text()).toContain('a superuser has to handle them');
  });

  it('shows why the connection can never restore, and keeps the button disabled', async () => {
    const refused = new CombinedError({
      graphQLErrors: [new GraphQLError('raw', { extensions: { code: 'restore/unsafe-owner' } })],
    });
    const restore = await openRestoreDialog(() => ({ error: refused }));
    await restore.fillConfirmation();
    expect(restore.confirmButton().element.disabled).toBe(true);
    expect(restore.dialog().find('[data-test="restore-check"] [role="alert"]').text()).toBe(
      messageFor('restore/unsafe-owner'),
    );
    expect(restore.blockedReason().text()).toContain('restore check failed');
  });

  it('sends terminateBlockers only when its checkbox is ticked', async () => {
    const restore = await openRestoreDialog(() => restoreCheck());
    const terminate = restore.option('Terminate sessions that block the restore');
    expect(terminate.element.parentElement?.textContent).toContain('rolled back');
    await terminate.setValue(true);
    await restore.fillConfirmation();
    await restore.confirmButton().trigger('click');
    await flushPromises();
    expect(restore.sentOptions()[0]).toMatchObject({ terminateBlockers: true });
  });

  it('shows the server’s account of a refusal the check could not foresee', async () => {
    const refusal = '"pgbs" may not terminate other sessions: grant it pg_signal_backend. Nothing was changed.';
    const restore = await openRestoreDialog(
      () => restoreCheck(),
      () => ({
        data: { restoreBackup: { __typename: 'CodedError', code: 'restore/cannot-terminate', message: refusal } },
      }),
    );
    await restore.option('Terminate sessions that block the restore').setValue(true);
    await restore.fillConfirmation();
    await restore.confirmButton().trigger('click');
    await flushPromises();
    expect(wrapper!.find('[role="alert"]').text()).toBe(refusal);
  });
});

describe('Restore dialog of an encrypted backup', () => {
  const IDENTITY = 'AGE-SECRET-KEY-1QQQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSQ9VFX2E';
  const encrypted = (identityKept = false) =>
    backupRow({
      fileName: 'workload_tracker-20251120-100000.dump.zst.age',
      recipientFingerprints: ['0123456789abcdef'],
      recipients: [{ name: 'offline', identityKept }],
    });
  const checks = (restore: Awaited<ReturnType<typeof openRestoreDialog>>) =>
    restore.fake.client.executeQuery.mock.calls
      .map(([request]) => request.variables as Record<string, unknown>)
      .filter((variables) => 'noOwner' in variables);
  async function give(restore: Awaited<ReturnType<typeof openRestoreDialog>>, text: string) {
    const input = restore.dialog().find<HTMLInputElement>('[data-test="identity-input"]');
    input.element.value = text;
    await input.trigger('change');
    await flushPromises();
  }

  it('asks for no identity for a backup in clear', async () => {
    const restore = await openRestoreDialog(() => restoreCheck());
    expect(restore.dialog().find('[data-test="restore-identity"]').exists()).toBe(false);
    expect(checks(restore)[0]).toMatchObject({ identity: null });
  });

  it('checks nothing before the identity is given, then checks and restores with it, and keeps it nowhere', async () => {
    const restore = await openRestoreDialog(() => restoreCheck(), undefined, encrypted());
    const prompt = restore.dialog().find('[data-test="restore-identity"]');
    expect(prompt.text()).toContain('Encrypted to offline');
    const input = prompt.find<HTMLInputElement>('[data-test="identity-input"]');
    expect(input.attributes('type')).toBe('password');
    expect(input.attributes('autocomplete')).toBe('off');
    expect(checks(restore)).toEqual([]);
    await restore.fillConfirmation();
    expect(restore.confirmButton().element.disabled).toBe(true);
    expect(restore.blockedReason().text()).toContain('give the age identity');

    await give(restore, `# created: today\n# public key: age1xyz\n${IDENTITY}\n`);
    // Only the identity line goes: a pasted file loses its line breaks in the field, and its comments here.
    expect(checks(restore).map((variables) => variables['identity'])).toEqual([IDENTITY]);
    expect(restore.confirmButton().element.disabled).toBe(false);
    // Never echoed: the dialog's markup holds no trace of it (a password field's value is not markup).
    expect(document.body.innerHTML).not.toContain(IDENTITY);

    await restore.confirmButton().trigger('click');
    await flushPromises();
    const sent = restore.fake.client.executeMutation.mock.calls[0]![0].variables as Record<string, unknown>;
    expect(sent['identity']).toBe(IDENTITY);
    expect(sent['options']).not.toHaveProperty('identity');
    expect(restore.dialog().exists()).toBe(false);
    expect(JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })).not.toContain(IDENTITY);
    expect(document.body.innerHTML).not.toContain(IDENTITY);
  });

  it('says so when the identity does not open the backup, and keeps the button disabled', async () => {
    const wrong = new CombinedError({
      graphQLErrors: [new GraphQLError('raw', { extensions: { code: 'key/wrong-identity' } })],
    });
    const restore = await openRestoreDialog(
      (variables) => (variables['identity'] ? { error: wrong } : restoreCheck()),
      undefined,
      encrypted(),
    );
    await restore.fillConfirmation();
    await give(restore, IDENTITY);
    expect(restore.dialog().find('[data-test="restore-check-error"]').text()).toBe(messageFor('key/wrong-identity'));
    expect(restore.confirmButton().element.disabled).toBe(true);
    expect(restore.dialog().text()).not.toContain(IDENTITY);
  });

  it('sends nothing that is not an identity, and says what one looks like', async () => {
    const restore = await openRestoreDialog(() => restoreCheck(), undefined, encrypted());
    await give(restore, 'my-database-password');
    expect(restore.dialog().find('[role="alert"].field-error').text()).toBe(messageFor('key/invalid-identity'));
    expect(checks(restore)).toEqual([]);
    expect(restore.dialog().find('[data-test="identity-input"]').attributes('aria-invalid')).toBe('true');
  });

  it('reads the key file in the browser and forgets the file', async () => {
    const restore = await openRestoreDialog(() => restoreCheck(), undefined, encrypted());
    await give(restore, 'AGE-SECRET-KEY-1TYPEDBEFORE');
    const picker = restore.dialog().find<HTMLInputElement>('[data-test="identity-file"]');
    const file = new File([`# public key: age1xyz\n${IDENTITY}\n`], 'offline.age-key.txt', { type: 'text/plain' });
    Object.defineProperty(picker.element, 'files', { value: [file], configurable: true });
    await picker.trigger('change');
    await flushPromises();
    expect(restore.dialog().find('[data-test="identity-loaded"]').text()).toBe('Read offline.age-key.txt.');
    // What was typed before is gone from the field: the file's identity is the one used.
    expect(restore.dialog().find<HTMLInputElement>('[data-test="identity-input"]').element.value).toBe('');
    expect(picker.element.value).toBe('');
    expect(checks(restore).map((variables) => variables['identity'])).toEqual([
      'AGE-SECRET-KEY-1TYPEDBEFORE',
      IDENTITY,
    ]);
    await restore.fillConfirmation();
    await restore.confirmButton().trigger('click');
    await flushPromises();
    expect(restore.fake.client.executeMutation.mock.calls[0]![0].variables).toMatchObject({ identity: IDENTITY });
  });

  it('checks at once when the server keeps an identity, and sends none unless one is given', async () => {
    const restore = await openRestoreDialog(() => restoreCheck(), undefined, encrypted(true));
    expect(restore.dialog().find('[data-test="restore-identity"]').text()).toContain('leave this empty');
    expect(checks(restore)).toEqual([expect.objectContaining({ identity: null })]);
    await restore.fillConfirmation();
    await restore.confirmButton().trigger('click');
    await flushPromises();
    expect(restore.fake.client.executeMutation.mock.calls[0]![0].variables).toMatchObject({ identity: null });
  });
});

describe('Restore dialog with the panel’s own client', () => {
  const IDENTITY = 'AGE-SECRET-KEY-1QQQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSQ9VFX2E';
  let maps: ReturnType<typeof watchMaps> | undefined;

  afterEach(() => {
    maps?.stop();
    maps = undefined;
    vi.unstubAllGlobals();
  });

  /** A server answering by operation name, over the client's real exchanges (the document cache among them). */
  function serve() {
    const asked: { operationName: string; variables: Record<string, unknown> }[] = [];
    const answers: Record<string, unknown> = {
      ServerInfo: { serverInfo },
      Jobs: { jobs: [] },
      Targets: { targets: [] },
      Backups: {
        backups: {
          total: 1,
          items: [
            backupRow({
              recipientFingerprints: ['0123456789abcdef'],
              recipients: [{ name: 'offline', identityKept: false }],
            }),
          ],
        },
      },
      RestoreCheck: restoreCheck().data,
    };
    vi.stubGlobal(
      'fetch',
      vi.fn(async (_url: unknown, init?: RequestInit) => {
        const body = JSON.parse(String(init?.body)) as (typeof asked)[number];
        asked.push(body);
        return new Response(JSON.stringify({ data: answers[body.operationName] }), {
          headers: { 'content-type': 'application/json' },
        });
      }),
    );
    // The job events' socket never opens here: subscriptions just wait.
    vi.stubGlobal(
      'WebSocket',
      class {
        readonly readyState = 0;
        send() {}
        close() {}
      },
    );
    const checksWithIdentity = () =>
      asked.filter((body) => body.operationName === 'RestoreCheck' && body.variables['identity'] === IDENTITY).length;
    return { checksWithIdentity };
  }

  async function openAndGiveIdentity() {
    await wrapper!
      .findAll('tbody button')
      .find((button) => button.text().startsWith('Restore…'))!
      .trigger('click');
    await flushPromises();
    const input = wrapper!.find<HTMLInputElement>('[role="dialog"] [data-test="identity-input"]');
    input.element.value = IDENTITY;
    await input.trigger('change');
    await vi.waitFor(() => expect(wrapper!.find('[data-test="restore-mode"]').exists()).toBe(true));
  }

  it('keeps nothing of the identity once the dialog is closed: checked again, from the server', async () => {
    maps = watchMaps();
    const { checksWithIdentity } = serve();
    const client = createApiClient({ protocol: 'http:', host: 'localhost' });
    wrapper = mount(
      { render: () => [h(BackupsPage), h(ConfirmHost)] },
      { global: { provide: { $urql: shallowRef(client) }, plugins: [testRouter()] }, attachTo: document.body },
    );
    await vi.waitFor(() => expect(wrapper!.findAll('tbody button').length).toBeGreaterThan(0));

    await openAndGiveIdentity();
    expect(checksWithIdentity()).toBe(1);
    await wrapper.find('[role="dialog"] [data-test="cancel"]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[role="dialog"]').exists()).toBe(false);
    // No cached result, no operation, no variables of the client's hold it any more.
    expect(maps.holding(IDENTITY)).toBe(0);

    // The same check again is not answered from a cache: it asks the server.
    await openAndGiveIdentity();
    expect(checksWithIdentity()).toBe(2);
  });
});
