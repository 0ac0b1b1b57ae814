// The admin panel end to end: the real server on a throwaway PostgreSQL, the built panel, Chromium.
// One browser page walks through the flows in order (log in, back up, download, restore, upload,
// settings tabs, phone width, log out); axe checks the main screens, and screenshots land in
// docs/screenshots/.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BROKEN_PLAIN_DUMP } from '@pgbs/test-support';
import { POLL, expectAccessible as checkAccessible, screenshot as takeScreenshot } from './page-checks.js';
import { ADMIN, type World, filesIn, startWorld } from './world.js';

let world: World;
let context: BrowserContext;
let page: Page;

const screenshot = (name: string) => takeScreenshot(page, name);
const expectAccessible = (screen: string) => checkAccessible(page, screen);

/** A GraphQL request with the page's cookies (the session, if any). */
async function api<T>(query: string): Promise<{ data?: T; errors?: { extensions?: { code?: string } }[] }> {
  const response = await page.request.post('/graphql', { data: { query } });
  return (await response.json()) as never;
}

async function activeElementText(): Promise<string> {
  return page.evaluate(() => (document.activeElement as HTMLElement | null)?.innerText?.trim() ?? '');
}

function jobCard(kind: 'Backup' | 'Restore'): Locator {
  return page.locator('.job-card', { hasText: `${kind} job` });
}

/** Waits until the job card of `kind` reports success at 100 %, then dismisses it. */
async function expectJobSucceeded(kind: 'Backup' | 'Restore'): Promise<void> {
  const card = jobCard(kind).first();
  await expect.poll(async () => (await card.locator('.state').textContent())?.trim(), POLL).toBe('succeeded');
  expect((await card.locator('[data-test=percent]').textContent())?.trim()).toBe('100 %');
  expect(await card.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
  await card.getByRole('button', { name: 'Dismiss' }).click();
  await card.waitFor({ state: 'detached' });
}

function confirmationDialog(): Locator {
  return page.getByRole('dialog');
}

const BACKUP_DESCRIPTION = 'e2e before release';

describe('admin panel', () => {
  beforeAll(async () => {
    world = await startWorld(inject('pgAdminUrl'));
    context = await world.browser.newContext({
      baseURL: world.http.url,
      viewport: { width: 1280, height: 800 },
      acceptDownloads: true,
    });
    page = await context.newPage();
  });

  afterAll(async () => {
    if (world?.serverErrors.length) console.error('server errors:\n' + world.serverErrors.join('\n'));
    await context?.close().catch(() => {});
    await world?.close();
  });

  it('sends an unknown visitor to the login page, which is accessible, and logs in', async () => {
    await page.goto('/settings/backups');
    await page.waitForURL(/\/login\?redirect=/);
    await page.getByRole('heading', { name: /pgbs/ }).waitFor();
    await expectAccessible('login');
    await screenshot('login');

    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.notice, [role=alert]').first().waitFor();
    expect(page.url()).toContain('/login');
    await page.getByText('Log in to continue where you were.').waitFor();

    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/settings/backups');
    await page.getByRole('heading', { name: 'Backup & Restore', level: 1 }).waitFor();
    await page.locator('[data-test=backups-empty]').waitFor();
    await expectAccessible('backups (empty)');
  });

  it('creates a backup and follows its job to 100 %', async () => {
    // A table lock held by another session keeps the job running long enough to be seen.
    const sql = postgres(world.target.url, { max: 1, onnotice: () => {} });
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked = () => {};
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holding = sql.begin(async (tx) => {
      await tx`LOCK TABLE projects IN ACCESS EXCLUSIVE MODE`;
      locked();
      await released;
    });
    try {
      await isLocked;
      await page
        .getByLabel(/^Description/)
        .first()
        .fill(`  ${BACKUP_DESCRIPTION}  `);
      await page.getByRole('button', { name: 'Create backup' }).click();
      const card = jobCard('Backup');
      await card.locator('.state.running').waitFor();
      await card.getByRole('progressbar').waitFor();
      await expectAccessible('backups (running job)');
      await screenshot('backups-running');
    } finally {
      release();
      await holding;
      await sql.end();
    }
    await expectJobSucceeded('Backup');
    // The description was trimmed; the new backup is listed.
    await page.locator('tr', { hasText: BACKUP_DESCRIPTION }).waitFor();
    await expectAccessible('backups (one backup)');
  });

  it('downloads the backup with the checksum the API reports', async () => {
    const listed = await api<{ backups: { items: { fileName: string; sha256: string; description: string }[] } }>(
      '{ backups { items { fileName sha256 description } } }',
    );
    const backup = listed.data?.backups.items.find((item) => item.description === BACKUP_DESCRIPTION);
    expect(backup).toBeDefined();

    const row = page.locator('tr', { hasText: BACKUP_DESCRIPTION });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('button', { name: /^Download/ }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(backup!.fileName);
    const bytes = await readFile(await download.path());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(backup!.sha256);
  });

  it('the confirmation dialog (delete) is accessible and Esc cancels it', async () => {
    const row = page.locator('tr', { hasText: BACKUP_DESCRIPTION });
    await row.getByRole('button', { name: /^Delete/ }).click();
    const dialog = confirmationDialog();
    await dialog.waitFor();
    await expectAccessible('confirmation dialog');
    expect(await dialog.locator('[data-test=confirm]').isDisabled()).toBe(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await row.waitFor();
  });

  it('restores a backup by keyboard only; a wrong name keeps the button disabled; Esc cancels', async () => {
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    // Tab from the top of the page to the backup's Restore button.
    let reached = false;
    for (let presses = 0; presses < 100 && !reached; presses += 1) {
      await page.keyboard.press('Tab');
      reached = (await activeElementText()).startsWith('Restore…');
    }
    expect(reached, 'the Restore button is reachable with Tab').toBe(true);

    await page.keyboard.press('Enter');
    const dialog = confirmationDialog();
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-test'))).toBe('confirm-input');
    // The server's pre-flight: the owner connection restores as the owner, and nothing stands in the way.
    const mode = dialog.locator('[data-test=restore-mode]');
    await mode.waitFor();
    expect(await mode.textContent()).toContain(world.target.owner);
    expect(await dialog.locator('[data-test=unrestorable], [data-test=source-mismatch]').count()).toBe(0);
    await expectAccessible('restore dialog');
    await screenshot('restore-dialog');

    // A wrong name, with the acknowledgement ticked: still no way to confirm, not even with Enter.
    await page.keyboard.type('not_the_database');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-test'))).toBe('acknowledge');
    await page.keyboard.press('Space');
    expect(await dialog.locator('[data-test=acknowledge]').isChecked()).toBe(true);
    expect(await dialog.locator('[data-test=confirm]').isDisabled()).toBe(true);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect(await dialog.isVisible()).toBe(true);
    expect(await dialog.locator('[data-test=confirm]').isDisabled()).toBe(true);

    // Esc cancels, and focus returns to the Restore button.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await activeElementText()).toMatch(/^Restore…/);

    // Again, right: name, Shift+Tab, Space to acknowledge, Tab Tab Tab to the confirm button, Enter.
    await page.keyboard.press('Enter');
    await dialog.locator('[data-test=restore-mode]').waitFor();
    await page.keyboard.type(world.target.name);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-test'))).toBe('confirm');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await expectJobSucceeded('Restore');
    const projects = await world.query<{ name: string }>('SELECT name FROM projects ORDER BY id');
    expect(projects.map((project) => project.name)).toEqual(['Apollo', 'Gemini']);
  });

  it('uploads a .sql.gz from another database, restores it after the confirmation, and the data changes', async () => {
    const before = await world.query<{ name: string }>('SELECT name FROM projects ORDER BY id');
    expect(before.map((project) => project.name)).toEqual(['Apollo', 'Gemini']);

    await page.locator('[data-test=file-input]').setInputFiles(world.uploadFile);
    await page.getByText('staging-export.sql.gz').waitFor();
    await page.locator('[data-test=restore-upload]').click();
    const dialog = confirmationDialog();
    await dialog.waitFor();
    await dialog.locator('[data-test=confirm-input]').fill(world.target.name);
    await dialog.locator('[data-test=acknowledge]').check();
    await dialog.locator('[data-test=confirm]').click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('Restoring from staging-export.sql.gz').waitFor({ timeout: 30_000 });
    await expectJobSucceeded('Restore');
    // The job card told the outcome: the "follow it" notice is gone with the job.
    await page.getByText('Restoring from staging-export.sql.gz').waitFor({ state: 'detached' });

    const projects = await world.query<{ name: string }>('SELECT name FROM projects ORDER BY id');
    expect(projects.map((project) => project.name)).toEqual(['Mercury', 'Voyager', 'Ünïcode ✓']);
    const people = await world.query<{ count: string }>('SELECT count(*)::text AS count FROM people');
    expect(people[0]?.count).toBe('2');
  });

  it('shows why a restore failed: the code in words, the failing entry and the server’s message', async () => {
    const broken = path.join(world.workDir, 'broken-export.sql');
    await writeFile(broken, BROKEN_PLAIN_DUMP);
    await page.locator('[data-test=file-input]').setInputFiles(broken);
    await page.locator('[data-test=restore-upload]').click();
    const dialog = confirmationDialog();
    await dialog.waitFor();
    await dialog.locator('[data-test=confirm-input]').fill(world.target.name);
    await dialog.locator('[data-test=acknowledge]').check();
    await dialog.locator('[data-test=confirm]').click();
    await dialog.waitFor({ state: 'detached' });
    const card = jobCard('Restore').first();
    const failure = card.locator('[data-test=job-failure]');
    await failure.waitFor(POLL);
    expect(await failure.textContent()).toContain('rolled back');
    expect(await failure.locator('[data-test=failed-entry]').textContent()).toContain(
      'the data of table public.broken',
    );
    expect(await failure.locator('[data-test=server-message]').textContent()).toContain('not a number');
    await card.scrollIntoViewIfNeeded();
    await expectAccessible('failed restore');
    await screenshot('restore-failed');
    await card.getByRole('button', { name: 'Dismiss' }).click();
    await card.waitFor({ state: 'detached' });
    // Nothing changed: the data of the upload before is still there.
    const projects = await world.query<{ name: string }>('SELECT name FROM projects ORDER BY id');
    expect(projects.map((project) => project.name)).toEqual(['Mercury', 'Voyager', 'Ünïcode ✓']);
  });

  it('details a backup: versions, source database, checksum, the job that made it, tables with sizes and rows', async () => {
    await page.locator('tr', { hasText: BACKUP_DESCRIPTION }).locator('[data-test=backup-details-link]').click();
    await page.waitForURL(/\/settings\/backups\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: 'Backup details', level: 1 }).waitFor();
    expect(await page.locator('[data-test=source-database]').textContent()).toBe(world.target.name);
    expect(await page.locator('[data-test=server-version]').textContent()).toMatch(/^\d+/);
    expect(await page.locator('[data-test=client-version]').textContent()).toMatch(/^\d+/);
    expect(await page.locator('[data-test=sha256]').textContent()).toMatch(/SHA-256 [0-9a-f]{64}/);
    const madeBy = await page.locator('[data-test=made-by-job]').textContent();
    expect(madeBy).toContain('Backup job');
    expect(madeBy).toContain(`run by ${ADMIN.email}`);
    const tables = page.locator('tbody tr');
    expect((await tables.allTextContents()).join('\n')).toMatch(/public\.people[\s\S]*public\.projects/);
    await expectAccessible('backup details');
    await screenshot('backup-details');
    await page.getByRole('link', { name: '← Backups' }).click();
    await page.waitForURL('**/settings/backups');
  });

  it('cancels an upload midway and leaves no temp file behind', async () => {
    const tempDir = world.app.uploadSpoolDir;
    const bigFile = path.join(world.workDir, 'huge-export.sql.gz');
    await writeFile(bigFile, Buffer.alloc(24 * 1024 * 1024, 7));
    const totalBefore = (await api<{ backups: { total: number } }>('{ backups { total } }')).data?.backups.total;

    // Upload at ~1 MB/s: the transfer lasts long enough to be cancelled midway.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 1024 * 1024,
    });
    try {
      await page.locator('[data-test=file-input]').setInputFiles(bigFile);
      await page.locator('[data-test=store-upload]').click();
      const progress = page.locator('[data-test=upload-progress]');
      await progress.waitFor();
      // Midway: some bytes sent, and the server is spooling them to a temp file.
      await expect
        .poll(
          async () => (await filesIn(tempDir)).length > 0 && !(await progress.textContent())?.includes(' 0 %'),
          POLL,
        )
        .toBe(true);
      await page.getByRole('button', { name: 'Cancel upload' }).click();
      await page.getByText('Upload cancelled. Nothing was stored.').waitFor();
    } finally {
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
      await cdp.detach();
    }
    await expect.poll(() => filesIn(tempDir), POLL).toEqual([]);
    const totalAfter = (await api<{ backups: { total: number } }>('{ backups { total } }')).data?.backups.total;
    expect(totalAfter).toBe(totalBefore);
  });

  it('moves between the settings tabs, highlights the active one, and deep links work', async () => {
    const nav = page.getByRole('navigation', { name: 'Settings' });
    const sections = [
      { label: 'General', path: '/settings/general', heading: 'General' },
      { label: 'Jobs', path: '/settings/jobs', heading: 'Jobs' },
      { label: 'Audit log', path: '/settings/audit', heading: 'Audit log' },
      { label: 'API tokens', path: '/settings/tokens', heading: 'API tokens' },
      { label: 'Destinations', path: '/settings/destinations', heading: 'Destinations' },
      { label: 'Backup & Restore', path: '/settings/backups', heading: 'Backup & Restore' },
    ];
    for (const section of sections) {
      await nav.getByRole('link', { name: section.label }).click();
      await page.waitForURL(`**${section.path}`);
      await page.getByRole('heading', { name: section.heading, level: 1 }).waitFor();
      const current = nav.locator('[aria-current=page]');
      expect(await current.count()).toBe(1);
      expect((await current.textContent())?.trim()).toBe(section.label);
      expect(await current.getAttribute('class')).toContain('active');
      if (section.label === 'General') {
        await page.getByText('PostgreSQL server').waitFor();
        // The world connects as the target's owner, a role that is no superuser: no warnings.
        const role = page.locator('[data-test=connection-role]');
        await role.waitFor();
        expect(await role.innerText()).toMatch(
          new RegExp(
            `Connects as\\s+${world.target.owner}\\s+Database owner\\s+${world.target.owner}\\s+Restore mode\\s+Owner`,
          ),
        );
        expect(await page.locator('[data-test=superuser-connection], [data-test=owner-risks]').count()).toBe(0);
        await expectAccessible('general');
        await screenshot('general');
      }
      if (section.label === 'Jobs') {
        // Finished jobs stay listed across reloads, with outcome, duration and who ran them.
        await page.reload();
        const history = page.locator('tbody tr');
        await history.first().waitFor();
        const texts = await history.allTextContents();
        // Job, target (its name), outcome.
        expect(texts.some((text) => /Restore\s*\S+\s*Failed.*rolled back/.test(text))).toBe(true);
        expect(texts.some((text) => /Backup\s*\S+\s*Succeeded/.test(text) && text.includes(ADMIN.email))).toBe(true);
        expect(texts.every((text) => /\d+ s|less than a second|min/.test(text))).toBe(true);
        await expectAccessible('jobs history');
        await screenshot('jobs-history');
      }
      if (section.label === 'Audit log') {
        // A part of the action finds it; the cancelled and failed are told apart in words.
        await page.locator('[data-test=audit-action]').fill('restore');
        await page.locator('[data-test=audit-action]').press('Enter');
        await expect
          .poll(async () => new Set(await page.locator('tbody tr td:nth-child(2)').allTextContents()), POLL)
          .toEqual(new Set(['backup.restore']));
        expect(await page.locator('[data-test=audit-details]').first().textContent()).not.toContain('{');
        await screenshot('audit-filtered');
      }
    }

    await page.goto('/settings/general');
    await page.goto('/settings/backups');
    await page.getByRole('heading', { name: 'Backup & Restore', level: 1 }).waitFor();
    expect((await nav.locator('[aria-current=page]').textContent())?.trim()).toBe('Backup & Restore');
  });

  it('lists at least 12 backups on one 1280×800 screen, one line each, and finds them with the filters', async () => {
    // Real backups of the target, made through the service (one job at a time, as the panel would).
    for (let n = 1; n <= 12; n += 1) {
      const description =
        n % 3 === 0 ? `nightly ${n}: a long description that has to be cut to fit on one line` : `nightly ${n}`;
      const started = await world.app.backups.createBackup({ description }, { name: ADMIN.email });
      expect((await started.done).state).toBe('succeeded');
    }
    await page.goto('/settings/backups');
    const table = page.locator('table', { has: page.locator('[data-test=backup-details-link]') });
    const rows = table.locator('tbody tr');
    await expect.poll(() => rows.count(), POLL).toBeGreaterThanOrEqual(14);
    const unfiltered = await rows.count();
    await table.evaluate((element) => element.scrollIntoView({ block: 'start' }));
    const layout = await rows.evaluateAll((elements) =>
      elements.map((row) => {
        const box = row.getBoundingClientRect();
        const lineHeight = parseFloat(getComputedStyle(row.querySelector('td')!).lineHeight);
        // A wrapped cell has more than one line box in one of its text elements.
        const wrapped = [...row.querySelectorAll('time, .description, .file-name, [data-test=checksum], button')].some(
          (element) => element.getClientRects().length > 1 || element.getBoundingClientRect().height > lineHeight * 1.6,
        );
        return { top: box.top, bottom: box.bottom, height: box.height, wrapped };
      }),
    );
    const visible = layout.filter((row) => row.top >= 0 && row.bottom <= 800);
    expect(visible.length, JSON.stringify(layout.slice(0, 3))).toBeGreaterThanOrEqual(12);
    expect(visible.filter((row) => row.wrapped)).toEqual([]);
    expect(Math.max(...visible.map((row) => row.height))).toBeLessThan(44);
    // Every action is on screen: the table does not scroll sideways to reach them.
    const fits = await table.evaluate((element) => {
      const wrap = element.parentElement!;
      return { scrollWidth: wrap.scrollWidth, clientWidth: wrap.clientWidth };
    });
    expect(fits.scrollWidth).toBeLessThanOrEqual(fits.clientWidth);
    const deleteBox = await rows
      .first()
      .getByRole('button', { name: /^Delete/ })
      .boundingBox();
    expect(deleteBox!.x + deleteBox!.width).toBeLessThanOrEqual(1280);
    await screenshot('backups-compact');

    // Text (any case), origin and dates narrow the list; the server counts the matches.
    await page.locator('[data-test=backup-search]').fill('NIGHTLY 1');
    await expect
      .poll(() => rows.allTextContents(), POLL)
      .toEqual([
        expect.stringContaining('nightly 12'),
        expect.stringContaining('nightly 11'),
        expect.stringContaining('nightly 10'),
        expect.stringContaining('nightly 1'),
      ]);
    await page.locator('[data-test=backup-origin]').selectOption('pre-restore-snapshot');
    await page.locator('[data-test=backups-none-match]').waitFor();
    await page.locator('[data-test=backup-search]').fill('');
    // The restores above took safety snapshots; only they are listed.
    await expect
      .poll(async () => {
        const texts = await rows.allTextContents();
        return texts.length >= 2 && texts.every((text) => text.includes('Safety snapshot'));
      }, POLL)
      .toBe(true);
    const today = await page.evaluate(() => new Date().toLocaleDateString('en-CA'));
    await page.locator('[data-test=backup-to]').fill('2000-01-01');
    await page.locator('[data-test=backups-none-match]').waitFor();
    await page.locator('[data-test=backup-to]').fill(today);
    await page.locator('[data-test=backup-from]').fill(today);
    await expect.poll(() => rows.count(), POLL).toBeGreaterThanOrEqual(2);
    await expectAccessible('backups (filtered)');
    await screenshot('backups-filtered');
    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => rows.count(), POLL).toBe(unfiltered);
  });

  it('fits a phone: no horizontal page scroll on the backups screen at 375×740', async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    try {
      await page.goto('/settings/backups');
      await page.locator('tr', { hasText: BACKUP_DESCRIPTION }).waitFor();
      const { scrollWidth, innerWidth } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
      }));
      expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
      await screenshot('phone');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('logs out: back to the login page, and the API refuses the old session', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login/);
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(await page.locator('[data-test=logged-out]').textContent()).toBe('You have logged out.');
    const refused = await api('{ backups { total } }');
    expect(refused.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
    await page.goto('/settings/general');
    await page.waitForURL(/\/login\?redirect=/);
  });
});
