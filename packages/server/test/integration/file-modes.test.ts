import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withSql } from '@pgbs/test-support';
import { MANIFEST_SUFFIX } from '../../src/storage/manifest.js';
import { CSRF_HEADER } from '../../src/http/yoga.js';
import { ADMIN, type ApiEnv, multipart, startApi } from './api-harness.js';

const adminUrl = inject('pgAdminUrl');

const modeOf = async (file: string) => ((await stat(file)).mode & 0o777).toString(8);

describe('file modes of backups, manifests and uploads', () => {
  let api: ApiEnv;
  let workDir: string;
  let backupDir: string;
  let uploadDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'pgbs-modes-'));
    // Left by an older version with the usual umask: the service tightens them.
    backupDir = path.join(workDir, 'backups');
    uploadDir = path.join(workDir, 'uploads');
    for (const dir of [backupDir, uploadDir]) {
      await mkdir(dir);
      await chmod(dir, 0o755);
    }
    api = await startApi(adminUrl, 'modes', { BACKUP_DIR: backupDir, UPLOAD_TEMP_DIR: uploadDir });
    await withSql(api.env.target.url, (sql) => sql`CREATE TABLE items AS SELECT g AS id FROM generate_series(1, 10) g`);
  });
  afterAll(async () => {
    await api?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('writes backups and their manifests 0600 in a 0700 directory, owned by the service’s user', async () => {
    const { done } = await api.app.backups.createBackup({ description: 'modes' }, { name: ADMIN.email });
    const job = await done;
    expect(job.state, job.errorMessage ?? '').toBe('succeeded');
    const backup = await api.app.backups.get(job.backupId!);
    const file = path.join(api.app.config.backupDir, backup.fileName);
    expect(await modeOf(backupDir)).toBe('700');
    expect(await modeOf(file)).toBe('600');
    expect(await modeOf(file + MANIFEST_SUFFIX)).toBe('600');
    for (const item of [backupDir, file, file + MANIFEST_SUFFIX])
      expect((await stat(item)).uid).toBe(process.getuid!());
  });

  it('spools uploads 0600 in a 0700 directory, and stores them so', async () => {
    const dumpFile = path.join(workDir, 'items.dump');
    await promisify(execFile)('pg_dump', ['--format=c', `--file=${dumpFile}`, `--dbname=${api.env.target.url}`]);
    const response = await fetch(`${api.http.url}/graphql`, {
      method: 'POST',
      headers: { [CSRF_HEADER]: '1', cookie: api.adminCookie },
      body: multipart(
        'mutation($file: File!) { uploadBackup(file: $file) { ... on MutationUploadBackupSuccess { data { fileName } } } }',
        {},
        await readFile(dumpFile),
        'items.dump',
      ),
    });
    const body = (await response.json()) as { data: { uploadBackup: { data: { fileName: string } } } };
    const file = path.join(api.app.config.backupDir, body.data.uploadBackup.data.fileName);
    expect(await modeOf(uploadDir)).toBe('700');
    // The stored file is the spooled one, renamed: its mode is the one the spool created it with.
    expect(await modeOf(file)).toBe('600');
    expect(await modeOf(file + MANIFEST_SUFFIX)).toBe('600');
  });
});
