import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadFeatureRichSchema, withSql } from '@pgbs/test-support';
import { type TestEnv, createTestEnv } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const serverDir = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real CLI in its own process, as an operator runs it. */
function cli(env: Record<string, string>, args: string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('node_modules/.bin/tsx', ['src/cli/main.ts', ...args], {
      cwd: serverDir,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(input);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

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
});
