// Issue #11, "Migration": a DATA_DIR the first stage left (test/fixtures/first-stage, made by that
// stage's own service and CLI: its README) upgrades in place when today's service starts on it.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterDir } from '@pgbs/embedded';
import { diffFingerprints, fingerprint, runPgToolOrThrow, startThrowawayPostgres, withSql } from '@pgbs/test-support';
import { type Server, graphql, login, startServer } from '../../scripts/service-process.js';
import { type Run, cli } from './cli-process.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/first-stage/', import.meta.url));
const MIGRATIONS_JOURNAL = fileURLToPath(new URL('../../src/db/migrations/meta/_journal.json', import.meta.url));
/** Made by make-fixture.sh: an admin from ADMIN_EMAIL and one from `user create-admin`. */
const OLD_USERS = [
  { email: 'admin@first-stage.test', password: 'first-stage-admin-password' },
  { email: 'operator@first-stage.test', password: 'first-stage-operator-password' },
];
const OWNER_ROLE = 'workload_tracker_owner';

interface Manifest {
  id: string;
  fileName: string;
  format: string;
  origin: string;
}
interface OldJob {
  id: string;
  kind: string;
  state: string;
  error_code: string | null;
  partial_path: string | null;
}
/** The first stage's embedded-postgres.json. */
interface EmbeddedState {
  port: number;
  password: string;
  ownerPassword: string;
}

/**
 * DATA_DIR as the first stage left it: embedded-postgres.json, the cluster in DATA_DIR/postgres
 * (the first stage's @pgbs/embedded layout) holding pgbs_metadata at migration 0003 and the demo
 * database owned by its no-superuser owner, and DATA_DIR/backups with the stage's files, manifests
 * and the partial file of the backup killed mid-way.
 */
async function makeFirstStageDataDir(dataDir: string) {
  const manifests: Manifest[] = [];
  for (const name of (await readdir(path.join(FIXTURE, 'backups'))).filter((f) => f.endsWith('.manifest.json'))) {
    manifests.push(JSON.parse(await readFile(path.join(FIXTURE, 'backups', name), 'utf8')) as Manifest);
  }
  const cluster = await clusterDir(dataDir);
  await mkdir(cluster, { mode: 0o755 });
  const pg = await startThrowawayPostgres(cluster);
  try {
    const state: EmbeddedState = {
      port: pg.port,
      password: pg.password,
      ownerPassword: randomBytes(18).toString('hex'),
    };
    await writeFile(path.join(dataDir, 'embedded-postgres.json'), JSON.stringify(state, null, 2) + '\n', {
      mode: 0o600,
    });
    await withSql(pg.url('postgres'), async (sql) => {
      await sql.unsafe(`CREATE ROLE ${OWNER_ROLE} LOGIN PASSWORD '${state.ownerPassword}'`);
      await sql.unsafe('CREATE DATABASE pgbs_metadata');
      await sql.unsafe(`CREATE DATABASE workload_tracker OWNER ${OWNER_ROLE}`);
    });
    const psql = ['-X', '-q', '-v', 'ON_ERROR_STOP=1'];
    const metadata = (await readFile(path.join(FIXTURE, 'metadata.sql'), 'utf8')).replaceAll('@DATA_DIR@', dataDir);
    await runPgToolOrThrow('psql', psql, pg.url('pgbs_metadata'), metadata);
    // The demo database as the stage left it is what its manual plain backup holds.
    const plain = manifests.find((m) => m.format === 'plain-gzip' && m.origin === 'manual')!;
    const ownerUrl = new URL(pg.url('workload_tracker'));
    ownerUrl.username = OWNER_ROLE;
    ownerUrl.password = state.ownerPassword;
    await runPgToolOrThrow(
      'psql',
      psql,
      ownerUrl.toString(),
      gunzipSync(await readFile(path.join(FIXTURE, 'backups', plain.fileName))),
    );
    const backupDir = path.join(dataDir, 'backups');
    await mkdir(backupDir, { mode: 0o700 });
    for (const name of await readdir(path.join(FIXTURE, 'backups'))) {
      await copyFile(path.join(FIXTURE, 'backups', name), path.join(backupDir, name));
      await chmod(path.join(backupDir, name), 0o600);
    }
    const { jobs, migrations } = await withSql(pg.url('pgbs_metadata'), async (sql) => ({
      jobs: [...(await sql<OldJob[]>`SELECT id, kind, state, error_code, partial_path FROM jobs ORDER BY created_at`)],
      migrations: (await sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`)[0]!.n as number,
    }));
    return { state, manifests, jobs, migrations };
  } finally {
    await pg.shutdown();
  }
}

describe('a DATA_DIR of the first stage', () => {
  let dataDir: string;
  let old: Awaited<ReturnType<typeof makeFirstStageDataDir>>;
  let server: Server | undefined;
  const superUrl = (database: string) =>
    `postgres://postgres:${old.state.password}@127.0.0.1:${old.state.port}/${database}`;
  // The service's environment for the embedded default: nothing but DATA_DIR.
  const env = () => ({ DATA_DIR: dataDir, DATABASE_URL: '', METADATA_DATABASE_URL: '', NO_COLOR: '1' });
  const pgbs = async (args: string[], extraEnv: Record<string, string> = {}): Promise<unknown> => {
    const run: Run = await cli({ ...env(), ...extraEnv }, [...args, '--json']);
    expect(run.code, `pgbs ${args.join(' ')}: ${run.stderr}${run.stdout}`).toBe(0);
    return JSON.parse(run.stdout);
  };
  const manifest = (format: string, origin: string) =>
    old.manifests.find((m) => m.format === format && m.origin === origin)!;
  let envTargetId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'pgbs-first-stage-'));
    // As root the embedded server runs as the postgres user: reaching DATA_DIR keeps the cluster in
    // it, where the first stage put it then too.
    await chmod(dataDir, 0o755);
    old = await makeFirstStageDataDir(dataDir);
    // Today's service as `pnpm start` runs it, on that directory (no ADMIN_EMAIL: the old admins stay the only ones).
    server = await startServer({ ...env(), ADMIN_EMAIL: '', ADMIN_PASSWORD: '' });
  }, 300_000);
  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('holds what the fixture says: the first stage at migration 0003, with every kind of job', () => {
    expect(old.migrations).toBe(4);
    expect(old.manifests.map((m) => `${m.format}/${m.origin}`).sort()).toEqual([
      'custom/manual',
      'plain-gzip/manual',
      'plain-gzip/upload',
    ]);
    expect(old.jobs.map((j) => `${j.kind}/${j.state}`).sort()).toEqual([
      'backup/running',
      'backup/succeeded',
      'backup/succeeded',
      'restore/failed',
      'verify/succeeded',
    ]);
  });

  it('runs every migration after 0003, makes the master key the first stage had not, and attaches everything old to the env-managed target', async () => {
    expect((await stat(path.join(dataDir, 'master.key'))).mode & 0o777).toBe(0o600);
    const journal = JSON.parse(await readFile(MIGRATIONS_JOURNAL, 'utf8')) as { entries: unknown[] };
    await withSql(superUrl('pgbs_metadata'), async (sql) => {
      const [applied] = await sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`;
      expect(applied!.n).toBe(journal.entries.length);
      const targets = await sql`SELECT id, name, managed_by, enabled FROM targets`;
      expect(targets).toEqual([{ id: expect.any(String), name: 'workload_tracker', managed_by: 'env', enabled: true }]);
      envTargetId = targets[0]!.id as string;
      const orphans = await sql`
        SELECT (SELECT count(*) FROM backups WHERE target_id IS DISTINCT FROM ${envTargetId})::int AS backups,
               (SELECT count(*) FROM jobs WHERE target_id IS DISTINCT FROM ${envTargetId})::int AS jobs,
               (SELECT count(*) FROM audit_events
                 WHERE (action LIKE 'backup.%' OR action LIKE 'job.%') AND target_id IS DISTINCT FROM ${envTargetId})::int
                 AS backup_events,
               (SELECT count(*) FROM audit_events WHERE action LIKE 'backup.%')::int AS all_backup_events`;
      expect(orphans[0]).toEqual({ backups: 0, jobs: 0, backup_events: 0, all_backup_events: expect.any(Number) });
      expect(orphans[0]!.all_backup_events).toBeGreaterThan(0);
    });
  });

  it('shows the old jobs, the one a killed CLI left running now failed as interrupted and its partial file gone', async () => {
    const listed = (await pgbs(['job', 'list', '--limit', '50'])) as {
      id: string;
      state: string;
      errorCode: string | null;
      targetId: string;
    }[];
    for (const job of old.jobs) {
      const now = listed.find((row) => row.id === job.id);
      const expected =
        job.state === 'running'
          ? { state: 'failed', errorCode: 'job/interrupted' }
          : { state: job.state, errorCode: job.error_code };
      expect(now, `job ${job.kind} ${job.state}`).toMatchObject({ ...expected, targetId: envTargetId });
    }
    const killed = old.jobs.find((job) => job.state === 'running')!;
    expect(killed.partial_path).toMatch(new RegExp(`^${dataDir}/backups/.+\\.partial$`));
    expect(existsSync(killed.partial_path!)).toBe(false);
  });

  it('lists every old backup under the first target, verifies one, and restores it into a fresh database with the same content', async () => {
    const listed = (await pgbs(['backup', 'list', '--target', 'workload_tracker'])) as { id: string }[];
    expect(listed.map((row) => row.id).sort()).toEqual(old.manifests.map((m) => m.id).sort());

    const custom = manifest('custom', 'manual');
    const verified = (await pgbs(['backup', 'verify', custom.id])) as { job: { state: string } };
    expect(verified.job.state).toBe('succeeded');

    // A second target on a fresh database, owned like the demo one, registered the way an administrator does.
    await withSql(superUrl('postgres'), (sql) => sql.unsafe(`CREATE DATABASE restored OWNER ${OWNER_ROLE}`));
    await pgbs(
      ['target', 'add', 'restored', '--url', `postgres://${OWNER_ROLE}@127.0.0.1:${old.state.port}/restored`],
      {
        PGPASSWORD: old.state.ownerPassword,
      },
    );
    const restored = (await pgbs([
      'backup',
      'restore',
      custom.id,
      '--target',
      'restored',
      '--yes',
      '--no-snapshot',
      '--accept-source-mismatch',
    ])) as { job: { state: string } };
    expect(restored.job.state).toBe('succeeded');
    const expected = await fingerprint(superUrl('workload_tracker'));
    expect(Object.keys(expected.tables).length).toBeGreaterThan(0);
    expect(diffFingerprints(expected, await fingerprint(superUrl('restored')))).toEqual([]);
  });

  it('keeps the old backups, with their target, through a rescan', async () => {
    const rescan = (await pgbs(['backup', 'rescan'])) as {
      added: unknown[];
      removed: unknown[];
      unreadable: unknown[];
    };
    expect(rescan).toMatchObject({ added: [], removed: [], unreadable: [] });
    const listed = (await pgbs(['backup', 'list', '--target', 'workload_tracker'])) as { id: string }[];
    expect(listed.map((row) => row.id).sort()).toEqual(old.manifests.map((m) => m.id).sort());
  });

  it("lets the first stage's users log in, and backs up through the queue", async () => {
    for (const user of OLD_USERS) {
      const cookie = await login(server!.url, user);
      const { me } = await graphql<{ me: { email: string } }>(server!.url, { cookie }, '{ me { email } }');
      expect(me.email).toBe(user.email);
    }
    const created = (await pgbs(['backup', 'create', '--description', 'after the upgrade'])) as {
      job: { state: string; targetId: string };
    };
    expect(created.job).toMatchObject({ state: 'succeeded', targetId: envTargetId });
  });

  it('starts again on the upgraded directory: one env-managed target, and the generated key opens the stored password', async () => {
    await server!.stop();
    server = undefined;
    server = await startServer({ ...env(), ADMIN_EMAIL: '', ADMIN_PASSWORD: '' });
    const targets = (await pgbs(['target', 'list'])) as { name: string; managedBy: string | null }[];
    expect(targets.map((t) => `${t.name}/${t.managedBy}`).sort()).toEqual(['restored/null', 'workload_tracker/env']);
    expect(await pgbs(['target', 'test', 'restored'])).toMatchObject({ ok: true });
    const listed = (await pgbs(['backup', 'list', '--target', 'workload_tracker'])) as { id: string }[];
    expect(listed.map((row) => row.id)).toEqual(expect.arrayContaining(old.manifests.map((m) => m.id)));
  });
});
