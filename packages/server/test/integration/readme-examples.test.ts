import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dumpInEveryFormat, withSql } from '@pgbs/test-support';
import { type Server, graphql, login, startServer } from '../../scripts/service-process.js';
import { GRAPHIQL_EXAMPLES } from '../../src/http/graphiql-page.js';
import { type TestEnv, createTestEnv, waitFor } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const serverDir = fileURLToPath(new URL('../../', import.meta.url));
const readme = await readFile(new URL('../../../../README.md', import.meta.url), 'utf8');

/** The fenced blocks of the README's GraphQL examples, in order. */
const examples = [
  ...readme
    .slice(readme.indexOf('### Examples'), readme.indexOf('## Configuration'))
    .matchAll(/```(\w+)\n([\s\S]*?)```/g),
].map(([, lang, code]) => ({ lang: lang!, code: code! }));
const shell = examples.filter((block) => block.lang === 'sh');
const [settings, ...curlBlocks] = shell;
const sse = curlBlocks.find((block) => block.code.includes('text/event-stream'))!;
const script = examples.find((block) => block.lang === 'js')!;

const UUID = /^[0-9a-f-]{36}$/;

describe('the README’s API examples and GraphiQL’s preloaded tabs, against the real server', () => {
  let env: TestEnv;
  let server: Server;
  let work: string;
  const admin = { email: 'admin@localhost', password: randomBytes(12).toString('base64url') };
  let shellEnv: Record<string, string>;

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'readme');
    await withSql(
      env.target.url,
      (sql) => sql`CREATE TABLE notes AS SELECT g AS id, md5(g::text) AS body FROM generate_series(1, 1000) g`,
    );
    server = await startServer({ ...env.env, ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password });
    // Inside packages/server, where the JavaScript example finds graphql-ws and ws installed.
    await mkdir(path.join(serverDir, '.tmp'), { recursive: true });
    work = await mkdtemp(path.join(serverDir, '.tmp', 'readme-'));
    await dumpInEveryFormat(env.target.url, work, 'staging');
    shellEnv = { PGBS_URL: server.url, PGBS_EMAIL: admin.email, PGBS_PASSWORD: admin.password };
  });
  afterAll(async () => {
    await server?.stop();
    await env?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('asks for exactly the settings the examples use', () => {
    expect([...settings!.code.matchAll(/\b(PGBS_\w+)=/g)].map(([, name]) => name).sort()).toEqual(
      Object.keys(shellEnv).sort(),
    );
  });

  it('runs every curl example as written, in one shell, and the graphql-ws script after them', async () => {
    const blocks = curlBlocks.filter((block) => block !== sse).map((block) => block.code);
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    // What the later examples need from the earlier ones, printed last for the checks below.
    const run = [...blocks, 'printf "\\nTOKEN=%s JOB_ID=%s\\n" "$TOKEN" "$JOB_ID"'].join('\n');
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', run], {
      cwd: work,
      env: { ...process.env, ...shellEnv },
    });
    expect(stdout).not.toContain('"errors"');
    expect(stdout).not.toContain('CodedError');
    expect(stdout).toContain('"__typename":"MutationLoginSuccess"');
    expect(stdout).toContain('"__typename":"MutationUploadBackupSuccess"');
    // Right after createBackup, its backup may still be running, so not listed yet.
    expect(stdout).toMatch(/"backups":\{"total":\d+,"items":\[/);
    const [, token, jobId] = /TOKEN=(\S+) JOB_ID=(\S+)/.exec(stdout)!;
    expect(token).toMatch(/^pgbs_/);
    expect(jobId).toMatch(UUID);
    // Both downloads (by token, by signed link) wrote the backup.
    const downloads = (await readdir(work)).filter((name) => !name.startsWith('staging.') && name !== 'cookies.txt');
    expect(downloads).toHaveLength(2);
    for (const name of downloads) expect((await stat(path.join(work, name))).size, name).toBeGreaterThan(0);

    await writeFile(path.join(work, 'follow-job.mjs'), script.code);
    const follow = await promisify(execFile)(process.execPath, ['follow-job.mjs', jobId!], {
      cwd: work,
      env: { ...process.env, ...shellEnv, TOKEN: token! },
    });
    expect(follow.stdout).toContain("state: 'succeeded'");
  });

  it('streams job events with the server-sent events example until stopped', async () => {
    const cookie = await login(server.url, admin);
    const { createApiToken } = await graphql<{ createApiToken: { data: { token: string } } }>(
      server.url,
      { cookie },
      'mutation { createApiToken(name: "sse") { ... on MutationCreateApiTokenSuccess { data { token } } } }',
    );
    const child: ChildProcess = spawn('bash', ['-euo', 'pipefail', '-c', sse.code], {
      env: { ...process.env, ...shellEnv, TOKEN: createApiToken.data.token },
      detached: true,
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      // Started once the stream is open (its first bytes), so that its events are seen.
      await waitFor('the event stream to open', async () => (output ? true : undefined), 10_000).catch(() => {});
      await graphql(server.url, { cookie }, 'mutation { createBackup { __typename } }');
      await waitFor('a finished job event', async () => (/"state":"succeeded"/.test(output) ? true : undefined));
      expect(output).toMatch(/"jobEvents":\{"id":"[0-9a-f-]{36}","kind":"backup"/);
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
    }
  });

  it('runs GraphiQL’s tabs: list the backups, create one, follow its job to the end', async () => {
    const cookie = await login(server.url, admin);
    const listed = await graphql<{ backups: { total: number } }>(server.url, { cookie }, GRAPHIQL_EXAMPLES.listBackups);
    expect(listed.backups.total).toBeGreaterThanOrEqual(0);
    const created = await graphql<{ createBackup: { __typename: string; data: { id: string } } }>(
      server.url,
      { cookie },
      GRAPHIQL_EXAMPLES.createBackup,
    );
    expect(created.createBackup.__typename).toBe('MutationCreateBackupSuccess');
    // The placeholder of the follow tab's variables is what the user replaces with this id.
    const variables = JSON.parse(GRAPHIQL_EXAMPLES.followJobVariables) as { jobId: string };
    expect(Object.keys(variables)).toEqual(['jobId']);
    // GraphiQL subscribes over server-sent events; the stream ends with the job.
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', cookie },
      body: JSON.stringify({ query: GRAPHIQL_EXAMPLES.followJob, variables: { jobId: created.createBackup.data.id } }),
    });
    const events = await response.text();
    expect(events).not.toContain('"errors"');
    expect(events).toMatch(/"percent":100/);
    expect(events).toContain('"state":"succeeded"');
  });
});
