import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type S3TestServer, startS3Server } from '@pgbs/test-support';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { keyIdOf } from '../../src/modules/targets/credential-box.js';
import { auditEvents, backupCopies, backups, destinations } from '../../src/db/schema.js';
import { CSRF_HEADER } from '../../src/http/yoga.js';
import { startHttpServer } from '../../src/http/http-server.js';
import type { Logger } from '../../src/logger.js';
import { login } from '../../scripts/service-process.js';
import { cli } from './cli-process.js';
import { type TestEnv, codeOf, createTestEnv } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const BUCKET = 'pgbs-dest';
const actor = { name: 'test' };

describe('destinations', () => {
  let env: TestEnv;
  let s3: S3TestServer;
  let dir: string;
  const masterKey = randomBytes(32).toString('base64');
  const logLines: string[] = [];
  const logger: Logger = {
    info: (m, f) => logLines.push(`${m} ${JSON.stringify(f ?? {})}`),
    warn: (m, f) => logLines.push(`${m} ${JSON.stringify(f ?? {})}`),
    error: (m, f) => logLines.push(`${m} ${JSON.stringify(f ?? {})}`),
  };
  const start = (extra: Record<string, string> = {}) =>
    createApp(loadConfig({ ...env.env, MASTER_KEY: masterKey, ...extra }), logger, { scheduleTicker: false });
  const s3Input = (name: string, overrides: Record<string, unknown> = {}) => ({
    name,
    kind: 's3' as const,
    endpoint: s3.endpoint,
    bucket: BUCKET,
    prefix: name,
    pathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ...overrides,
  });
  /** Every place a secret could leak to must not hold it (nor the access key id). */
  const expectNoSecret = (text: string) => {
    expect(text).not.toContain(s3.secretAccessKey);
    expect(text).not.toContain(s3.accessKeyId);
  };

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'destinations');
    s3 = await startS3Server({ buckets: [BUCKET] });
    dir = await mkdtemp(path.join(tmpdir(), 'pgbs-destinations-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await s3?.stop();
    await env?.cleanup();
  });

  it('keeps BACKUP_DIR as the env-managed destination "local", read-only', async () => {
    const app = await start();
    try {
      const local = await app.destinations.get('local');
      expect(local).toMatchObject({ kind: 'local', managedBy: 'env', location: env.backupDir, enabled: true });
      expect(await codeOf(app.destinations.update('local', { enabled: false }, actor))).toBe(
        'destination/managed-by-env',
      );
      expect(await codeOf(app.destinations.remove('local', { force: true }, actor))).toBe('destination/managed-by-env');
    } finally {
      await app.close();
    }
    // Refreshed at the next start: the directory follows the environment, the row stays.
    const moved = await mkdtemp(path.join(dir, 'moved-'));
    const app2 = await createApp(loadConfig({ ...env.env, MASTER_KEY: masterKey, BACKUP_DIR: moved }), logger, {
      scheduleTicker: false,
    });
    try {
      const local = await app2.destinations.get('local');
      expect(local.location).toBe(moved);
      expect((await app2.destinations.list()).filter((d) => d.managedBy === 'env')).toHaveLength(1);
    } finally {
      await app2.close();
    }
  });

  it('adds an S3 destination with sealed credentials, tests it, and refuses bad input without change', async () => {
    const app = await start();
    try {
      const { destination, test } = await app.destinations.add(s3Input('offsite'), actor);
      expect(test).toMatchObject({ ok: true });
      expect(destination).toMatchObject({
        kind: 's3',
        hasCredentials: true,
        usage: { copies: 0, bytes: 0 },
        lastTest: { ok: true },
        settings: { endpoint: s3.endpoint, bucket: BUCKET, prefix: 'offsite', pathStyle: true },
      });
      expectNoSecret(JSON.stringify(destination));
      const [row] = await app.db.select().from(destinations).where(eq(destinations.name, 'offsite'));
      expect(row!.credentialsSealed).toMatch(/^v1\./);
      expectNoSecret(JSON.stringify(row));

      const before = (await app.destinations.list()).length;
      const refusals = [
        app.destinations.add(s3Input('offsite'), actor),
        app.destinations.add(s3Input('Bad Name'), actor),
        app.destinations.add(s3Input('no-place', { endpoint: null }), actor),
        app.destinations.add(s3Input('bad-bucket', { bucket: 'b' }), actor),
        app.destinations.add(s3Input('url-secret', { endpoint: `http://k:s@127.0.0.1:1` }), actor),
        app.destinations.add(s3Input('bad-prefix', { prefix: 'a/../b' }), actor),
        app.destinations.add({ name: 'rel', kind: 'local', directory: 'relative/dir' }, actor),
        app.destinations.add({ name: 'mixed', kind: 'local', directory: dir, bucket: BUCKET }, actor),
      ];
      expect(await Promise.all(refusals.map(codeOf))).toEqual([
        'destination/name-taken',
        'destination/invalid-name',
        'input/invalid',
        'input/invalid',
        'input/invalid',
        'input/invalid',
        'input/invalid',
        'input/invalid',
      ]);
      expect(await app.destinations.list()).toHaveLength(before);
    } finally {
      await app.close();
    }
  });

  it('refuses a local directory that is not its own (never makes it owner-only), takes a new one', async () => {
    const app = await start();
    try {
      // Somebody else's directory: files that are not backups, readable by others.
      const foreign = await mkdtemp(path.join(tmpdir(), 'pgbs-foreign-'));
      await writeFile(path.join(foreign, 'notes.txt'), 'not a backup');
      await chmod(foreign, 0o755);
      const before = (await app.destinations.list()).length;
      expect(await codeOf(app.destinations.add({ name: 'foreign', kind: 'local', directory: foreign }, actor))).toBe(
        'input/invalid',
      );
      expect(await codeOf(app.destinations.add({ name: 'root', kind: 'local', directory: '/' }, actor))).toBe(
        'input/invalid',
      );
      expect(await app.destinations.list()).toHaveLength(before);
      expect((await stat(foreign)).mode & 0o777).toBe(0o755);
      expect((await stat('/')).mode & 0o777).not.toBe(0o700);
      await rm(foreign, { recursive: true, force: true });

      const fresh = path.join(dir, 'new-local');
      const { test } = await app.destinations.add({ name: 'fresh', kind: 'local', directory: fresh }, actor);
      expect(test.ok).toBe(true);
      expect((await stat(fresh)).mode & 0o777).toBe(0o700);
      await app.destinations.remove('fresh', { force: true }, actor);
    } finally {
      await app.close();
    }
  });

  it('reports a wrong credential, a missing bucket and a stopped server as coded test results', async () => {
    const app = await start();
    try {
      const wrong = await app.destinations.add(
        s3Input('wrong-key', { credentials: { accessKeyId: 'PGBSUNKNOWN', secretAccessKey: 'not-the-secret-42' } }),
        actor,
      );
      expect(wrong.test).toMatchObject({ ok: false, error: { code: 'destination/auth-failed' } });
      expect(JSON.stringify(wrong)).not.toContain('not-the-secret-42');
      const missing = await app.destinations.add(s3Input('no-bucket', { bucket: 'pgbs-missing' }), actor);
      expect(missing.test).toMatchObject({ ok: false, error: { code: 'destination/bucket-missing' } });
      expect((await app.destinations.get('no-bucket')).lastTest).toMatchObject({
        ok: false,
        error: { code: 'destination/bucket-missing' },
      });
      // Fixed by setting the bucket: tested again, it works.
      await app.destinations.update('no-bucket', { bucket: BUCKET }, actor);
      expect(await app.destinations.test('no-bucket', actor)).toMatchObject({ ok: true });
      // And new credentials for the wrong one.
      await app.destinations.update(
        'wrong-key',
        { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } },
        actor,
      );
      expect(await app.destinations.test('wrong-key', actor)).toMatchObject({ ok: true });
      await s3.kill();
      try {
        expect(await app.destinations.test('wrong-key', actor)).toMatchObject({
          ok: false,
          error: { code: 'destination/unreachable' },
        });
      } finally {
        await s3.restart();
      }
    } finally {
      await app.close();
    }
  });

  it("counts usage from the catalog, orders a target's destinations, and guards removal", async () => {
    const app = await start();
    try {
      await app.destinations.add(s3Input('second'), actor);
      const target = (await app.targets.list())[0]!;
      const ordered = await app.destinations.setForTarget(target.name, ['second', 'local'], actor);
      expect(ordered.map((d) => d.name)).toEqual(['second', 'local']);
      expect((await app.destinations.ofTarget(target.id)).map((d) => d.name)).toEqual(['second', 'local']);
      expect(await codeOf(app.destinations.setForTarget(target.name, ['local', 'local'], actor))).toBe('input/invalid');
      expect(await codeOf(app.destinations.setForTarget(target.name, ['local', 'nowhere'], actor))).toBe(
        'destination/not-found',
      );
      expect((await app.destinations.ofTarget(target.id)).map((d) => d.name)).toEqual(['second', 'local']);

      expect(await codeOf(app.destinations.remove('second', {}, actor))).toBe('destination/in-use');
      await app.destinations.setForTarget(target.name, ['local'], actor);

      const second = await app.destinations.get('second');
      const backupIds = [randomUUID(), randomUUID(), randomUUID()];
      await app.db.insert(backups).values(
        backupIds.map((id, i) => ({
          id,
          fileName: `usage-${i}-${id}.dump`,
          format: 'custom',
          sizeBytes: 1000,
          sha256: '0'.repeat(64),
          origin: 'backup',
          targetId: target.id,
        })),
      );
      await app.db.insert(backupCopies).values([
        { backupId: backupIds[0]!, destinationId: second.id, state: 'complete', objectName: 'a', sizeBytes: 1200 },
        { backupId: backupIds[1]!, destinationId: second.id, state: 'complete', objectName: 'b', sizeBytes: 34 },
        { backupId: backupIds[2]!, destinationId: second.id, state: 'failed', objectName: 'c', sizeBytes: 999 },
      ]);
      expect((await app.destinations.get('second')).usage).toEqual({ copies: 2, bytes: 1234 });

      expect(await codeOf(app.destinations.remove('second', {}, actor))).toBe('destination/in-use');
      const removed = await app.destinations.remove('second', { force: true }, actor);
      expect(removed.hasCredentials).toBe(false);
      expect(await codeOf(app.destinations.get('second'))).toBe('destination/not-found');
      // The name is free again; the removed row stays for its copies.
      await app.destinations.add(s3Input('second'), actor);
    } finally {
      await app.close();
    }
  });

  it('answers no credential or sealed value through GraphQL', async () => {
    const app = await start();
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
        'id name kind location endpoint bucket prefix pathStyle hasCredentials enabled managedBy copies usedBytes lastTest { ok errorCode errorMessage }';
      const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
      const answers = [
        await gql(
          `mutation($input: AddDestinationInput!) { addDestination(input: $input) { ... on MutationAddDestinationSuccess { data { destination { ${fields} } test { ok errorCode } } } ... on CodedError { code } } }`,
          {
            input: {
              name: 'via-api',
              kind: 's3',
              endpoint: s3.endpoint,
              bucket: BUCKET,
              prefix: 'api',
              pathStyle: true,
              credentials,
            },
          },
        ),
        await gql(
          `mutation { testDestination(id: "via-api") { ... on MutationTestDestinationSuccess { data { ok } } } }`,
        ),
        await gql(`{ destinations { ${fields} } }`),
        await gql(
          `mutation($input: UpdateDestinationInput!) { updateDestination(id: "via-api", input: $input) { ... on MutationUpdateDestinationSuccess { data { ${fields} } } } }`,
          { input: { credentials } },
        ),
        await gql(
          `mutation { removeDestination(id: "via-api", confirmation: "wrong") { ... on CodedError { code } } }`,
        ),
        await gql(`{ auditEvents(actionPrefix: "destination") { action outcome details } }`),
      ];
      expect(answers[0]).toContain('"hasCredentials":true');
      expect(answers[0]).toContain('"ok":true');
      expect(answers[1]).toContain('"ok":true');
      expect(answers[2]).toContain('"managedBy":"env"');
      expect(answers[4]).toContain('input/invalid');
      expect(answers[5]).toContain('destination.add');
      const [row] = await app.db.select().from(destinations).where(eq(destinations.name, 'via-api'));
      for (const answer of answers) {
        expectNoSecret(answer);
        expect(answer).not.toContain(row!.credentialsSealed!.split('.')[3]!);
      }
    } finally {
      await http.close();
      await app.close();
    }
    expectNoSecret(logLines.join('\n'));
  });

  describe('CLI', () => {
    it('adds with credentials from a file, lists, tests, sets a target, deletes; the secret never in output or argv', async () => {
      const cliEnv = { ...env.env, MASTER_KEY: masterKey };
      const file = path.join(dir, 'credentials');
      await writeFile(
        file,
        `[default]\naws_access_key_id = ${s3.accessKeyId}\naws_secret_access_key = ${s3.secretAccessKey}\n`,
        { mode: 0o600 },
      );
      const runs = [];
      const add = await cli(cliEnv, [
        'destination',
        'add',
        'from-cli',
        '--s3-endpoint',
        s3.endpoint,
        '--bucket',
        BUCKET,
        '--prefix',
        'cli',
        '--path-style',
        '--credentials-file',
        file,
        '--json',
      ]);
      runs.push(add);
      expect(add.code, add.stderr).toBe(0);
      expect(JSON.parse(add.stdout)).toMatchObject({
        destination: { name: 'from-cli', hasCredentials: true },
        test: { ok: true },
      });

      const list = await cli(cliEnv, ['destination', 'list', '--json']);
      runs.push(list);
      expect(JSON.parse(list.stdout).map((d: { name: string }) => d.name)).toEqual(
        expect.arrayContaining(['from-cli', 'local']),
      );
      const human = await cli(cliEnv, ['destination', 'list']);
      runs.push(human);
      expect(human.stdout).toMatch(/from-cli\s+s3\s+enabled/);

      const test = await cli(cliEnv, ['destination', 'test', 'from-cli']);
      runs.push(test);
      expect(test.code, test.stderr).toBe(0);

      // From the environment at add time, as AWS tools do.
      const fromEnv = await cli(
        { ...cliEnv, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey },
        ['destination', 'add', 'from-env', '--s3-endpoint', s3.endpoint, '--bucket', BUCKET, '--path-style', '--json'],
      );
      runs.push(fromEnv);
      expect(JSON.parse(fromEnv.stdout)).toMatchObject({ destination: { hasCredentials: true }, test: { ok: true } });

      const wrongFile = path.join(dir, 'wrong');
      await writeFile(wrongFile, JSON.stringify({ accessKeyId: 'PGBSUNKNOWN', secretAccessKey: 'cli-wrong-secret' }));
      const wrong = await cli(cliEnv, [
        'destination',
        'add',
        'wrong-cli',
        '--s3-endpoint',
        s3.endpoint,
        '--bucket',
        BUCKET,
        '--path-style',
        '--credentials-file',
        wrongFile,
      ]);
      expect(wrong.code).toBe(1);
      expect(wrong.stdout).toContain('destination/auth-failed');
      expect(wrong.stdout + wrong.stderr).not.toContain('cli-wrong-secret');

      const secretOption = await cli(cliEnv, ['destination', 'add', 'x', '--dir', dir, '--secret', 'abc']);
      expect(secretOption.code).toBe(2);

      const target = env.target.name;
      const set = await cli(cliEnv, ['target', 'set', target, '--destinations', 'from-cli,local', '--json']);
      runs.push(set);
      expect(set.code, set.stderr).toBe(0);
      expect(JSON.parse(set.stdout).destinations).toEqual(['from-cli', 'local']);
      const inUse = await cli(cliEnv, ['destination', 'delete', 'from-cli', '--yes']);
      expect(inUse.code).toBe(1);
      expect(inUse.stderr).toContain('destination/in-use');
      const reset = await cli(cliEnv, ['target', 'set', target, '--destinations', '', '--json']);
      expect(JSON.parse(reset.stdout).destinations).toEqual([]);

      const deleted = await cli(cliEnv, ['destination', 'delete', 'from-cli', '--yes', '--json']);
      runs.push(deleted);
      expect(deleted.code, deleted.stderr).toBe(0);
      expect(JSON.parse(deleted.stdout)).toMatchObject({ name: 'from-cli', hasCredentials: false });

      for (const run of runs) expectNoSecret(run.stdout + run.stderr);
      const app: App = await start();
      try {
        const rows = await app.db.select().from(destinations);
        expectNoSecret(JSON.stringify(rows));
        const audit = await app.db.select().from(auditEvents);
        expect(audit.some((event) => event.action === 'destination.add')).toBe(true);
        expectNoSecret(JSON.stringify(audit));
      } finally {
        await app.close();
      }
    });
  });
  it("never signs with the machine's own credentials unless told to; an old row without any sends nothing", async () => {
    // A stand-in endpoint that counts what reaches it: nothing may.
    let requests = 0;
    const counter = createServer((_request, response) => {
      requests++;
      response.writeHead(500).end();
    });
    await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(counter.address() as AddressInfo).port}`;
    let app = await start();
    try {
      const before = (await app.destinations.list()).length;
      expect(await codeOf(app.destinations.add(s3Input('no-creds', { endpoint, credentials: null }), actor))).toBe(
        'destination/credentials-required',
      );
      expect(
        await codeOf(app.destinations.add(s3Input('both', { endpoint, credentialSource: 'environment' }), actor)),
      ).toBe('input/invalid');
      expect(await app.destinations.list()).toHaveLength(before);
      // A row from before the setting (no credentials, no source): refused at use, before any request.
      const legacy = await app.destinations.add(s3Input('legacy', { endpoint }), actor);
      expect(legacy.test).toMatchObject({ ok: false });
      requests = 0;
      await app.db.update(destinations).set({ credentialsSealed: null }).where(eq(destinations.name, 'legacy'));
      expect(await app.destinations.test('legacy', actor)).toMatchObject({
        ok: false,
        error: { code: 'destination/credentials-required' },
      });
      expect(requests).toBe(0);
      // Removing the stored credentials without opting into the environment's is refused.
      await app.destinations.add(s3Input('keeps-creds'), actor);
      expect(await codeOf(app.destinations.update('keeps-creds', { credentials: null }, actor))).toBe(
        'destination/credentials-required',
      );
      expect((await app.destinations.get('keeps-creds')).hasCredentials).toBe(true);

      // The machine's own credentials go to AWS only, unless the operator lists the endpoint: not
      // at add, not at set, and not at use for a row stored before (nothing reaches it).
      const envOnly = { credentials: null, credentialSource: 'environment' as const };
      const countBefore = (await app.destinations.list()).length;
      expect(await codeOf(app.destinations.add(s3Input('elsewhere', { endpoint, ...envOnly }), actor))).toBe(
        'destination/environment-credentials-refused',
      );
      expect(await app.destinations.list()).toHaveLength(countBefore);
      expect(await codeOf(app.destinations.update('keeps-creds', envOnly, actor))).toBe(
        'destination/environment-credentials-refused',
      );
      expect((await app.destinations.get('keeps-creds')).hasCredentials).toBe(true);
      await app.db
        .update(destinations)
        .set({ settings: { ...legacy.destination.settings, credentialSource: 'environment' } })
        .where(eq(destinations.name, 'legacy'));
      expect(await app.destinations.test('legacy', actor)).toMatchObject({
        ok: false,
        error: { code: 'destination/environment-credentials-refused' },
      });
      expect(requests).toBe(0);
      await app.close();
      app = await start({ S3_ENV_CREDENTIALS_ENDPOINTS: `${s3.endpoint}/` });

      // The explicit opt-in: the SDK's chain (here AWS_* of this process) signs, and it shows.
      const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
      process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
      try {
        const ambient = await app.destinations.add(
          s3Input('ambient', { credentials: null, credentialSource: 'environment' }),
          actor,
        );
        expect(ambient.test).toMatchObject({ ok: true });
        expect(ambient.destination).toMatchObject({
          hasCredentials: false,
          settings: { credentialSource: 'environment' },
        });
        // Switching the legacy row to the environment works too; back to stored needs credentials.
        await app.destinations.update('legacy', { credentialSource: 'environment', endpoint: s3.endpoint }, actor);
        expect(await app.destinations.test('legacy', actor)).toMatchObject({ ok: true });
        expect(await codeOf(app.destinations.update('legacy', { credentialSource: 'stored' }, actor))).toBe(
          'destination/credentials-required',
        );
      } finally {
        for (const [name, value] of [
          ['AWS_ACCESS_KEY_ID', saved.id],
          ['AWS_SECRET_ACCESS_KEY', saved.secret],
        ] as const) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }
    } finally {
      await app.close();
      counter.close();
    }
  });

  it('refuses link-local and metadata endpoints at add and update; loopback stays allowed', async () => {
    const app = await start();
    try {
      const before = (await app.destinations.list()).length;
      const forbidden = [
        'http://169.254.169.254',
        'http://169.254.170.2:80',
        'http://[fe80::1]:9000',
        'http://[::ffff:169.254.169.254]',
        'http://2852039166',
        'http://metadata.google.internal',
        'http://METADATA.google.internal.',
        'http://[fd00:ec2::254]',
        'http://[fd00:ec2::23]',
        'http://[64:ff9b::a9fe:a9fe]',
        'http://[64:ff9b::169.254.169.254]',
      ];
      for (const endpoint of forbidden) {
        expect(await codeOf(app.destinations.add(s3Input('meta', { endpoint }), actor)), endpoint).toBe(
          'destination/endpoint-forbidden',
        );
      }
      expect(await app.destinations.list()).toHaveLength(before);
      // Loopback (s3rver here, MinIO beside the service) is allowed; moving it to a metadata address is not.
      await app.destinations.add(s3Input('loopback'), actor);
      expect(await codeOf(app.destinations.update('loopback', { endpoint: 'http://169.254.169.254:80' }, actor))).toBe(
        'destination/endpoint-forbidden',
      );
      expect((await app.destinations.get('loopback')).settings['endpoint']).toBe(s3.endpoint);
      expect(s3.endpoint).toMatch(/127\.0\.0\.1|localhost/);
    } finally {
      await app.close();
    }
  });

  it("stores only an S3 error code and HTTP status from an endpoint's error, never its text", async () => {
    // A hostile endpoint: its error text would otherwise land in last_test and in answers.
    const hostile = createServer((_request, response) => {
      response
        .writeHead(503, { 'content-type': 'application/xml' })
        .end(
          '<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>visit evil.example <script>x</script></Message></Error>',
        );
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
    const app = await start();
    try {
      const added = await app.destinations.add(s3Input('hostile', { endpoint }), actor);
      expect(added.test).toMatchObject({ ok: false });
      const stored = JSON.stringify((await app.destinations.get('hostile')).lastTest);
      expect(stored).not.toMatch(/evil|script/);
      expect(stored).toMatch(/SlowDown|HTTP 503/);
    } finally {
      await app.close();
      hostile.close();
    }
  });

  // Last: the credentials are sealed with another key afterwards.
  it('re-seals stored credentials with the current key at start; the old key can then go', async () => {
    const newKey = randomBytes(32).toString('base64');
    const keyIdOfSealed = async (app: App) =>
      (await app.db.select().from(destinations).where(eq(destinations.name, 'offsite')))[0]!.credentialsSealed!.split(
        '.',
      )[1];
    const old = await start();
    try {
      expect(await keyIdOfSealed(old)).toBe(keyIdOf(Buffer.from(masterKey, 'base64')));
    } finally {
      await old.close();
    }
    const rotated = await createApp(loadConfig({ ...env.env, MASTER_KEY: `${newKey},${masterKey}` }), logger, {
      scheduleTicker: false,
    });
    try {
      expect(await keyIdOfSealed(rotated)).toBe(keyIdOf(Buffer.from(newKey, 'base64')));
      expect(await rotated.destinations.rotateKeys()).toMatchObject({ resealed: 0, failed: [] });
    } finally {
      await rotated.close();
    }
    const onlyNew = await createApp(loadConfig({ ...env.env, MASTER_KEY: newKey }), logger, { scheduleTicker: false });
    try {
      expect(await onlyNew.destinations.test('offsite', actor)).toMatchObject({ ok: true });
    } finally {
      await onlyNew.close();
    }
  });
});
