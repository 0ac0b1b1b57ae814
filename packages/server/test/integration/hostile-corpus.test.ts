// Proves that the hostile corpus is dangerous and that privilege alone contains it: restored by
// the raw tools as a superuser every route escapes; restored as the database's owner (made as
// docs/security.md says), nothing does. Then the service restores every file, given the owner
// connection and given a superuser connection: nothing escapes either way.
import { chmod, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HostileCorpus,
  type HostileVariant,
  RESTORE_ROLE_PREFIX,
  type ThrowawayPostgres,
  assertNothingEscaped,
  buildHostileCorpus,
  createOwnedDatabase,
  createTestDatabase,
  diffFingerprints,
  escapeSnapshot,
  fingerprint,
  loadFeatureRichSchema,
  escapesBetween,
  handOverExistingDatabase,
  plantsInTarget,
  runPgTool,
  snake,
  startThrowawayPostgres,
  withSql,
} from '@pgbs/test-support';

import type { App } from '../../src/app.js';
import { isCodedError } from '../../src/errors/service-error.js';
import { createTestEnv } from './harness.js';

const VARIANTS: HostileVariant[] = ['swallowed', 'loud', 'superuser-objects', 'top-level'];
type Format = 'plain' | 'plainGzip' | 'custom' | 'tar';
const formatsOf = (variant: HostileVariant): Format[] =>
  variant === 'top-level' ? ['plain', 'plainGzip'] : ['plain', 'plainGzip', 'custom', 'tar'];

/** How the service ends a restore of each variant: only the swallowed payloads restore at all. */
const SERVICE_OUTCOME: Record<HostileVariant, RegExp> = {
  swallowed: /^succeeded$/,
  loud: /^restore\/failed$/,
  'superuser-objects': /^restore\/(unrestorable|unsafe-sql)$/,
  'top-level': /^restore\/unsafe-sql$/,
};

/** A file restore as an operator would ask for it: foreign roles left out, the other name accepted. */
async function restoreThroughService(app: App, file: string, database: string): Promise<string> {
  try {
    const started = await app.backups.restore(
      {
        source: { filePath: file },
        confirmation: database,
        options: {
          noOwner: true,
          noPrivileges: true,
          safetySnapshot: false,
          acceptSourceMismatch: true,
        },
      },
      { name: 'hostile-test' },
    );
    const job = await started.done;
    return job.state === 'succeeded' ? 'succeeded' : (job.errorCode ?? job.state);
  } catch (error) {
    if (isCodedError(error)) return error.code;
    throw error;
  }
}

/**
 * The raw tools, as an administrator would run them. Strict: one transaction, stopping at the first
 * error, and no-owner (archives name the attacker's role, which is gone).
 */
async function restoreRaw(format: Format, file: string, url: string, strict: boolean) {
  if (format === 'custom' || format === 'tar') {
    const database = decodeURIComponent(new URL(url).pathname.slice(1));
    const options = strict ? ['--single-transaction', '--exit-on-error', '--no-owner'] : [];
    return runPgTool('pg_restore', [`--dbname=${database}`, ...options, file], url);
  }
  const options = strict ? ['--single-transaction', '--set=ON_ERROR_STOP=1'] : [];
  const input = format === 'plainGzip' ? gunzipSync(await readFile(file)) : { file };
  return runPgTool('psql', ['-X', '-q', ...options, '-f', '-'], url, input);
}

// These restores really escape: superusers appear, settings of other roles change. On the shared
// server that would show in the escape snapshots of the test files running beside this one, so
// this file has a server of its own.
describe('the hostile corpus', () => {
  let server: ThrowawayPostgres;
  let adminUrl: string;
  let workDir: string;
  const corpora = new Map<HostileVariant, HostileCorpus>();

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'pgbs-hostile-'));
    // As root, the server runs as the postgres OS user, which must reach its data directory.
    await chmod(workDir, 0o755);
    server = await startThrowawayPostgres(await mkdtemp(path.join(workDir, 'pg-')));
    adminUrl = server.url('postgres');
    for (const variant of VARIANTS) corpora.set(variant, await buildHostileCorpus({ adminUrl, workDir, variant }));
  });
  afterAll(async () => {
    try {
      await Promise.all([...corpora.values()].map((corpus) => corpus.dispose()));
    } finally {
      await server?.stop();
      if (workDir) await rm(workDir, { recursive: true, force: true });
    }
  });

  describe.each(VARIANTS)('%s', (variant) => {
    const formats = formatsOf(variant);

    it.each(formats)('%s: restored by a superuser, every route escapes', async (format) => {
      const corpus = corpora.get(variant)!;
      const file = (corpus.files as Record<Format, string>)[format];
      const target = await createOwnedDatabase(adminUrl, 'hostile_su');
      const before = await escapeSnapshot(adminUrl, corpus.sentinel, corpus.otherDatabaseUrl);
      try {
        await restoreRaw(format, file, target.superuserUrl, false);
        const after = await escapeSnapshot(adminUrl, corpus.sentinel, corpus.otherDatabaseUrl);
        const written = await readdir(corpus.sentinel);
        const plants = await plantsInTarget(target.superuserUrl);
        const marks = [
          ...corpus.routes.map((route) => [`program-${route}`, written.includes(`program-${route}`)] as const),
          ...corpus.payloadRoutes.flatMap((route) => {
            const role = after.roles[`${corpus.evilRolePrefix}${snake(route)}`];
            return [
              [`lo-export-${route}`, written.includes(`lo-export-${route}`)],
              [`superuser role of ${route}`, role?.attributes['rolsuper'] === true],
              [`loot of ${route}`, plants.loot.includes(route)],
              [`event trigger of ${route}`, plants.eventTriggers.some((name) => name.endsWith(`_${snake(route)}`))],
            ] as const;
          }),
        ];
        expect(marks.filter(([, found]) => !found).map(([mark]) => mark)).toEqual([]);
        if (corpus.payloadRoutes.length > 0) {
          expect(after.roles[target.ownerRole]?.attributes['rolsuper']).toBe(true);
          expect(after.roles[corpus.victimRole]?.settings['*']).toContain('work_mem=64kB');
          const other = decodeURIComponent(new URL(corpus.otherDatabaseUrl).pathname.slice(1));
          expect(after.databases[other]?.settings).toContain('work_mem=64kB');
        }
        expect(plants.superuserOwned.length).toBeGreaterThan(0);
        expect(() => assertNothingEscaped(before, after, target.ownerRole)).toThrow(/Something escaped/);
      } finally {
        await target.drop();
        await corpus.undoEscapes();
      }
      // What the restore did is undone, so the next restore starts clean.
      const undone = await escapeSnapshot(adminUrl, corpus.sentinel, corpus.otherDatabaseUrl);
      expect(escapesBetween(before, undone)).toEqual([]);
    });

    it.each(formats)('%s: restored by the owner, nothing escapes', async (format) => {
      const corpus = corpora.get(variant)!;
      const file = (corpus.files as Record<Format, string>)[format];
      const target = await createOwnedDatabase(adminUrl, 'hostile_owner');
      try {
        const before = await escapeSnapshot(adminUrl, corpus.sentinel, corpus.otherDatabaseUrl);
        const strict = await restoreRaw(format, file, target.ownerUrl, true);
        // Only the swallowed payloads fail silently; the others make a careful restore fail.
        expect(strict.code === 0, strict.stderr).toBe(variant === 'swallowed');
        // Then every statement, errors ignored: each one is stopped by privilege alone.
        if (strict.code !== 0) await restoreRaw(format, file, target.ownerUrl, false);
        const after = await escapeSnapshot(adminUrl, corpus.sentinel, corpus.otherDatabaseUrl);
        assertNothingEscaped(before, after, target.ownerRole);
        expect(await plantsInTarget(target.ownerUrl)).toEqual({
          loot: [],
          eventTriggers: [],
          superuserOwned: [],
          foreignDefaultAcls: [],
        });
      } finally {
        await target.drop();
      }
    });
  });

  describe.each(['owner', 'superuser'] as const)('restored by the service given the %s connection', (connection) => {
    it.each(VARIANTS.flatMap((variant) => formatsOf(variant).map((format) => [variant, format] as const)))(
      '%s %s: nothing escapes, nothing is planted, and a refused or failed restore changes nothing',
      async (variant, format) => {
        const corpus = corpora.get(variant)!;
        const file = (corpus.files as Record<Format, string>)[format];
        const env = await createTestEnv(adminUrl, `svc_${connection}`);
        try {
          await loadFeatureRichSchema(env.target.url);
          const app = await env.startApp(connection === 'superuser' ? { DATABASE_URL: env.target.adminUrl } : {});
          const before = await escapeSnapshot(adminUrl, corpus.sentinel, corpus.otherDatabaseUrl);
          const content = await fingerprint(env.target.url);
          const outcome = await restoreThroughService(app, file, env.target.name);
          const after = await escapeSnapshot(adminUrl, corpus.sentinel, corpus.otherDatabaseUrl);
          assertNothingEscaped(before, after, env.target.owner);
          expect(await plantsInTarget(env.target.adminUrl)).toEqual({
            loot: [],
            eventTriggers: [],
            superuserOwned: [],
            foreignDefaultAcls: [],
          });
          if (outcome !== 'succeeded') expect(diffFingerprints(content, await fingerprint(env.target.url))).toEqual([]);
          expect(outcome).toMatch(SERVICE_OUTCOME[variant]);
        } finally {
          await env.cleanup();
        }
      },
    );
  });

  it('a restore role that was dropped is ignored; one that is left over is an escape', async () => {
    const corpus = corpora.get('swallowed')!;
    const target = await createOwnedDatabase(adminUrl, 'leftover');
    const [gone, left] = ['gone', 'left'].map((name) => `${RESTORE_ROLE_PREFIX}${name}_${target.database.slice(-12)}`);
    const snapshot = () => escapeSnapshot(adminUrl, corpus.sentinel, corpus.otherDatabaseUrl);
    try {
      await withSql(adminUrl, (sql) => sql.unsafe(`CREATE ROLE ${gone} LOGIN IN ROLE ${target.ownerRole}`));
      const before = await snapshot();
      await withSql(adminUrl, (sql) =>
        sql.unsafe(`DROP ROLE ${gone}; CREATE ROLE ${left} LOGIN IN ROLE ${target.ownerRole}`),
      );
      expect(escapesBetween(before, await snapshot(), target.ownerRole)).toEqual([
        expect.stringContaining(`restore role ${left} was not dropped`),
      ]);
    } finally {
      await withSql(adminUrl, (sql) => sql.unsafe(`DROP ROLE IF EXISTS ${gone}; DROP ROLE IF EXISTS ${left}`));
      await target.drop();
    }
  });

  it('the SQL of docs/security.md for an existing database gives the owner every object', async () => {
    const target = await createTestDatabase(adminUrl, 'handover');
    const suffix = target.name.slice(-12);
    const [owner, former] = [`pgbs_owner_handover_${suffix}`, `pgbs_former_${suffix}`];
    try {
      await withSql(adminUrl, (sql) => sql.unsafe(`CREATE ROLE ${owner} LOGIN; CREATE ROLE ${former};`));
      await withSql(target.adminUrl, (sql) =>
        sql.unsafe(`
          ALTER SCHEMA public OWNER TO CURRENT_USER; -- as in a cluster made before PostgreSQL 15
          CREATE SCHEMA app;
          CREATE TABLE app.t (id int GENERATED ALWAYS AS IDENTITY, n serial);
          CREATE VIEW app.v AS SELECT 1 AS one;
          CREATE MATERIALIZED VIEW app.m AS SELECT 1 AS one;
          CREATE SEQUENCE app.s;
          CREATE TYPE app.e AS ENUM ('a');
          CREATE DOMAIN app.d AS int;
          CREATE TYPE app.c AS (a int);
          CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
          CREATE PROCEDURE app.p() LANGUAGE sql AS 'SELECT 1';
          CREATE AGGREGATE app.total(int) (sfunc = int4pl, stype = int);
          CREATE TABLE public.parted (id int) PARTITION BY RANGE (id);
          CREATE TABLE public.part PARTITION OF public.parted FOR VALUES FROM (0) TO (10);
          CREATE EXTENSION citext SCHEMA app;
          SELECT lo_create(100);
          GRANT CREATE ON SCHEMA app TO ${former};
          SET ROLE ${former};
          CREATE TABLE app.theirs (id int);
          CREATE FUNCTION app.their_function() RETURNS int LANGUAGE sql AS 'SELECT 2';`),
      );
      await handOverExistingDatabase(adminUrl, { database: target.name, ownerRole: owner, formerOwner: former });
      const others = await withSql(target.adminUrl, (sql) =>
        sql.unsafe(`
          WITH owned (catalog, oid, owner) AS (
            SELECT 'pg_database'::regclass, oid, datdba FROM pg_database WHERE datname = current_database()
            UNION ALL SELECT 'pg_namespace', oid, nspowner FROM pg_namespace WHERE nspname IN ('app', 'public')
            UNION ALL SELECT 'pg_class', oid, relowner FROM pg_class WHERE oid >= 16384
            UNION ALL SELECT 'pg_proc', oid, proowner FROM pg_proc WHERE oid >= 16384
            UNION ALL SELECT 'pg_type', oid, typowner FROM pg_type WHERE oid >= 16384 AND typtype IN ('d', 'e', 'c')
            UNION ALL SELECT 'pg_largeobject', oid, lomowner FROM pg_largeobject_metadata)
          SELECT pg_describe_object(catalog, oid, 0) AS object, owner::regrole::text AS owner FROM owned o
          WHERE owner <> '${owner}'::regrole
            AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = o.catalog AND d.objid = o.oid AND d.deptype = 'e')
            AND NOT (catalog = 'pg_type'::regclass AND EXISTS (SELECT FROM pg_class c WHERE c.reltype = o.oid))`),
      );
      expect(others).toEqual([]);
    } finally {
      await target.drop();
      await withSql(adminUrl, (sql) => sql.unsafe(`DROP ROLE IF EXISTS ${owner}; DROP ROLE IF EXISTS ${former};`));
    }
  });
});
