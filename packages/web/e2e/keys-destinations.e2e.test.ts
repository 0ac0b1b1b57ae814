// A newcomer's encrypted, off-site setup in the browser: generate an age key (its identity shown
// once, downloaded as a file made in the page), add an S3-compatible destination (s3rver, started
// here by the test-support helper), and send the target's backups to the local disk and S3,
// encrypted to the key. That backups then land on both is asserted once the backend writes copies.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type S3TestServer, startS3Server } from '@pgbs/test-support';
import { POLL, expectAccessible, screenshot } from './page-checks.js';
import { ADMIN, type World, startWorld } from './world.js';

const BUCKET = 'pgbs-e2e';

let world: World;
let s3: S3TestServer;
let context: BrowserContext;
let page: Page;
/** Every request body the page sent, to show the identity never leaves it. */
const sentBodies: string[] = [];
let identity = '';

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
    world = await startWorld(inject('pgAdminUrl'), { MASTER_KEY: randomBytes(32).toString('base64') });
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
    const file = await readFile((await download.path())!, 'utf8');
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
    const target = targets[0]!;
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
});
