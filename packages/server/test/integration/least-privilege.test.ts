// Least privilege, against the real service on a real server: nothing a target holds runs with more
// rights than the database's owner, whichever connection the service is given.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRestoreRole, createToolResolver, nodeProcessRunner, parsePgUrl, systemClock } from '@pgbs/engine';
import {
  type TestDatabase,
  createTestDatabase,
  diffFingerprints,
  fingerprint,
  loadFeatureRichSchema,
  withSql,
} from '@pgbs/test-support';
import { eq } from 'drizzle-orm';
import type { App } from '../../src/app.js';
import { jobs } from '../../src/db/schema.js';
import type { RestoreChoices } from '../../src/modules/backups/index.js';
import { type TestEnv, codeOf, createTestEnv, waitFor } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const actor = { name: 'test@example.com', address: '127.0.0.1' };
const plain: RestoreChoices = { noOwner: false, noPrivileges: false, safetySnapshot: false };

function urlAs(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = password;
  return parsed.toString();
}

async function backupOf(app: App): Promise<string> {
  const job = await (await app.backups.createBackup({ description: 'lp' }, actor)).done;
  expect(job.state, job.errorMessage ?? '').toBe('succeeded');
  return job.backupId!;
}

async function restore(app: App, backupId: string, database: string, options: Partial<RestoreChoices> = {}) {
  const started = await app.backups.restore(
    { source: { backupId }, confirmation: database, options: { ...plain, ...options } },
    actor,
  );
  return started.done;
}

/**
 * Functions a role that may create in `public` plants under the names of catalog functions, with
 * argument types that match the calls better than pg_catalog's do (oid for regclass, a plain
 * text for VARIADIC "any", numeric for double precision): with the default search_path they win.
 * Each call is recorded in trojan_hits (as the role that ran it) and tries to make the attacker
 * a superuser, which succeeds only when a superuser runs it.
 */
const trojans = (attacker: string) => `
CREATE TABLE public.trojan_hits (fn text, by_user text);
GRANT INSERT, SELECT, DELETE ON public.trojan_hits TO PUBLIC;
CREATE FUNCTION public.pgbs_trojan(fn text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.trojan_hits VALUES (fn, current_user);
  BEGIN EXECUTE 'ALTER ROLE ${attacker} SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
END $$;
CREATE FUNCTION public.pg_table_size(oid) RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN PERFORM public.pgbs_trojan('pg_table_size'); RETURN 0; END $$;
CREATE FUNCTION public.pg_relation_size(oid) RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN PERFORM public.pgbs_trojan('pg_relation_size'); RETURN 0; END $$;
CREATE FUNCTION public.format(text, text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN PERFORM public.pgbs_trojan('format'); RETURN $2; END $$;
CREATE FUNCTION public.format(text, name) RETURNS text LANGUAGE plpgsql AS $$ BEGIN PERFORM public.pgbs_trojan('format'); RETURN $2; END $$;
CREATE FUNCTION public.json_build_object(text, name) RETURNS json LANGUAGE plpgsql AS $$ BEGIN PERFORM public.pgbs_trojan('json_build_object'); RETURN '{}'; END $$;
CREATE FUNCTION public.json_build_object(text, integer, text, text) RETURNS json LANGUAGE plpgsql AS $$ BEGIN PERFORM public.pgbs_trojan('json_build_object'); RETURN '{}'; END $$;
CREATE FUNCTION public.pg_sleep(numeric) RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM public.pgbs_trojan('pg_sleep'); END $$;
CREATE FUNCTION public.current_setting(varchar) RETURNS text LANGUAGE plpgsql AS $$ BEGIN PERFORM public.pgbs_trojan('current_setting'); RETURN '8192'; END $$;
CREATE FUNCTION public.lo_unlink(integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN PERFORM public.pgbs_trojan('lo_unlink'); RETURN 1; END $$;
`;

// A table whose CHECK constraint escalates its owner when a superuser validates it: a routine
// restore of the database's own backup used to run it as the service's superuser.
const escalatingCheck = (owner: string) => `
CREATE FUNCTION public.pgbs_escalate(v int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  BEGIN EXECUTE 'ALTER ROLE ${owner} SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
  RETURN true;
END $$;
CREATE TABLE public.guarded (v int CHECK (public.pgbs_escalate(v)));
INSERT INTO public.guarded VALUES (1), (2);
`;

async function superusers(names: string[]): Promise<string[]> {
  return withSql(adminUrl, async (sql) =>
    (await sql<{ rolname: string }[]>`SELECT rolname FROM pg_roles WHERE rolsuper AND rolname = ANY(${names})`).map(
      (r) => r.rolname,
    ),
  );
}

describe.each(['owner', 'superuser'] as const)('with the %s connection', (connection) => {
  let env: TestEnv;
  let app: App;
  const attacker = `attacker_${randomBytes(4).toString('hex')}`;
  const attackerPassword = randomBytes(12).toString('hex');

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, `lp_${connection}`);
    await loadFeatureRichSchema(env.target.url);
    // The attacker is one of the application's roles: the owner belongs to it, as the owner must to
    // restore what that role owns.
    await withSql(adminUrl, (sql) =>
      sql.unsafe(
        `CREATE ROLE ${attacker} LOGIN PASSWORD '${attackerPassword}'; GRANT ${attacker} TO "${env.target.owner}"`,
      ),
    );
    await withSql(env.target.url, (sql) =>
      sql.unsafe(`GRANT CREATE ON SCHEMA public TO ${attacker}; ${escalatingCheck(env.target.owner)}`),
    );
    await withSql(urlAs(env.target.adminUrl, attacker, attackerPassword), (sql) => sql.unsafe(trojans(attacker)));
    app = await env.startApp(connection === 'superuser' ? { DATABASE_URL: env.target.adminUrl } : {});
  });

  afterAll(async () => {
    await env?.cleanup();
    await withSql(adminUrl, (sql) => sql.unsafe(`DROP ROLE IF EXISTS ${attacker}`));
  });

  const hits = () =>
    withSql(env.target.url, async (sql) =>
      (await sql<{ fn: string }[]>`SELECT fn FROM public.trojan_hits`).map((r) => r.fn),
    );

  it('the planted functions do shadow unqualified calls (the trap is real)', async () => {
    await withSql(env.target.url, async (sql) => {
      await sql`SELECT pg_table_size(c.oid) FROM pg_class c WHERE c.relname = 'trojan_hits'`;
      await sql.unsafe(`SELECT format('%s', 'x'::text), pg_sleep(0.01)`);
    });
    expect(new Set(await hits())).toEqual(new Set(['pg_table_size', 'format', 'pg_sleep']));
    await withSql(env.target.url, (sql) => sql`DELETE FROM public.trojan_hits`);
  });

  it('runs none of them in serverInfo, the list, a backup with progress, a verify, a pre-flight and a restore', async () => {
    const prepared = await app.backups.versions();
    const role = await app.backups.connectionRole(prepared);
    expect(role.superuser).toBe(connection === 'superuser');
    expect(role.owner).toBe(env.target.owner);
    // The job locks name the server by its system_identifier, readable by the owner role too.
    expect(await app.backups.lockKey()).toMatch(new RegExp(`^sysid:\\d+/${env.target.name}$`));
    await app.backups.list();
    const backupId = await backupOf(app);
    expect((await (await app.backups.verify(backupId, actor)).done).state).toBe('succeeded');
    const check = await app.backups.restoreCheck(backupId, { noOwner: false });
    expect(check.mode).toBe(connection);
    expect(check.unrestorable).toEqual([]);
    const before = await fingerprint(env.target.url);
    const restored = await restore(app, backupId, env.target.name);
    expect(restored.state, restored.errorMessage ?? '').toBe('succeeded');
    expect(diffFingerprints(before, await fingerprint(env.target.url))).toEqual([]);

    expect(await hits()).toEqual([]);
    expect(await superusers([attacker, env.target.owner])).toEqual([]);
  });

  it('leaves no short-lived restore role behind', async () => {
    const left = await withSql(
      adminUrl,
      (sql) => sql`SELECT rolname FROM pg_roles WHERE rolname LIKE 'pgbs\\_restore\\_%'`,
    );
    expect(left).toEqual([]);
  });

  it.each([
    [
      'CREATEROLE',
      (owner: string) => `ALTER ROLE "${owner}" CREATEROLE`,
      (owner: string) => `ALTER ROLE "${owner}" NOCREATEROLE`,
    ],
    [
      'membership in a superuser role',
      (owner: string) => `CREATE ROLE "${owner}_admins" SUPERUSER NOLOGIN; GRANT "${owner}_admins" TO "${owner}"`,
      (owner: string) => `DROP ROLE "${owner}_admins"`,
    ],
  ])('refuses an owner with %s, and changes nothing', async (_what, grant, revoke) => {
    await withSql(adminUrl, (sql) => sql.unsafe(grant(env.target.owner)));
    try {
      const [latest] = await app.backups.list();
      const before = await fingerprint(env.target.url);
      expect(await codeOf(restore(app, latest!.id, env.target.name))).toBe('restore/unsafe-owner');
      expect(diffFingerprints(before, await fingerprint(env.target.url))).toEqual([]);
    } finally {
      await withSql(adminUrl, (sql) => sql.unsafe(revoke(env.target.owner)));
    }
  });

  it('is not fooled by a role setting on the database: the login decides who restores', async () => {
    await withSql(env.target.url, (sql) =>
      sql.unsafe(`ALTER DATABASE "${env.target.name}" SET role = "${env.target.owner}"`),
    );
    try {
      const role = await app.backups.connectionRole(await app.backups.versions());
      expect(role.superuser).toBe(connection === 'superuser');
      const [latest] = await app.backups.list();
      expect((await app.backups.restoreCheck(latest!.id, { noOwner: false })).mode).toBe(connection);
      const restored = await restore(app, latest!.id, env.target.name);
      expect(restored.state, restored.errorMessage ?? '').toBe('succeeded');
    } finally {
      await withSql(env.target.url, (sql) => sql.unsafe(`ALTER DATABASE "${env.target.name}" RESET role`));
    }
  });
});

/** A short-lived restore role on a database as a restore creates it, for a job. */
async function restoreRoleOf(database: TestDatabase, jobId: string) {
  const admin = parsePgUrl(database.adminUrl);
  const tools = createToolResolver({ runner: nodeProcessRunner, clock: systemClock });
  const { tools: set } = await tools.prepare(admin);
  return createRestoreRole({
    runner: nodeProcessRunner,
    clock: systemClock,
    psql: set.psql,
    admin,
    owner: database.owner,
    jobId,
    validForSeconds: 600,
  });
}

describe('restore roles left on a target that is not the env one', () => {
  let env: TestEnv;
  let other: TestDatabase;

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'lp_sweep');
    other = await createTestDatabase(adminUrl, 'lp_sweep_other');
  });
  afterAll(async () => {
    await env?.cleanup();
    await other?.drop();
  });

  it('drops the role of a restore killed midway in the recovery loop, without a restart', async () => {
    const app = await env.startApp({ MASTER_KEY: randomBytes(32).toString('base64') }, { scheduleTicker: false });
    // The other target is reached as a superuser: its restores run through short-lived roles.
    const url = new URL(other.adminUrl);
    const password = decodeURIComponent(url.password);
    url.password = '';
    const { target } = await app.targets.add({ name: 'other', url: url.toString(), password }, actor);
    // What a restore killed with its process leaves: its job running on an instance that is gone
    // (no row: never seen), and its role on the target.
    const jobId = randomUUID();
    await app.db
      .insert(jobs)
      .values({ id: jobId, kind: 'restore', state: 'running', targetId: target.id, instanceId: randomUUID() });
    const role = await restoreRoleOf(other, jobId);
    const exists = () =>
      withSql(adminUrl, async (sql) => (await sql`SELECT 1 FROM pg_roles WHERE rolname = ${role.name}`).length > 0);
    expect(await exists()).toBe(true);
    // The loop runs every 10 s.
    await waitFor('the restore role to go', async () => ((await exists()) ? undefined : true), 40_000);
    const [job] = await app.db.select().from(jobs).where(eq(jobs.id, jobId));
    expect(job).toMatchObject({ state: 'failed', errorCode: 'job/interrupted' });
  });
});

describe('restore pre-flight, lock waits and source mismatch (owner connection)', () => {
  let env: TestEnv;
  let app: App;

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'lp_checks');
    await loadFeatureRichSchema(env.target.url);
    app = await env.startApp();
  });
  afterAll(() => env?.cleanup());

  it('lists an event trigger in the archive as unrestorable, and leaves it out when asked', async () => {
    await withSql(env.target.adminUrl, (sql) =>
      sql.unsafe(`
        CREATE FUNCTION public.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;
        CREATE EVENT TRIGGER pgbs_test_ddl ON ddl_command_end EXECUTE FUNCTION public.on_ddl();
        ALTER FUNCTION public.on_ddl() OWNER TO "${env.target.owner}";`),
    );
    // A superuser's backup holds the event trigger; the owner's pg_dump does too (it reads the catalog).
    const backupId = await backupOf(app);
    await withSql(env.target.adminUrl, (sql) => sql.unsafe('DROP EVENT TRIGGER pgbs_test_ddl'));
    const check = await app.backups.restoreCheck(backupId, { noOwner: false });
    expect(check.unrestorable).toEqual([
      expect.objectContaining({ where: 'archive', kind: 'EVENT TRIGGER', name: 'pgbs_test_ddl', skippable: true }),
    ]);
    const before = await fingerprint(env.target.url);
    expect(await codeOf(restore(app, backupId, env.target.name))).toBe('restore/unrestorable');
    expect(diffFingerprints(before, await fingerprint(env.target.url))).toEqual([]);

    const skipped = await restore(app, backupId, env.target.name, { skipUnrestorable: true });
    expect(skipped.state, skipped.errorMessage ?? '').toBe('succeeded');
    const triggers = await withSql(env.target.adminUrl, (sql) => sql`SELECT evtname FROM pg_event_trigger`);
    expect(triggers).toEqual([]);
    expect(diffFingerprints(before, await fingerprint(env.target.url))).toEqual([]);
  });

  it('names a table the owner may not read instead of a raw pg_dump error', async () => {
    const other = `other_${randomBytes(4).toString('hex')}`;
    await withSql(env.target.adminUrl, (sql) =>
      sql.unsafe(
        `CREATE ROLE ${other}; CREATE TABLE public.not_yours (id int); ALTER TABLE public.not_yours OWNER TO ${other};`,
      ),
    );
    try {
      const job = await (await app.backups.createBackup({}, actor)).done;
      expect(job.state).toBe('failed');
      expect(job.errorCode).toBe('backup/permission-denied');
      expect(job.errorMessage).toContain('not_yours');
    } finally {
      await withSql(env.target.adminUrl, (sql) => sql.unsafe(`DROP TABLE public.not_yours; DROP ROLE ${other};`));
    }
  });

  it('needs an acknowledgement to restore a backup of another database', async () => {
    const backupId = await backupOf(app);
    const second = await createTestEnv(adminUrl, 'lp_other');
    try {
      // Same owner: only the database name differs.
      await withSql(adminUrl, (sql) =>
        sql.unsafe(`ALTER DATABASE "${second.target.name}" OWNER TO "${env.target.owner}"`),
      );
      const secondUrl = urlAs(second.target.adminUrl, env.target.owner, env.target.ownerPassword);
      // A service for the second database over the first one's storage: rescan makes the backup known.
      const otherApp = await second.startApp({ DATABASE_URL: secondUrl, BACKUP_DIR: env.backupDir });
      await otherApp.backups.rescan(actor);
      const check = await otherApp.backups.restoreCheck(backupId, { noOwner: false });
      expect(check.sourceDatabase).toBe(env.target.name);
      const before = await fingerprint(secondUrl);
      expect(await codeOf(restore(otherApp, backupId, second.target.name))).toBe('restore/source-mismatch');
      expect(diffFingerprints(before, await fingerprint(secondUrl))).toEqual([]);
      const accepted = await restore(otherApp, backupId, second.target.name, { acceptSourceMismatch: true });
      expect(accepted.state, accepted.errorMessage ?? '').toBe('succeeded');
    } finally {
      await second.cleanup();
    }
  });

  it('never makes the application wait 3 s behind its locks: target-busy names the blocker, terminate-blockers ends it', async () => {
    const backupId = await backupOf(app);
    const blocker = await import('postgres').then(({ default: postgres }) =>
      postgres(env.target.url, { max: 1, connection: { application_name: 'pgbs-test-blocker' }, onnotice: () => {} }),
    );
    const appQueries = await import('postgres').then(({ default: postgres }) =>
      postgres(env.target.url, { max: 1, onnotice: () => {} }),
    );
    let stop = false;
    let slowest = 0;
    const load = (async () => {
      while (!stop) {
        const started = Date.now();
        await appQueries`SELECT count(*) FROM app.customers`.catch(() => {});
        slowest = Math.max(slowest, Date.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      // An open transaction that read one table holds a lock the restore needs.
      const holding = blocker.begin(async (sql) => {
        await sql`SELECT count(*) FROM app.orders`;
        await new Promise((resolve) => setTimeout(resolve, 60_000));
      });
      holding.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = await fingerprint(env.target.adminUrl);
      const busy = await restore(app, backupId, env.target.name);
      expect(busy.state).toBe('failed');
      expect(busy.errorCode).toBe('restore/target-busy');
      expect(busy.errorMessage).toContain('pgbs-test-blocker');
      expect(slowest).toBeLessThan(3000);
      expect(diffFingerprints(before, await fingerprint(env.target.adminUrl))).toEqual([]);

      // The owner may terminate sessions only with pg_signal_backend.
      expect(await codeOf(restore(app, backupId, env.target.name, { terminateBlockers: true }))).toBe(
        'restore/cannot-terminate',
      );
      await withSql(adminUrl, (sql) => sql.unsafe(`GRANT pg_signal_backend TO "${env.target.owner}"`));
      const terminated = await restore(app, backupId, env.target.name, { terminateBlockers: true });
      expect(terminated.state, terminated.errorMessage ?? '').toBe('succeeded');
      await expect(holding).rejects.toThrow(/terminat|CONNECTION_CLOSED/);
      expect(slowest).toBeLessThan(3000);
      const [audit] = await withSql(
        env.metadata.url,
        (sql) => sql`SELECT details FROM audit_events WHERE action = 'backup.restore' ORDER BY id DESC LIMIT 1`,
      );
      expect(JSON.stringify(audit?.details)).toContain('pgbs-test-blocker');
    } finally {
      stop = true;
      await load;
      await withSql(adminUrl, (sql) => sql.unsafe(`REVOKE pg_signal_backend FROM "${env.target.owner}"`));
      await blocker.end({ timeout: 1 }).catch(() => {});
      await appQueries.end({ timeout: 1 });
    }
  });

  it("refuses to leave a superuser's extension in place when the restore drops its schema", async () => {
    const backupId = await backupOf(app);
    await withSql(env.target.adminUrl, (sql) => sql.unsafe('CREATE EXTENSION pg_trgm SCHEMA public'));
    try {
      const check = await app.backups.restoreCheck(backupId, { noOwner: false });
      expect(check.unrestorable).toEqual([
        expect.objectContaining({ where: 'target', kind: 'EXTENSION', name: 'pg_trgm', skippable: false }),
      ]);
      expect(check.unrestorable[0]!.reason).toContain('"public"');
      expect(await codeOf(restore(app, backupId, env.target.name, { skipUnrestorable: true }))).toBe(
        'restore/unrestorable',
      );
      const [extension] = await withSql(
        env.target.adminUrl,
        (sql) => sql`SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'`,
      );
      expect(extension).toBeDefined();
    } finally {
      await withSql(env.target.adminUrl, (sql) => sql.unsafe('DROP EXTENSION pg_trgm'));
    }
  });

  it('terminates blockers from a superuser connection, without giving the restore role pg_signal_backend', async () => {
    const superuserApp = await env.startApp({ DATABASE_URL: env.target.adminUrl });
    const backupId = await backupOf(superuserApp);
    const { default: postgres } = await import('postgres');
    const blocker = postgres(env.target.url, { max: 1, connection: { application_name: 'pgbs-test-blocker-su' } });
    try {
      const holding = blocker.begin(async (sql) => {
        await sql`SELECT count(*) FROM app.orders`;
        await new Promise((resolve) => setTimeout(resolve, 60_000));
      });
      holding.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 300));
      const restored = await restore(superuserApp, backupId, env.target.name, { terminateBlockers: true });
      expect(restored.state, restored.errorMessage ?? '').toBe('succeeded');
      await expect(holding).rejects.toThrow(/terminat|CONNECTION_CLOSED/);
      const granted = await withSql(
        adminUrl,
        (sql) => sql`SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
                     WHERE m.roleid = 'pg_signal_backend'::regrole AND r.rolname LIKE 'pgbs\_restore\_%'`,
      );
      expect(granted).toEqual([]);
    } finally {
      await blocker.end({ timeout: 1 }).catch(() => {});
    }
  });

  const restoreRoleOfNoJob = () => restoreRoleOf(env.target, randomUUID());

  it('a short-lived restore role that cannot be dropped can no longer log in', async () => {
    const role = await restoreRoleOfNoJob();
    // A grant on a table of another database keeps DROP ROLE from succeeding (DROP OWNED, run in
    // the target database, revokes only what is there or on shared objects).
    await withSql(env.metadata.adminUrl, (sql) =>
      sql.unsafe(`CREATE TABLE public.pgbs_probe (id int); GRANT SELECT ON public.pgbs_probe TO ${role.name}`),
    );
    try {
      await expect(role.drop()).rejects.toThrow();
      const [left] = await withSql(
        adminUrl,
        (sql) => sql`SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = ${role.name}`,
      );
      expect(left).toEqual({ rolcanlogin: false, rolpassword: null });
    } finally {
      await withSql(env.metadata.adminUrl, (sql) => sql.unsafe(`DROP TABLE public.pgbs_probe; DROP ROLE ${role.name}`));
    }
  });

  it('sweeps a short-lived restore role left by a killed process at the next start', async () => {
    const superuserEnv = { DATABASE_URL: env.target.adminUrl };
    const left = await restoreRoleOfNoJob();
    const exists = () =>
      withSql(adminUrl, async (sql) => (await sql`SELECT 1 FROM pg_roles WHERE rolname = ${left.name}`).length > 0);
    expect(await exists()).toBe(true);
    await env.startApp(superuserEnv);
    expect(await exists()).toBe(false);
  });
});
