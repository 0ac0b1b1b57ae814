import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { diffFingerprints, fingerprint, mutateFeatureRichDatabase, withSql } from '@pgbs/test-support';
import { jobs } from '../../src/db/schema.js';
import { spawnCli } from '../integration/cli-process.js';
import { type TestEnv, createBigTestEnv, waitFor } from '../integration/harness.js';

const adminUrl = inject('pgAdminUrl');

describe('kill -9 of the CLI process during a restore', () => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await createBigTestEnv(adminUrl, 'fkill');
  });
  afterAll(async () => env?.cleanup());

  it('leaves the target wholly old or wholly new, the job failed (job/interrupted), no partial file', async () => {
    // "new" is the backup's content; "old" is the database's content when the restore starts.
    const setup = await env.startApp();
    const backup = await (await setup.backups.createBackup({ description: 'new' }, { name: 'test' })).done;
    expect(backup.state, backup.errorMessage ?? '').toBe('succeeded');
    const newPrint = await fingerprint(env.target.url);
    await mutateFeatureRichDatabase(env.target.url);
    await withSql(env.target.url, (sql) => sql`DELETE FROM big WHERE id % 3 = 0`);
    const oldPrint = await fingerprint(env.target.url);
    expect(diffFingerprints(oldPrint, newPrint)).not.toEqual([]);

    const cli = spawnCli(env.env, ['backup', 'restore', backup.backupId!, '--yes', '--no-snapshot']);
    // Kill once the CLI reports that the big table's data is streaming into the target (its plain
    // progress line names the current table).
    await waitFor('the restore to stream the big table', async () => {
      if (cli.child.exitCode !== null) throw new Error(`the CLI ended early (${cli.child.exitCode}): ${cli.stderr}`);
      return /data .* public\.big/.test(cli.stderr) ? true : undefined;
    });
    const [running] = (await setup.db.select().from(jobs)).filter((j) => j.kind === 'restore');
    expect(running?.state).toBe('running');
    cli.signal('SIGKILL');
    await cli.done;

    // pg tools run in process groups of their own: psql sees its stdin close without a COMMIT and
    // the server rolls the transaction back. Wait until no session is left on the target.
    await waitFor('the restore session to end', async () => {
      const [row] = await withSql(
        adminUrl,
        (sql) =>
          sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${env.target.name} AND pid <> pg_backend_pid()`,
      );
      return row!.n === 0 ? true : undefined;
    });

    const after = await fingerprint(env.target.url);
    const wasOld = diffFingerprints(oldPrint, after).length === 0;
    const wasNew = diffFingerprints(newPrint, after).length === 0;
    expect(wasOld || wasNew, diffFingerprints(oldPrint, after).slice(0, 5).join('\n')).toBe(true);
    // Killed while the data was streaming: the transaction never committed.
    expect(wasOld).toBe(true);

    const app = await env.startApp();
    const [killed] = (await app.db.select().from(jobs)).filter((j) => j.id === running!.id);
    expect(killed).toMatchObject({ state: 'failed', errorCode: 'job/interrupted' });
    expect(killed!.finishedAt).not.toBeNull();
    // The catalog still lists exactly the one backup, and its file and manifest are intact.
    expect((await app.backups.list()).map((b) => b.id)).toEqual([backup.backupId]);
    const files = await readdir(env.backupDir);
    expect(files.filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect(files.filter((f) => !f.startsWith('.')).sort()).toHaveLength(2); // the dump and its manifest
    const verified = await (await app.backups.verify(backup.backupId!, { name: 'test' })).done;
    expect(verified.state, verified.errorMessage ?? '').toBe('succeeded');
  });
});
