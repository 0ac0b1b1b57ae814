import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { type TestDatabase, createTestDatabase } from '@pgbs/test-support';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { targets } from '../../src/db/schema.js';
import type { Logger } from '../../src/logger.js';
import { CSRF_HEADER } from '../../src/http/yoga.js';
import { startHttpServer } from '../../src/http/http-server.js';
import { login } from '../../scripts/service-process.js';
import { cli } from './cli-process.js';
import { type TestEnv, codeOf, createTestEnv } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const newKey = () => randomBytes(32).toString('base64');

/** A URL without its password, and the password: how an administrator gives them. */
function split(url: string): { url: string; password: string } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return { url: parsed.toString(), password };
}

describe('targets', () => {
  let env: TestEnv;
  let second: TestDatabase;
  const logLines: string[] = [];
  const logger: Logger = {
    info: (m, f) => logLines.push(`${m} ${JSON.stringify(f ?? {})}`),
    warn: (m, f) => logLines.push(`${m} ${JSON.stringify(f ?? {})}`),
    error: (m, f) => logLines.push(`${m} ${JSON.stringify(f ?? {})}`),
  };
  const keyA = newKey();
  const keyB = newKey();
  const start = (overrides: Record<string, string | undefined> = {}) =>
    createApp(loadConfig({ ...env.env, MASTER_KEY: keyA, ...overrides }), logger);
  const actor = { name: 'test' };

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'targets');
    second = await createTestDatabase(adminUrl, 'targets_second');
  });
  afterAll(async () => {
    await second?.drop();
    await env?.cleanup();
  });

  it('keeps DATABASE_URL as an env-managed, read-only target without its password', async () => {
    const app = await start();
    try {
      const [envTarget] = await app.targets.list();
      expect(envTarget).toMatchObject({ managedBy: 'env', name: env.target.name, hasPassword: false });
      expect(envTarget!.url).not.toContain(env.target.ownerPassword);
      expect(await codeOf(app.targets.update(envTarget!.name, { enabled: false }, actor))).toBe(
        'target/managed-by-env',
      );
      expect(await codeOf(app.targets.remove(envTarget!.name, actor))).toBe('target/managed-by-env');
      const resolved = await app.targets.connections.defaultTarget();
      expect(resolved.connection.env.PGPASSWORD).toBe(env.target.ownerPassword);
    } finally {
      await app.close();
    }
  });

  it('adds a target with a sealed password, tests it, and refuses a password in the URL', async () => {
    const app = await start();
    try {
      const { url, password } = split(second.url);
      expect(await codeOf(app.targets.add({ name: 'bad', url: second.url }, actor))).toBe('target/password-in-url');
      expect(await codeOf(app.targets.add({ name: 'Bad Name', url }, actor))).toBe('target/invalid-name');
      const { target } = await app.targets.add({ name: 'second', url, password }, actor);
      expect(target).toMatchObject({ hasPassword: true, kind: 'database', enabled: true });
      expect(await codeOf(app.targets.add({ name: 'second', url, password }, actor))).toBe('target/name-taken');

      // The raw column: sealed, no plaintext.
      const [row] = await app.db.select().from(targets).where(eq(targets.id, target.id));
      expect(row!.passwordSealed).toMatch(/^v1\.[0-9a-f]{16}\./);
      expect(row!.passwordSealed).not.toContain(password);

      const test = await app.targets.test('second', actor);
      expect(test).toMatchObject({
        ok: true,
        role: second.owner,
        superuser: false,
        actsAsOwner: true,
        restore: 'owner',
      });
      expect(test.sizeBytes).toBeGreaterThan(0);
      expect((await app.targets.get('second')).lastTest).toMatchObject({ ok: true });
      const resolved = await app.targets.connections.resolveByName('second');
      expect(resolved.connection.env.PGPASSWORD).toBe(password);

      await app.targets.update('second', { enabled: false }, actor);
      expect(await codeOf(app.targets.connections.resolveByName('second'))).toBe('target/disabled');
      await app.targets.update('second', { enabled: true }, actor);

      // A wrong password is a failed test, not a thrown error, and shows no password.
      await app.targets.update('second', { password: 'wrong-password-xyz' }, actor);
      const failed = await app.targets.test('second', actor);
      expect(failed).toMatchObject({ ok: false, error: { code: 'pg/connection-failed' } });
      await app.targets.update('second', { password }, actor);
    } finally {
      await app.close();
    }
    expect(logLines.join('\n')).not.toContain(split(second.url).password);
    expect(logLines.join('\n')).not.toContain('wrong-password-xyz');
  });

  it('refuses to start without a key when passwords are stored; rotation re-seals and frees the old key', async () => {
    const error = await start({ MASTER_KEY: undefined }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('key/missing');

    const rotated = await start({ MASTER_KEY: `${keyB},${keyA}` });
    const [before] = await rotated.db.select().from(targets).where(eq(targets.name, 'second'));
    await rotated.close();
    const onlyNew = await start({ MASTER_KEY: keyB });
    try {
      const [after] = await onlyNew.db.select().from(targets).where(eq(targets.name, 'second'));
      expect(after!.passwordSealed).toBe(before!.passwordSealed);
      expect((await onlyNew.targets.test('second', actor)).ok).toBe(true);
      expect(await onlyNew.targets.rotateKeys()).toMatchObject({ resealed: 0, failed: [] });
    } finally {
      await onlyNew.close();
    }
  });

  it("keeps the server's roles without their passwords when asked (pg_dumpall --globals-only)", async () => {
    const app = await start({ MASTER_KEY: keyB });
    try {
      const id = (await app.targets.get('second')).id;
      expect(await app.targets.dumpGlobals(id, new PassThrough())).toBe(false);
      await app.targets.update('second', { keepGlobals: true }, actor);
      const sink = new PassThrough();
      const [kept, sql] = await Promise.all([app.targets.dumpGlobals(id, sink), text(sink)]);
      expect(kept).toBe(true);
      expect(sql).toContain(`CREATE ROLE ${second.owner}`);
      expect(sql).not.toMatch(/SCRAM-SHA-256\$|PASSWORD '/);
    } finally {
      await app.close();
    }
  });

  it('keeps one child per database of a whole server, skipping templates, the metadata database and exclusions', async () => {
    const app = await start({ MASTER_KEY: keyB });
    const third = await createTestDatabase(adminUrl, 'targets_third');
    try {
      const { url, password } = split(adminUrl);
      const { target, test } = await app.targets.add(
        { name: 'whole', url, password, kind: 'server', excludeDatabases: [env.target.name] },
        actor,
      );
      expect(test?.ok).toBe(true);
      const children = async () =>
        new Map(
          (await app.targets.list()).filter((t) => t.parentId === target.id).map((t) => [t.name.slice(6), t.enabled]),
        );
      let now = await children();
      expect(now.get(second.name)).toBe(true);
      expect(now.get(third.name)).toBe(true);
      expect(now.has(env.target.name)).toBe(false);
      expect(now.has(env.metadata.name)).toBe(false);
      expect(now.has('template0')).toBe(false);
      expect(now.has('template1')).toBe(false);
      expect(test!.sync!.skipped).toEqual(
        expect.arrayContaining([
          { database: env.metadata.name, reason: "the service's metadata database" },
          { database: env.target.name, reason: 'excluded' },
          { database: 'template1', reason: 'template' },
        ]),
      );
      // The child uses the server's password by reference: no copy is stored.
      const child = await app.targets.get(`whole/${second.name}`);
      expect(child.hasPassword).toBe(false);
      expect((await app.targets.connections.resolve(child.id)).connection.env.PGPASSWORD).toBe(password);
      expect(await codeOf(app.targets.update(child.id, { url }, actor))).toBe('target/child-of-server');

      const fourth = await createTestDatabase(adminUrl, 'targets_fourth');
      await third.drop();
      const sync = await app.targets.sync('whole');
      expect(sync.added).toContain(fourth.name);
      expect(sync.disabled).toContain(third.name);
      now = await children();
      expect(now.get(fourth.name)).toBe(true);
      expect(now.get(third.name)).toBe(false);
      await fourth.drop();

      await app.targets.remove('whole', actor);
      expect((await app.targets.list()).some((t) => t.parentId === target.id)).toBe(false);
    } finally {
      await app.close();
      await third.drop().catch(() => {});
    }
  });

  it('answers no password or sealed value through GraphQL, and exports the configuration without them', async () => {
    const app = await start({ MASTER_KEY: keyB });
    await app.auth.createUser('admin@example.com', 'admin-password-123', 'admin');
    const http = await startHttpServer(app, logger, 0);
    try {
      const cookie = await login(http.url, { email: 'admin@example.com', password: 'admin-password-123' });
      const gql = async (query: string, variables: Record<string, unknown> = {}) => {
        const response = await fetch(`${http.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [CSRF_HEADER]: '1', cookie },
          body: JSON.stringify({ query, variables }),
        });
        return response.text();
      };
      const fields =
        'id name kind url database hasPassword enabled managedBy excludeDatabases lastTest { ok role errorCode errorMessage }';
      const { url, password } = split(second.url);
      const answers = [
        await gql(
          `mutation($input: AddTargetInput!) { addTarget(input: $input) { ... on MutationAddTargetSuccess { data { ${fields} } } ... on CodedError { code } } }`,
          { input: { name: 'via-api', url, password } },
        ),
        await gql(`mutation { testTarget(id: "via-api") { ... on MutationTestTargetSuccess { data { ok role } } } }`),
        await gql(`{ targets { ${fields} } }`),
        await gql(`{ exportConfig }`),
        await gql(
          `mutation($input: UpdateTargetInput!) { updateTarget(id: "via-api", input: $input) { ... on MutationUpdateTargetSuccess { data { ${fields} } } } }`,
          { input: { password } },
        ),
      ];
      expect(answers[0]).toContain('"hasPassword":true');
      expect(answers[1]).toContain('"ok":true');
      // The name that confirms a restore into it, for the panel's choice of target.
      const listed = (JSON.parse(answers[2]!) as { data: { targets: { name: string; database: string }[] } }).data;
      expect(listed.targets.find((target) => target.name === 'via-api')?.database).toBe(second.name);
      const [row] = await app.db.select().from(targets).where(eq(targets.name, 'via-api'));
      for (const answer of answers) {
        expect(answer).not.toContain(password);
        expect(answer).not.toContain(row!.passwordSealed!);
        expect(answer).not.toContain(row!.passwordSealed!.split('.')[3]!);
      }
      const exported = JSON.parse(JSON.parse(answers[3]!).data.exportConfig);
      expect(exported.sections.targets).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'via-api', url, hasPassword: true })]),
      );
      expect(exported.sections.targets.some((t: { name: string }) => t.name === env.target.name)).toBe(false);
      const audit = await gql(`{ auditEvents(actionPrefix: "target") { action outcome details } }`);
      expect(audit).toContain('target.add');
      expect(audit).not.toContain(password);
    } finally {
      await http.close();
      await app.close();
    }
    expect(logLines.join('\n')).not.toContain(split(second.url).password);
  });

  describe('CLI', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'pgbs-targets-cli-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('adds, lists, tests, sets, exports, deletes and imports targets; the password never in argv', async () => {
      const { url, password } = split(second.url);
      const cliEnv = { ...env.env, MASTER_KEY: keyB };
      const add = await cli({ ...cliEnv, PGPASSWORD: password }, ['target', 'add', 'from-cli', '--url', url, '--json']);
      expect(add.code, add.stderr).toBe(0);
      expect(JSON.parse(add.stdout).target).toMatchObject({ name: 'from-cli', hasPassword: true });
      expect(add.stdout + add.stderr).not.toContain(password);

      const list = await cli(cliEnv, ['target', 'list', '--json']);
      expect(JSON.parse(list.stdout).map((t: { name: string }) => t.name)).toContain('from-cli');

      const test = await cli(cliEnv, ['target', 'test', 'from-cli']);
      expect(test.code, test.stderr).toBe(0);
      expect(test.stdout).toContain(`role:     ${second.owner}`);

      const file = path.join(dir, 'password');
      await writeFile(file, `${password}\n`, { mode: 0o600 });
      const set = await cli(cliEnv, ['target', 'set', 'from-cli', '--disable', '--password-file', file, '--json']);
      expect(set.code, set.stderr).toBe(0);
      expect(JSON.parse(set.stdout)).toMatchObject({ enabled: false, hasPassword: true });
      const refused = await cli(cliEnv, ['target', 'set', env.target.name, '--disable']);
      expect(refused.stderr).toContain('target/managed-by-env');
      const passwordOption = await cli(cliEnv, ['target', 'add', 'x', '--url', url, '--password', password]);
      expect(passwordOption.code).toBe(2);

      const exportFile = path.join(dir, 'config.json');
      const exported = await cli(cliEnv, ['config', 'export', '--out', exportFile]);
      expect(exported.code, exported.stderr).toBe(0);

      const deleted = await cli(cliEnv, ['target', 'delete', 'from-cli', '--yes', '--json']);
      expect(deleted.code, deleted.stderr).toBe(0);
      const imported = await cli(cliEnv, ['config', 'import', exportFile, '--json']);
      expect(imported.code, imported.stderr).toBe(0);
      expect(JSON.parse(imported.stdout).targets.needPassword).toContain('from-cli');
      const back = JSON.parse((await cli(cliEnv, ['target', 'list', '--json'])).stdout);
      expect(back.find((t: { name: string }) => t.name === 'from-cli')).toMatchObject({
        hasPassword: false,
        enabled: false,
      });

      const bad = path.join(dir, 'bad.json');
      await writeFile(
        bad,
        JSON.stringify({ format: 'pgbs-config', version: 1, sections: { targets: [{ name: 'x' }] } }),
      );
      const invalid = await cli(cliEnv, ['config', 'import', bad]);
      expect(invalid.stderr).toContain('config/import-invalid');
    });
  });
});
