// The newcomer's path end to end: log in, add a second database as a target, test its connection,
// give it a schedule and a GFS policy (keep last 2), run it, watch backups appear and the oldest go,
// restore one into a third database chosen in the restore dialog, and see it all on the dashboard. The scheduled and "run now" backups run on the job queue.
import { randomBytes } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type TestDatabase, createTestDatabase, withSql } from '@pgbs/test-support';
import { POLL, expectAccessible, screenshot } from './page-checks.js';
import { ADMIN, type World, startWorld } from './world.js';

/** Backups run, one a minute plus two asked for: long enough for a slot to come and a prune to follow. */
const RUNS = { timeout: 150_000, interval: 500 };

let world: World;
let context: BrowserContext;
let page: Page;
let shop: TestDatabase;
/** The second database's URL as a person types it: no password in it. */
let shopUrl: string;
/** A third database of the same application (same owner), where a backup of shop is restored. */
let shopCopy: TestDatabase;

const withoutPassword = (url: string) => {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
};

interface BackupItem {
  id: string;
  fileName: string;
  createdAt: string;
}

async function listedBackups(): Promise<BackupItem[]> {
  const response = await page.request.post('/graphql', {
    data: { query: '{ backups(limit: 100) { items { id fileName createdAt } } }' },
  });
  const body = (await response.json()) as { data?: { backups: { items: BackupItem[] } } };
  return body.data?.backups.items ?? [];
}

const nav = () => page.getByRole('navigation', { name: 'Settings' });

async function openSection(label: string): Promise<void> {
  await nav().getByRole('link', { name: label }).click();
  await page.getByRole('heading', { name: label, level: 1 }).waitFor();
}

describe('automation: a second database on a schedule with retention', () => {
  beforeAll(async () => {
    const adminUrl = inject('pgAdminUrl');
    world = await startWorld(adminUrl, { MASTER_KEY: randomBytes(32).toString('base64') });
    shop = await createTestDatabase(adminUrl, 'e2e_shop');
    await withSql(shop.url, (sql) =>
      sql.unsafe(`CREATE TABLE orders (id integer PRIMARY KEY, total numeric NOT NULL);
                  INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 500) g;`),
    );
    shopUrl = withoutPassword(shop.url);
    shopCopy = await createTestDatabase(adminUrl, 'e2e_shop_copy', { owner: shop });
    context = await world.browser.newContext({ baseURL: world.http.url, viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
  });

  afterAll(async () => {
    if (world?.serverErrors.length) console.error('server errors:\n' + world.serverErrors.join('\n'));
    // No slot may start a backup of a database that is about to be dropped.
    await world?.app.db.execute('UPDATE schedules SET paused = true').catch(() => {});
    await context?.close().catch(() => {});
    await world?.close();
    await shop?.drop().catch(() => {});
    await shopCopy?.drop().catch(() => {});
  });

  it('logs in to the dashboard, which tells a newcomer to add a target', async () => {
    await page.goto('/');
    await page.waitForURL(/\/login/);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/settings/dashboard');
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    const start = page.locator('[data-test=dashboard-start]');
    await start.waitFor();
    expect(await start.textContent()).toContain('add a target');
    await expectAccessible(page, 'dashboard (newcomer)');
    await screenshot(page, 'dashboard-empty');
  });

  it('adds the second database with its password, which stays out of every address, and tests it', async () => {
    await openSection('Targets');
    await page.getByLabel('Name').fill('shop');
    await page.getByLabel('URL').fill(shopUrl);
    await page.getByLabel('Password', { exact: true }).fill(shop.ownerPassword);
    await page.getByRole('button', { name: 'Add target' }).click();
    await expect
      .poll(() => page.locator('[data-test=targets-notice]').textContent(), POLL)
      .toContain('Target “shop” added');
    const row = page.locator('tbody tr', { hasText: 'shop' });
    await row.waitFor();
    expect(page.url()).not.toContain(shop.ownerPassword);
    expect(await row.textContent()).not.toContain(shop.ownerPassword);
    expect(await page.getByLabel('Password', { exact: true }).inputValue()).toBe('');

    await row.getByRole('button', { name: 'Test connection of shop' }).click();
    const result = page.locator('[data-test=test-result]');
    await result.waitFor();
    expect(await result.textContent()).toContain('Connected.');
    const facts = await page.locator('[data-test=test-facts]').innerText();
    expect(facts).toMatch(new RegExp(`Connects as\\s+${shop.owner}`));
    expect(facts).toMatch(/PostgreSQL\s+\d+/);
    await expect.poll(() => row.textContent(), POLL).toMatch(/OK ·/);
    await expectAccessible(page, 'targets');
    await screenshot(page, 'targets');
  });

  it('gives it a schedule every minute in the browser’s time zone and shows the next 5 runs', async () => {
    await openSection('Schedules');
    await page.getByLabel('Target').selectOption('shop');
    await page.waitForURL(/target=shop/);
    const browserZone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(await page.getByLabel('Time zone').inputValue()).toBe(browserZone);
    await page.getByLabel('Cron expression').fill('* * * * *');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await expect
      .poll(() => page.locator('[data-test=schedule-notice]').textContent(), POLL)
      .toContain('Schedule of shop saved');
    await expect.poll(() => page.locator('[data-test=next-runs] li').count(), POLL).toBe(5);
    await expectAccessible(page, 'schedules');
    await screenshot(page, 'schedules');
  });

  it('previews a keep-last 2 policy before saving it', async () => {
    await openSection('Retention');
    await page.getByLabel('Target').selectOption('shop');
    // The target's own policy: the per-destination rules below have count fields of the same names.
    await page.locator('[data-test=policy-form]').getByLabel('Keep last').fill('2');
    const save = page.getByRole('button', { name: 'Save policy' });
    expect(await save.isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect
      .poll(() => page.locator('[data-test=preview-summary]').textContent(), POLL)
      .toMatch(/0\s*of 0 backups would be deleted/);
    await save.click();
    await expect
      .poll(() => page.locator('[data-test=policy-notice]').textContent(), POLL)
      .toContain('Policy of shop saved');
    await expectAccessible(page, 'retention');
  });

  it('runs it now twice; backups appear, and after the next slot the oldest goes', async () => {
    await openSection('Schedules');
    await page.getByLabel('Target').selectOption('shop');
    for (let n = 0; n < 2; n += 1) {
      await page.getByRole('button', { name: 'Run now' }).click();
      await expect
        .poll(() => page.locator('[data-test=schedule-notice]').textContent(), POLL)
        .toContain('A backup was queued');
      // One after the other: the second "run now" must not find the first still running.
      if (n === 0) await expect.poll(async () => (await listedBackups()).length, RUNS).toBeGreaterThanOrEqual(1);
    }
    const seen = new Map<string, BackupItem>();
    const remember = async () => {
      const items = await listedBackups();
      for (const item of items) seen.set(item.id, item);
      return items;
    };
    await expect.poll(async () => (await remember()).length, RUNS).toBeGreaterThanOrEqual(2);
    const oldest = [...seen.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0]!;
    // A scheduled slot makes a third; the prune after it keeps the newest 2.
    await expect
      .poll(async () => {
        const items = await remember();
        return seen.size >= 3 && items.length <= 2 && !items.some((item) => item.id === oldest.id);
      }, RUNS)
      .toBe(true);

    // The schedule's records show the slot that ran.
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => page.locator('tbody tr', { hasText: 'Ran' }).count(), POLL).toBeGreaterThanOrEqual(1);

    // The backup list, filtered to the target, shows the kept ones and not the pruned one.
    await openSection('Backup & Restore');
    await page.locator('[data-test=target-filter]').selectOption({ label: 'shop' });
    const names = page.locator('[data-test=backup-details-link] .file-name');
    await expect.poll(() => names.count(), POLL).toBeLessThanOrEqual(2);
    expect(await names.allTextContents()).not.toContain(oldest.fileName);
    await screenshot(page, 'backups-of-target');
  }, 240_000);

  it('restores a backup of shop into another target chosen in the dialog, confirmed by that database’s name', async () => {
    // Added through the API: adding a target in the browser is the step above.
    const added = await page.request.post('/graphql', {
      data: {
        query: 'mutation ($input: AddTargetInput!) { addTarget(input: $input) { __typename } }',
        variables: {
          input: { name: 'shop-copy', url: withoutPassword(shopCopy.url), password: shopCopy.ownerPassword },
        },
      },
    });
    expect(await added.json()).toEqual({ data: { addTarget: { __typename: 'MutationAddTargetSuccess' } } });

    // Listed on the Targets page, and so offered by the restore dialog.
    await openSection('Targets');
    await page.locator('tbody tr', { hasText: 'shop-copy' }).waitFor();
    await openSection('Backup & Restore');
    await page.locator('[data-test=target-filter]').selectOption({ label: 'shop' });
    // The newest: the schedule's prune only removes the oldest.
    const row = page.locator('tbody tr', { has: page.getByRole('button', { name: /^Restore…/ }) }).first();
    await row.getByRole('button', { name: /^Restore…/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const choice = dialog.locator('[data-test=restore-target-select]');
    const options = async () => (await choice.locator('option').allTextContents()).map((text) => text.trim());
    expect((await options())[0]).toBe(`shop (database ${shop.name}) — this backup’s own target`);
    expect(await options()).toContain(`shop-copy (database ${shopCopy.name})`);
    expect(await choice.inputValue()).toBe(await choice.locator('option').first().getAttribute('value'));
    await choice.selectOption({ label: `shop-copy (database ${shopCopy.name})` });
    expect(await dialog.locator('[data-test=other-target]').textContent()).toContain(
      `This backup was taken of target shop. It will be restored into another target, shop-copy, whose database “${shopCopy.name}” will be replaced.`,
    );
    expect(await dialog.locator('p.warning').textContent()).toContain(
      `All current data in target shop-copy (database “${shopCopy.name}”) will be replaced`,
    );
    // Checked against shop-copy: a backup of another database, to acknowledge.
    await dialog.locator('[data-test=accept-source-mismatch]').check();
    await dialog.locator('[data-test=acknowledge]').check();
    await dialog.locator('[data-test=confirm-input]').fill(shop.name);
    expect(await dialog.locator('[data-test=confirm]').isDisabled()).toBe(true);
    await dialog.locator('[data-test=confirm-input]').fill(shopCopy.name);
    await expect.poll(() => dialog.locator('[data-test=confirm]').isDisabled(), POLL).toBe(false);
    await expectAccessible(page, 'restore dialog (another target)');
    await screenshot(page, 'restore-other-target');
    await dialog.locator('[data-test=confirm]').click();
    await dialog.waitFor({ state: 'detached' });

    const orders = (url: string) =>
      withSql(url, async (sql) => (await sql`SELECT count(*)::int AS n FROM orders`)[0]!['n'] as number).catch(() => 0);
    await expect.poll(() => orders(shopCopy.url), RUNS).toBe(500);
    expect(await orders(shop.url)).toBe(500);
  }, 240_000);

  it('shows the last success, the next run and no failures on the dashboard, also at phone width', async () => {
    await openSection('Dashboard');
    const card = page.locator('[data-test=dashboard-shop]');
    await card.waitFor();
    expect(await page.locator('[data-test=dashboard-start]').count()).toBe(0);
    expect(await card.locator('[data-test=last-success]').textContent()).not.toContain('never');
    expect(await card.locator('[data-test=last-success] time').getAttribute('datetime')).toMatch(/^\d{4}-/);
    const next = await card.locator('[data-test=next-run] time').getAttribute('datetime');
    expect(Date.parse(next!)).toBeGreaterThan(Date.now() - 60_000);
    expect(await card.locator('[data-test=failures]').textContent()).toContain('none since the last success');
    expect(await card.locator('[data-test=pruning-paused]').count()).toBe(0);
    expect(await card.locator('[data-test=size-trend] polyline').getAttribute('points')).toBeTruthy();
    await expectAccessible(page, 'dashboard');
    await screenshot(page, 'dashboard');

    await page.setViewportSize({ width: 375, height: 740 });
    try {
      const { scrollWidth, innerWidth } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
      }));
      expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
      await screenshot(page, 'dashboard-phone');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });
});
