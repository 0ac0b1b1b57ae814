// The real service as a child process (what `pnpm start` runs), for the benchmarks and the fault tests
// that kill it: started with an admin account, its URL read from what it prints.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CSRF_HEADER } from '../src/http/yoga.js';

const SERVER_DIR = fileURLToPath(new URL('../', import.meta.url));
export const ADMIN = { email: 'bench@example.com', password: 'bench-password-123' };

export interface Server {
  url: string;
  pid: number;
  /** SIGTERM: a graceful stop. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash or the OOM killer would end it. */
  kill(): Promise<void>;
  /** With PGBS_TRACE_JOBS=1: the job traces it has logged so far (jobs/job-trace.ts), oldest first. */
  jobTraces(): Record<string, unknown>[];
}

/**
 * The built service (bin/server.js, rebuilt when stale; node itself, so that the pid is the server's own), configured by `env`
 * (merged over a random port and the ADMIN account). Resolves once it prints its GraphQL URL.
 */
export async function startServer(env: Record<string, string>): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, ['bin/server.js'], {
    cwd: SERVER_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: '0', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ...env },
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // PGBS_BENCH_SERVICE_LOG=/tmp/x: each service's log in /tmp/x.<pid> (with PGBS_TRACE_JOBS=1, its job traces).
  if (process.env.PGBS_BENCH_SERVICE_LOG) {
    const log = createWriteStream(`${process.env.PGBS_BENCH_SERVICE_LOG}.${child.pid}`);
    child.stderr!.pipe(log);
  }
  const exited = once(child, 'exit');
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /GraphQL API and playground: (\S+)\/graphql/.exec(output);
      if (match) resolve(match[1]!);
    });
    void exited.then(() => reject(new Error(`the service exited during start-up:\n${output.slice(-2000)}`)));
  });
  let stopping = false;
  // A crash would otherwise only show as a vanished pid.
  void exited.then(() => {
    if (!stopping) process.stderr.write(`the service exited unexpectedly:\n${output.slice(-4000)}\n`);
  });
  return {
    url,
    pid: child.pid!,
    async stop() {
      stopping = true;
      child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      stopping = true;
      child.kill('SIGKILL');
      await exited;
    },
    jobTraces: () =>
      [...output.matchAll(/ info job trace (\{.*\})$/gm)].map(
        (match) => JSON.parse(match[1]!) as Record<string, unknown>,
      ),
  };
}

/** Logs a user (the ADMIN account unless told) in; returns the session cookie (`name=value`). */
export async function login(url: string, user: { email: string; password: string } = ADMIN): Promise<string> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename } }',
      variables: { e: user.email, p: user.password },
    }),
  });
  const cookie = response.headers.get('set-cookie');
  if (!cookie) throw new Error(`login failed: ${await response.text()}`);
  return cookie.split(';')[0]!;
}

/** A GraphQL request (a JSON POST: no CSRF header needed); throws on GraphQL errors. */
export async function graphql<T>(
  url: string,
  auth: { token?: string; cookie?: string },
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  if (auth.cookie) headers.cookie = auth.cookie;
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (body.errors || !body.data) throw new Error(`GraphQL error: ${JSON.stringify(body)}`);
  return body.data;
}

/**
 * A GraphQL multipart upload as an integration sends it: `curl -F`, streamed from disk by a
 * process of its own. `variables.file` is the file; returns the response body.
 */
export async function uploadWithCurl(
  url: string,
  cookie: string,
  query: string,
  variables: Record<string, unknown>,
  file: string,
): Promise<string> {
  const { stdout } = await promisify(execFile)('curl', [
    '--silent',
    '--show-error',
    '--header',
    `${CSRF_HEADER}: 1`,
    '--header',
    `cookie: ${cookie}`,
    '-F',
    `operations=${JSON.stringify({ query, variables: { ...variables, file: null } })}`,
    '-F',
    'map={"0":["variables.file"]}',
    '-F',
    `0=@${file}`,
    `${url}/graphql`,
  ]);
  return stdout;
}
