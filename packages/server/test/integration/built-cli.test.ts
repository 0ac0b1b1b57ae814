import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type TestEnv, createTestEnv } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const repoDir = fileURLToPath(new URL('../../../../', import.meta.url));
const serverDir = path.join(repoDir, 'packages/server');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A program as an operator starts it: its exit code and output, whatever the code. */
async function run(file: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: unknown; stdout: string; stderr: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const builtAt = async () =>
  (JSON.parse(await readFile(path.join(serverDir, 'dist/build-info.json'), 'utf8')) as { builtAt: number }).builtAt;

describe('the built CLI (pgbs)', () => {
  let env: TestEnv;
  let binDir: string;

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'built_cli');
    // The documented way onto PATH: a symlink to packages/server/bin/pgbs.js anywhere.
    binDir = await mkdtemp(path.join(tmpdir(), 'pgbs-bin-'));
    await symlink(path.join(serverDir, 'bin/pgbs.js'), path.join(binDir, 'pgbs'));
  });
  afterAll(async () => {
    await env?.cleanup();
    if (binDir) await rm(binDir, { recursive: true, force: true });
  });

  it('answers --help from any directory, through a symlink on PATH', async () => {
    const help = await run(path.join(binDir, 'pgbs'), ['--help'], { cwd: tmpdir() });
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: .*\n[\s\S]*backup create/);
  });

  it('creates and lists a backup against the test server', async () => {
    const pgbs = path.join(repoDir, 'node_modules/.bin/pgbs');
    const created = await run(pgbs, ['backup', 'create', '--description', 'built', '--json'], {
      cwd: tmpdir(),
      env: env.env,
    });
    expect(created.code, created.stderr).toBe(0);
    const { job, backup } = JSON.parse(created.stdout);
    expect(job.state).toBe('succeeded');
    const list = await run(pgbs, ['backup', 'list', '--json'], { cwd: tmpdir(), env: env.env });
    expect(JSON.parse(list.stdout).map((b: { id: string }) => b.id)).toEqual([backup.id]);
  });

  it('`pnpm cli` prints only the CLI’s own output, also when it fails', async () => {
    const pnpm = await run('pnpm', ['cli', 'backup', 'show', 'nope', '--json'], { cwd: repoDir, env: env.env });
    expect(pnpm.code).toBe(1);
    // No "> pg-backup-service@ cli" header before the JSON, no ELIFECYCLE after it.
    expect(JSON.parse(pnpm.stdout)).toEqual({ error: { code: 'backup/not-found', message: expect.any(String) } });
    expect(pnpm.stderr).toBe('');
  });

  it('is rebuilt when a source file changes', async () => {
    const before = await builtAt();
    const source = path.join(serverDir, 'src/cli/format.ts');
    const now = new Date();
    await utimes(source, now, now);
    const help = await run(path.join(serverDir, 'bin/pgbs.js'), ['--help'], { cwd: serverDir });
    expect(help.code).toBe(0);
    expect(await builtAt()).toBeGreaterThan(before);
  });
});
