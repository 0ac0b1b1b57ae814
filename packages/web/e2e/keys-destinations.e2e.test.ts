// Issue #12's "Done when", in the browser, through the panel only: a newcomer generates an age key
// (its identity shown once, downloaded as a file made in the page), adds an S3-compatible
// destination (s3rver, started here by the test-support helper), sends the target's backups to the
// local disk and S3 encrypted to the key, and schedules it. The scheduled backup lands on both
// ("2 of 2 copies"), is downloaded through the panel's link and restored on a "bare machine" (only
// Debian's age, zstd and PostgreSQL client on PATH, with the README's command), then restored from
// the panel with the identity prompt.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type S3TestServer, createTestDatabase, startS3Server, withSql } from '@pgbs/test-support';
import { s3Storage } from '../../server/src/storage/s3-storage.js';
import { POLL, expectAccessible, screenshot } from './page-checks.js';
import { ADMIN, REPO_DIR, type World, startWorld } from './world.js';

const BUCKET = 'pgbs-e2e';

let world: World;
let adminUrl: string;
let s3: S3TestServer;
let context: BrowserContext;
let page: Page;
/** Every request body the page sent, to show the identity never leaves it. */
const sentBodies: string[] = [];
let identity = '';
/** The key file the page made, as saved by the browser. */
let keyFilePath = '';
let target: { id: string; name: string };
/** The scheduled backup, once it has landed on both destinations. */
let scheduled: { id: string; fileName: string };
/** The "bare machine"'s directory: key.txt, backup.dump.zst.age and bin/ with only the tools. */
let bareDir = '';

/** A scheduled slot every minute, its backup, then its copy to S3: bounded by two slots and some. */
const SCHEDULED = { timeout: 170_000, interval: 500 };

/** What the restores must bring back: row counts and a checksum of each table. */
const CONTENT_SQL = `SELECT (SELECT count(*) FROM public.projects)::int AS projects,
  (SELECT md5(string_agg(id || ':' || name, ',' ORDER BY id)) FROM public.projects) AS projects_md5,
  (SELECT count(*) FROM public.people)::int AS people,
  (SELECT md5(string_agg(id || ':' || name || ':' || coalesce(project_id::text, '-'), ',' ORDER BY id))
     FROM public.people) AS people_md5`;
const contentOf = (url: string) => withSql(url, async (sql) => (await sql.unsafe(CONTENT_SQL))[0]);

const nav = () => page.getByRole('navigation', { name: 'Settings' });

async function openSection(label: string): Promise<void> {
  await nav().getByRole('link', { name: label, exact: true }).click();
  await page.getByRole('heading', { name: label, level: 1 }).waitFor();
}

async function api<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await page.request.post('/graphql', { data: { query, variables } });
  const body = (await response.json()) as { data: T };
  return body.data;
}

describe('keys and destinations: a target to the local disk and S3, encrypted to a key made in the browser', () => {
  beforeAll(async () => {
    adminUrl = inject('pgAdminUrl');
    world = await startWorld(adminUrl, { MASTER_KEY: randomBytes(32).toString('base64') });
    s3 = await startS3Server({ buckets: [BUCKET] });
    context = await world.browser.newContext({
      baseURL: world.http.url,
      viewport: { width: 1280, height: 800 },
      acceptDownloads: true,
    });
    page = await context.newPage();
    page.on('request', (request) => sentBodies.push(`${request.url()} ${request.postData() ?? ''}`));
  });

  afterAll(async () => {
    // No slot may start a backup while the world closes.
    await world?.app.db.execute('UPDATE schedules SET paused = true').catch(() => {});
    if (world?.serverErrors.length) console.error('server errors:\n' + world.serverErrors.join('\n'));
    await context?.close().catch(() => {});
    await world?.close();
    await s3?.stop();
  });

  it('logs in', async () => {
    await page.goto('/');
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/settings/dashboard');
  });

  it('generates a key: the identity is shown once, downloaded as a file, and gone once dismissed', async () => {
    await openSection('Keys');
    await page.getByLabel('Name', { exact: true }).fill('offline');
    await page.getByRole('button', { name: 'Generate a key' }).click();
    const shown = page.locator('[data-test=identity]');
    await shown.waitFor();
    identity = (await shown.textContent())!.trim();
    expect(identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]+$/);
    expect(await page.locator('[data-test=generated-identity]').textContent()).toContain('shown only once');
    await expectAccessible(page, 'keys (identity shown)');
    await screenshot(page, 'keys-generated');

    const requestsBefore = sentBodies.length;
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download offline.age-key.txt' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('offline.age-key.txt');
    expect(download.url()).toMatch(/^blob:/);
    keyFilePath = (await download.path())!;
    const file = await readFile(keyFilePath, 'utf8');
    expect(file.trim().split('\n').at(-1)).toBe(identity);
    expect(file).toMatch(/^# public key: age1[0-9a-z]+$/m);
    // Made in the page: the download sent nothing anywhere.
    expect(sentBodies.slice(requestsBefore).filter((body) => !body.startsWith('blob:'))).toEqual([]);

    await page.locator('[data-test=identity-done]').click();
    await expect.poll(() => page.locator('[data-test=generated-identity]').count(), POLL).toBe(0);
    expect(await page.content()).not.toContain(identity);
    expect(page.url()).not.toContain(identity);
    // Nothing kept it: not after a reload either, nor in the browser's storage.
    await page.reload();
    await page.getByRole('heading', { name: 'Keys', level: 1 }).waitFor();
    const row = page.locator('tbody tr', { hasText: 'offline' });
    await row.waitFor();
    expect(await row.textContent()).toContain('Not kept');
    expect(await page.content()).not.toContain(identity);
    const stored = await page.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    );
    expect(stored).not.toContain(identity);
    // The identity travelled once, in generateKey's answer, and never back to the server.
    expect(sentBodies.some((body) => body.includes(identity))).toBe(false);
  });

  it('shows the key’s recovery kit', async () => {
    await page.getByRole('button', { name: 'Recovery kit of offline' }).click();
    const kit = page.locator('[data-test=recovery-kit]');
    await kit.waitFor();
    const text = await kit.textContent();
    expect(text).toContain('age -d -i key.txt');
    expect(text).toContain('zstd -d');
    expect(text).toContain('pg_restore');
    expect(text).not.toContain(identity);
    await expectAccessible(page, 'keys (recovery kit)');
    await screenshot(page, 'keys');
  });

  it('adds an S3 destination, which its test finds working', async () => {
    await openSection('Destinations');
    await page.getByLabel('Name').fill('offsite');
    await page.getByLabel('Endpoint').fill(s3.endpoint);
    await page.getByLabel('Bucket').fill(BUCKET);
    await page.getByLabel('Prefix').fill('e2e');
    await page.getByLabel('Access key id').fill(s3.accessKeyId);
    await page.getByLabel('Secret access key').fill(s3.secretAccessKey);
    await page.getByRole('button', { name: 'Add and test' }).click();
    await expect
      .poll(() => page.locator('[data-test=destinations-notice]').textContent(), POLL)
      .toContain('Destination “offsite” added and tested: it works.');
  });

  it('sends the target’s backups to local then S3, encrypted to the key, and shows it on the Targets page', async () => {
    const { targets } = await api<{ targets: { id: string; name: string }[] }>('{ targets { id name } }');
    target = targets[0]!;
    await openSection('Targets');
    const row = page.locator('tbody tr', { hasText: target.name });
    await row.waitFor();
    await expect
      .poll(() => row.locator('[data-test=placement-destinations]').textContent(), POLL)
      .toContain('local (the default)');
    await row.getByRole('button', { name: `Storage of ${target.name}` }).click();

    const destinations = page.locator('form[data-test=target-destinations]');
    await destinations.waitFor();
    for (const name of ['local', 'offsite']) {
      await page.getByLabel('Add a destination').selectOption(name);
      await destinations.getByRole('button', { name: 'Add', exact: true }).click();
    }
    expect(await destinations.locator('li .name').allTextContents()).toEqual(['local', 'offsite']);
    await destinations.getByRole('button', { name: 'Save destinations' }).click();
    const notice = page.locator('[data-test=placement-notice]');
    await expect.poll(() => notice.textContent(), POLL).toContain(`go to local, then a copy to offsite`);

    const recipients = page.locator('form[data-test=target-recipients]');
    await recipients.getByLabel(/^offline/).check();
    await recipients.getByRole('button', { name: 'Save encryption' }).click();
    await expect.poll(() => notice.textContent(), POLL).toContain('are encrypted to offline');
    await expectAccessible(page, 'targets (storage and encryption)');
    await screenshot(page, 'target-storage');

    await expect
      .poll(() => row.locator('[data-test=placement-destinations]').textContent(), POLL)
      .toBe('To: local → offsite');
    await expect
      .poll(() => row.locator('[data-test=placement-recipients]').textContent(), POLL)
      .toBe('Encrypted to: offline');
    // What the server keeps, read back through the API.
    const stored = await api<{
      targetDestinations: { data: { name: string }[] };
      targetRecipients: { data: { name: string }[] };
    }>(
      `query($t: ID!) {
        targetDestinations(target: $t) { ... on QueryTargetDestinationsSuccess { data { name } } }
        targetRecipients(target: $t) { ... on QueryTargetRecipientsSuccess { data { name } } }
      }`,
      { t: target.id },
    );
    expect(stored.targetDestinations.data.map((d) => d.name)).toEqual(['local', 'offsite']);
    expect(stored.targetRecipients.data.map((r) => r.name)).toEqual(['offline']);

    // After a reload, the table still says so.
    await page.reload();
    await expect
      .poll(
        () =>
          page
            .locator('tbody tr', { hasText: target.name })
            .locator('[data-test=placement-destinations]')
            .textContent(),
        POLL,
      )
      .toBe('To: local → offsite');
  });

  it('fits the Keys page and the Targets page at phone width', async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    try {
      for (const section of ['Keys', 'Targets']) {
        await openSection(section);
        await page.locator('tbody tr').first().waitFor();
        const { scrollWidth, innerWidth } = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
        }));
        expect(scrollWidth, section).toBeLessThanOrEqual(innerWidth);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('schedules the target every minute; the scheduled backup lands on the local disk and S3: 2 of 2 copies', async () => {
    await openSection('Schedules');
    await page.getByLabel('Target').selectOption(target.name);
    await page.getByLabel('Cron expression').fill('* * * * *');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await expect
      .poll(() => page.locator('[data-test=schedule-notice]').textContent(), POLL)
      .toContain(`Schedule of ${target.name} saved`);

    // A real slot: the next minute's (at most a minute away), then its copy to S3.
    type Item = { id: string; fileName: string; origin: string; copiesComplete: number; copiesTotal: number };
    await expect
      .poll(async () => {
        const { backups } = await api<{ backups: { items: Item[] } }>(
          '{ backups(limit: 100) { items { id fileName origin copiesComplete copiesTotal } } }',
        );
        const landed = backups.items.find(
          (item) => item.origin === 'scheduled' && item.copiesComplete === 2 && item.copiesTotal === 2,
        );
        if (landed) scheduled = landed;
        return landed !== undefined;
      }, SCHEDULED)
      .toBe(true);
    // One backup is all this needs: no more slots while it is downloaded and restored.
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: 'Resume' }).waitFor();

    await openSection('Backup & Restore');
    const row = page.locator('tbody tr', { hasText: scheduled.fileName });
    await row.waitFor();
    expect(scheduled.fileName).toMatch(/\.dump\.zst\.age$/);
    expect(await row.locator('[data-test=backup-copies-count]').textContent()).toBe('2 of 2 copies');
    await expectAccessible(page, 'backups (2 of 2 copies)');
    await screenshot(page, 'backups-two-copies');
  }, 240_000);

  it('downloads it through the panel’s link: age-encrypted, no table name in clear, like both stored copies', async () => {
    bareDir = path.join(world.workDir, 'bare-machine');
    await mkdir(path.join(bareDir, 'bin'), { recursive: true });
    const row = page.locator('tbody tr', { hasText: scheduled.fileName });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('button', { name: /^Download/ }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(scheduled.fileName);
    expect(new URL(download.url()).origin).toBe(world.http.url);
    const downloaded = path.join(bareDir, 'backup.dump.zst.age');
    await download.saveAs(downloaded);
    await copyFile(keyFilePath, path.join(bareDir, 'key.txt'));

    const bytes = await readFile(downloaded);
    const local = await readFile(path.join(world.workDir, 'backups', scheduled.fileName));
    const storage = s3Storage(
      { endpoint: s3.endpoint, bucket: BUCKET, prefix: 'e2e', pathStyle: true },
      { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    );
    const remote = await buffer(await storage.openRead(scheduled.fileName));
    const manifests = {
      local: await readFile(path.join(world.workDir, 'backups', `${scheduled.fileName}.manifest.json`)),
      s3: await buffer(await storage.openRead(`${scheduled.fileName}.manifest.json`)),
    };
    for (const [where, stored] of Object.entries({ downloaded: bytes, local, s3: remote })) {
      expect(stored.subarray(0, 22).toString(), where).toBe('age-encryption.org/v1\n');
      for (const table of ['projects', 'people', 'Apollo'])
        expect(stored.includes(table), `${where}: ${table}`).toBe(false);
    }
    for (const [where, manifest] of Object.entries(manifests)) {
      for (const table of ['projects', 'people']) expect(manifest.includes(table), `${where} manifest`).toBe(false);
    }
    // The same bytes everywhere: the copy is the backup, and the download reads one of them.
    expect(remote.equals(local)).toBe(true);
    expect(bytes.equals(local)).toBe(true);
  });

  it('restores the download on a bare machine with the README’s command: only sh, age, zstd and the PostgreSQL client', async () => {
    const readme = await readFile(path.join(REPO_DIR, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Restore by hand on a bare machine'));
    const command = /```sh\n([\s\S]*?)```/.exec(section)![1]!.trim();
    expect(command).toMatch(/^age -d -i key\.txt backup\.dump\.zst\.age \| zstd -d \| pg_restore .* -d <database>$/);
    // The operations guide gives the same line.
    expect(await readFile(path.join(REPO_DIR, 'docs', 'operations.md'), 'utf8')).toContain(command);

    // Debian's tools themselves (PostgreSQL's binaries, not the perl wrapper in /usr/bin): no node, no service code.
    const pgBin = execFileSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1'], {
      encoding: 'utf8',
    }).trim();
    const which = (tool: string) => execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    const bin = path.join(bareDir, 'bin');
    const tools = {
      sh: which('sh'),
      age: which('age'),
      zstd: which('zstd'),
      pg_restore: `${pgBin}/pg_restore`,
      psql: `${pgBin}/psql`,
    };
    for (const [tool, where] of Object.entries(tools)) await symlink(where, path.join(bin, tool));

    const fresh = await createTestDatabase(adminUrl, 'e2e_bare', { owner: world.target });
    try {
      const url = new URL(fresh.url);
      url.password = '';
      execFileSync(path.join(bin, 'sh'), ['-c', command.replace('<database>', `'${url.toString()}'`)], {
        cwd: bareDir,
        // PATH, and libpq's own password variable (a password never goes on a command line).
        env: { PATH: bin, PGPASSWORD: fresh.ownerPassword },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const restored = await contentOf(fresh.url);
      expect(restored).toEqual(await contentOf(world.target.url));
      expect(restored).toMatchObject({ projects: 2, people: 3 });
    } finally {
      await fresh.drop();
    }
  });

  it('restores it from the panel: the dialog asks for the identity, refuses a wrong one, takes the key file', async () => {
    const original = await contentOf(world.target.url);
    await world.query('DELETE FROM public.people WHERE project_id = 2');
    expect(await contentOf(world.target.url)).not.toEqual(original);

    const row = page.locator('tbody tr', { hasText: scheduled.fileName });
    await row.getByRole('button', { name: /^Restore…/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const prompt = dialog.locator('[data-test=restore-identity]');
    expect(await prompt.textContent()).toContain('Encrypted to offline');
    await dialog.locator('[data-test=waits-for-identity]').waitFor();
    await dialog.locator('[data-test=confirm-input]').fill(world.target.name);
    await dialog.locator('[data-test=acknowledge]').check();
    expect(await dialog.locator('[data-test=confirm]').isDisabled()).toBe(true);

    // Another key: the check says so, and nothing can be confirmed.
    const other = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const field = dialog.getByLabel('Age identity');
    await field.fill(other);
    await field.blur();
    await expect
      .poll(() => dialog.locator('[data-test=restore-check-error]').textContent(), POLL)
      .toContain('This key does not open the backup');
    expect(await dialog.locator('[data-test=confirm]').isDisabled()).toBe(true);

    // The key file the Keys page saved, read in the page.
    await dialog.getByLabel('Or its key file').setInputFiles(path.join(bareDir, 'key.txt'));
    await dialog.locator('[data-test=identity-loaded]').waitFor();
    expect(await field.inputValue()).toBe('');
    await dialog.locator('[data-test=restore-mode]').waitFor();
    await expect.poll(() => dialog.locator('[data-test=confirm]').isDisabled(), POLL).toBe(false);
    expect(await page.content()).not.toContain(identity);
    await expectAccessible(page, 'restore dialog (identity)');
    await screenshot(page, 'restore-identity');
    await dialog.locator('[data-test=confirm]').click();
    await dialog.waitFor({ state: 'detached' });

    const card = page.locator('.job-card', { hasText: 'Restore job' }).first();
    await expect.poll(async () => (await card.locator('.state').textContent())?.trim(), SCHEDULED).toBe('succeeded');
    expect(await contentOf(world.target.url)).toEqual(original);

    // Kept nowhere: not in the page, the browser's storage, the jobs, the audit log or the server's errors.
    expect(await page.content()).not.toContain(identity);
    const stored = await page.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    );
    expect(stored).not.toContain(identity);
    const secret = identity.slice('AGE-SECRET-KEY-1'.length);
    const rows = (await world.app.db.execute(
      `SELECT (SELECT string_agg(j::text, '') FROM jobs j) || (SELECT string_agg(a::text, '') FROM audit_events a) AS text`,
    )) as unknown as { text: string }[];
    expect(rows[0]!.text).toContain('restore');
    expect(rows[0]!.text).not.toContain(secret);
    expect(world.serverErrors.join('\n')).not.toContain(secret);
  }, 240_000);

  it('refuses to upload the .age download with a key that does not open it, before a byte is sent', async () => {
    const panel = page.locator('div.upload');
    await panel.locator('[data-test=file-input]').setInputFiles(path.join(bareDir, 'backup.dump.zst.age'));
    const other = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const field = panel.getByLabel('Age identity');
    await field.fill(other);
    await field.blur();
    const sentBefore = sentBodies.length;
    await panel.locator('[data-test=store-upload]').click();
    // Checked in the page (age's header, with the browser's own X25519): nothing went to the server.
    await expect
      .poll(() => panel.locator('[data-test=upload-result]').textContent(), POLL)
      .toContain('This key does not open backup.dump.zst.age');
    expect(sentBodies.slice(sentBefore).filter((body) => body.includes('uploadBackup'))).toEqual([]);
    await panel.getByRole('button', { name: 'Clear' }).click();
  });

  it('shows the backup’s recipients and both complete copies on its page', async () => {
    // By its file name exactly: the safety snapshot's description names the restored file too.
    await page
      .locator('[data-test=backup-details-link]')
      .filter({ has: page.getByText(scheduled.fileName, { exact: true }) })
      .click();
    await expect
      .poll(() => page.locator('[data-test=backup-encryption]').textContent(), POLL)
      .toContain('age, to offline');
    const copies = page.locator('[data-test=backup-copies] tbody tr');
    expect(await copies.allInnerTexts()).toEqual([
      expect.stringMatching(/local \(local\)\s*Complete/),
      expect.stringMatching(/offsite \(s3\)\s*Complete/),
    ]);
    await expectAccessible(page, 'backup details (encrypted, two copies)');
  });
});
