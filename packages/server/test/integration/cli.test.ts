import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadFeatureRichSchema, withSql } from '@pgbs/test-support';
import { eq } from 'drizzle-orm';
import { backups } from '../../src/db/schema.js';
import { cli } from './cli-process.js';
import { type TestEnv, createTestEnv } from './harness.js';

const adminUrl = inject('pgAdminUrl');

describe('CLI', () => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'cli');
    await loadFeatureRichSchema(env.target.url);
  });
  afterAll(async () => env?.cleanup());

  it('creates, lists, shows, verifies, restores and deletes a backup, with JSON output', async () => {
    const created = await cli(env.env, ['backup', 'create', '--description', 'from the CLI', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { job, backup } = JSON.parse(created.stdout);
    expect(job.state).toBe('succeeded');
    expect(backup.description).toBe('from the CLI');

    const list = JSON.parse((await cli(env.env, ['backup', 'list', '--json'])).stdout);
    expect(list.map((b: { id: string }) => b.id)).toEqual([backup.id]);

    const show = JSON.parse((await cli(env.env, ['backup', 'show', backup.id, '--json'])).stdout);
    expect(show.contents.tables).toContain('app.customers');
    // Without --json too: the source database and every table with its size and row count.
    const shown = (await cli(env.env, ['backup', 'show', backup.id])).stdout;
    expect(shown).toContain(`source:      database ${env.target.name}`);
    expect(shown).toMatch(/^app\.customers\s+\d[\d.]* [KMG]?i?B\s+(~\d+|\?)$/m);

    const verify = await cli(env.env, ['backup', 'verify', backup.id]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/verify succeeded/);

    await withSql(env.target.url, (sql) => sql`CREATE TABLE public.made_after (id int)`);
    // Not a TTY: plain progress lines on stderr; the confirmation is read from stdin.
    const restore = await cli(env.env, ['backup', 'restore', backup.id, '--no-snapshot'], `${env.target.name}\n`);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stderr).toMatch(/100\.0% done/);
    const [row] = await withSql(
      env.target.url,
      (sql) => sql`SELECT to_regclass('public.made_after') IS NOT NULL AS exists`,
    );
    expect(row!.exists).toBe(false);

    const deleted = await cli(env.env, ['backup', 'delete', backup.id, '--yes']);
    expect(deleted.code, deleted.stderr).toBe(0);
  });

  it('refuses a restore when the typed name is wrong, and changes nothing', async () => {
    const created = JSON.parse((await cli(env.env, ['backup', 'create', '--json'])).stdout);
    await withSql(env.target.url, (sql) => sql`CREATE TABLE public.keep_me (id int)`);
    const restore = await cli(env.env, ['backup', 'restore', created.backup.id], 'not-the-name\n');
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain('error [restore/confirmation-mismatch]');
    const [row] = await withSql(
      env.target.url,
      (sql) => sql`SELECT to_regclass('public.keep_me') IS NOT NULL AS exists`,
    );
    expect(row!.exists).toBe(true);
  });

  it('exits non-zero with a coded error, as JSON too', async () => {
    const missing = await cli(env.env, ['backup', 'show', '00000000-0000-0000-0000-000000000000']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error [backup/not-found]');
    const json = await cli(env.env, ['backup', 'verify', 'nope', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'backup/not-found', message: expect.any(String) } });
    const usage = await cli(env.env, ['backup', 'frobnicate']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Usage:');
  });

  it('creates an admin who can then log in', async () => {
    const created = await cli({ ...env.env, PGBS_NEW_PASSWORD: 'a-long-password-1' }, [
      'user',
      'create-admin',
      'ops@example.com',
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ email: 'ops@example.com', role: 'admin' });
    const again = await cli({ ...env.env, PGBS_NEW_PASSWORD: 'a-long-password-1' }, [
      'user',
      'create-admin',
      'ops@example.com',
    ]);
    expect(again.stderr).toContain('error [auth/user-exists]');
    const weak = await cli({ ...env.env, PGBS_NEW_PASSWORD: 'short' }, ['user', 'create-admin', 'weak@example.com']);
    expect(weak.stderr).toContain('error [input/invalid]');
  });

  it('reports every bad configuration variable and exits', async () => {
    const bad = await cli({ ...env.env, PORT: 'x', BACKUP_COMPRESSION: '42' }, ['backup', 'list']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('PORT');
    expect(bad.stderr).toContain('BACKUP_COMPRESSION');
  });

  it("prints usage per command and group, and refuses another command's option with exit code 2", async () => {
    const group = await cli(env.env, ['backup']);
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('Usage: pnpm cli backup <command>');
    expect(group.stdout).toMatch(/backup restore \[<id\|file>\] \[options\]/);
    expect(group.stdout).not.toContain('job list');

    const help = await cli(env.env, ['backup', 'restore', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: pnpm cli backup restore [<id|file>] [options]');
    expect(help.stdout).toMatch(/--no-snapshot +skip the safety snapshot/);
    expect(help.stdout).not.toContain('--description');

    const foreign = await cli(env.env, ['backup', 'list', '--format', 'plain']);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain(
      'error [cli/usage]: "backup list" has no option --format (it belongs to: backup create).',
    );
    expect(foreign.stderr).toContain('Usage: pnpm cli backup list [options]');
    expect(foreign.stdout).toBe('');

    const noValue = await cli(env.env, ['job', 'list', '--limit', '--json']);
    expect(noValue.code).toBe(2);
    expect(JSON.parse(noValue.stdout)).toEqual({
      error: { code: 'cli/usage', message: '--limit needs a value (--limit N).' },
    });
    const tooMany = await cli(env.env, ['job', 'list', '--limit', '100000']);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toContain('--limit must be an integer from 1 to 500');
    const unknown = await cli(env.env, ['jobs']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error [cli/usage]: Unknown command "jobs".');
  });

  it('lists jobs and takes unique id prefixes; an ambiguous prefix lists the candidates; --yes takes full ids only', async () => {
    const created = await cli(env.env, ['backup', 'create', '--description', 'prefixes', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { job, backup } = JSON.parse(created.stdout);

    const jobs = await cli(env.env, ['job', 'list', '--json', '--limit', '1']);
    expect(JSON.parse(jobs.stdout)).toEqual([
      expect.objectContaining({ id: job.id, kind: 'backup', state: 'succeeded' }),
    ]);
    const table = await cli(env.env, ['job', 'list']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +KIND +STATE +ATTEMPT +TARGET +STARTED \(UTC\) +DURATION +WHO$/);
    const line = table.stdout.split('\n').find((l) => l.startsWith(job.id))!;
    // The target by name (the env-managed one is named after its database); a job asked by a person has no attempts.
    expect(line).toMatch(new RegExp(`^${job.id} +backup +succeeded +- +${env.target.name} `));
    expect(line).toMatch(/\d+\.\d s +cli:\S+$/);
    // Piped, not a terminal: no colour.
    expect(table.stdout).not.toContain('\x1b[');
    const coloured = await cli({ ...env.env, FORCE_COLOR: '1' }, ['job', 'list']);
    expect(coloured.stdout).toContain('\x1b[32msucceeded\x1b[39m');

    const prefix = backup.id.slice(0, 8);
    const shown = await cli(env.env, ['backup', 'show', prefix, '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout).id).toBe(backup.id);
    const cancelled = await cli(env.env, ['job', 'cancel', job.id.slice(0, 13), '--json']);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ id: job.id, state: 'succeeded' });

    const short = await cli(env.env, ['backup', 'show', backup.id.slice(0, 7)]);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('error [backup/not-found]');
    expect(short.stderr).toContain('at least 8 characters');

    // A second catalog row whose id starts the same.
    const twin = `${prefix}-0000-4000-8000-000000000000`;
    const app = await env.startApp();
    await app.db.insert(backups).values({ ...(await app.backups.get(backup.id)), id: twin, fileName: 'twin.dump' });
    try {
      const ambiguous = await cli(env.env, ['backup', 'show', prefix]);
      expect(ambiguous.code).toBe(1);
      expect(ambiguous.stderr).toContain(`error [cli/ambiguous-id]: The prefix ${prefix} matches more than one backup`);
      expect(ambiguous.stderr).toContain(`  ${backup.id}`);
      expect(ambiguous.stderr).toContain(`  ${twin}`);

      const withYes = await cli(env.env, ['backup', 'delete', backup.id.slice(0, 20), '--yes']);
      expect(withYes.code).toBe(1);
      expect(withYes.stderr).toContain("error [cli/full-id-required]: With --yes, give the backup's full id");
      expect((await app.backups.list()).map((b) => b.id)).toContain(backup.id);
    } finally {
      await app.db.delete(backups).where(eq(backups.id, twin));
    }
  });

  it('prints the id of the safety snapshot a restore takes, in --json too', async () => {
    const { backup } = JSON.parse((await cli(env.env, ['backup', 'create', '--json'])).stdout);
    const json = await cli(env.env, ['backup', 'restore', backup.id, '--yes', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const { job, safetySnapshot } = JSON.parse(json.stdout);
    expect(job).toMatchObject({ kind: 'restore', state: 'succeeded', params: { safetySnapshotId: safetySnapshot.id } });
    expect(safetySnapshot).toMatchObject({ origin: 'pre-restore-snapshot', databaseName: env.target.name });

    const human = await cli(env.env, ['backup', 'restore', backup.id.slice(0, 8)], `${env.target.name}\n`);
    expect(human.code, human.stderr).toBe(0);
    const id = /Safety snapshot of the content before the restore: backup ([0-9a-f-]{36}) /.exec(human.stdout)?.[1];
    const listed = JSON.parse((await cli(env.env, ['backup', 'list', '--json'])).stdout) as {
      id: string;
      origin: string;
    }[];
    expect(listed.find((b) => b.id === id)?.origin).toBe('pre-restore-snapshot');
    expect(id).not.toBe(safetySnapshot.id);
  });

  it('tells a file that is not a backup, a missing file and an unknown id apart, and changes nothing', async () => {
    await withSql(env.target.url, (sql) => sql`CREATE TABLE IF NOT EXISTS public.stays (id int)`);
    const dir = await mkdtemp(path.join(tmpdir(), 'pgbs-cli-files-'));
    try {
      await writeFile(path.join(dir, 'README.md'), "# Notes\n\nDon't restore me: I'm a README.\n");
      const readme = await cli(env.env, ['backup', 'restore', path.join(dir, 'README.md'), '--yes']);
      expect(readme.code).toBe(1);
      expect(readme.stderr).toContain('error [archive/unknown-format]: The file is not a PostgreSQL backup');
      // Relative to where the operator started pnpm (INIT_CWD), with --file.
      const relative = await cli({ ...env.env, INIT_CWD: dir }, ['backup', 'restore', '--file', 'README.md', '--yes']);
      expect(relative.stderr).toContain('error [archive/unknown-format]');

      const missing = await cli(env.env, ['backup', 'restore', path.join(dir, 'x.dump'), '--yes']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain(`error [cli/file-not-found]: No file ${path.join(dir, 'x.dump')}.`);

      // Without a "/", a name is an id; the file of that name is pointed at.
      const bare = await cli({ ...env.env, INIT_CWD: dir }, ['backup', 'restore', 'README.md', '--json']);
      expect(JSON.parse(bare.stdout).error).toEqual({
        code: 'backup/not-found',
        message: expect.stringContaining('To restore the file README.md, give it as ./README.md or with --file.'),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const [row] = await withSql(env.target.url, (sql) => sql`SELECT to_regclass('public.stays') IS NOT NULL AS exists`);
    expect(row!.exists).toBe(true);
  });

  it('refuses a DATA_DIR without a cluster, naming it, and creates nothing there', async () => {
    const dataDir = path.join(tmpdir(), `pgbs-cli-no-cluster-${process.pid}`);
    const { DATABASE_URL: _target, METADATA_DATABASE_URL: _metadata, ...embedded } = env.env;
    const run = await cli({ ...embedded, DATA_DIR: dataDir, DATABASE_URL: '', METADATA_DATABASE_URL: '' }, [
      'backup',
      'list',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error [cli/no-cluster]: No embedded PostgreSQL in ${dataDir} (DATA_DIR).`);
    expect(run.stderr).toContain('--init');
    expect(run.stdout).toBe('');
    expect(existsSync(dataDir)).toBe(false);
  });
});
