// Helpers shared by the `pnpm bench` scripts: the real service as a child process, a throwaway
// embedded PostgreSQL, logging in, and the server's memory.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// The benchmarks start PostgreSQL exactly as the test runs do.
export { freePort, startThrowawayPostgres, type ThrowawayPostgres } from '@pgbs/test-support';

export const SERVER_DIR = fileURLToPath(new URL('../', import.meta.url));
export const ADMIN = { email: 'bench@example.com', password: 'bench-password-123' };
export const MB = 1024 * 1024;
export const exec = promisify(execFile);

/** On stderr, so that stdout carries only the results. */
export function progress(message: string): void {
  process.stderr.write(`… ${message}\n`);
}

/** Seconds that `work` took. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

export interface Server {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * `src/main.ts` itself (node --import tsx, so that the pid is the server's own), configured by `env`
 * (merged over a random port and the bench admin). Resolves once it prints its GraphQL URL.
 */
export async function startServer(env: Record<string, string>): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: SERVER_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: '0', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ...env },
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /GraphQL API and playground: (\S+)\/graphql/.exec(output);
      if (match) resolve(match[1]!);
    });
    void exited.then(() => reject(new Error(`the service exited during start-up:\n${output.slice(-2000)}`)));
  });
  return {
    url,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Logs the bench admin in; returns the session cookie (`name=value`). */
export async function login(url: string): Promise<string> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename } }',
      variables: { e: ADMIN.email, p: ADMIN.password },
    }),
  });
  const cookie = response.headers.get('set-cookie');
  if (!cookie) throw new Error(`login failed: ${await response.text()}`);
  return cookie.split(';')[0]!;
}

/** VmRSS: what the kernel really holds for the process (heap, buffers, code), in bytes. */
export async function readRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}
