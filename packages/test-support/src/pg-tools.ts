import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** libpq variables for `url`: the password travels in PGPASSWORD, never in argv. */
export function libpqEnv(url: string): Record<string, string> {
  const parsed = new URL(url);
  return {
    PGHOST: decodeURIComponent(parsed.hostname),
    PGPORT: parsed.port || '5432',
    PGUSER: decodeURIComponent(parsed.username),
    PGPASSWORD: decodeURIComponent(parsed.password),
    PGDATABASE: decodeURIComponent(parsed.pathname.slice(1)),
  };
}

/**
 * Runs a PostgreSQL client tool (found on PATH) against the database of `url`, with `input` (a
 * file or bytes) on stdin. Resolves with the exit code instead of rejecting: callers decide
 * whether a failure is expected.
 */
export function runPgTool(
  tool: 'pg_dump' | 'pg_restore' | 'psql',
  args: readonly string[],
  url: string,
  input?: { file: string } | Buffer | string,
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, {
      env: { ...process.env, ...libpqEnv(url), PGCONNECT_TIMEOUT: '10' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', reject);
    // A tool that exits early closes stdin: EPIPE is then expected, its exit code tells why.
    child.stdin.on('error', () => {});
    if (input === undefined) child.stdin.end();
    else {
      const source =
        typeof input === 'object' && 'file' in input ? createReadStream(input.file) : Readable.from([input]);
      pipeline(source, child.stdin).catch(() => {});
    }
    child.once('close', (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
  });
}

/** Like runPgTool, but a non-zero exit is an error that carries the tool's stderr. */
export async function runPgToolOrThrow(...call: Parameters<typeof runPgTool>): Promise<ToolResult> {
  const result = await runPgTool(...call);
  if (result.code !== 0) throw new Error(`${call[0]} exited ${result.code}:\n${result.stderr}`);
  return result;
}

/**
 * The database at `url` dumped by the real pg_dump in each format an upload may have, as
 * `<base>.dump`, `.tar`, `.sql` and `.sql.gz` in `dir`; returns each file's bytes by name.
 * `options` are extra pg_dump options (e.g. --no-owner).
 */
export async function dumpInEveryFormat(
  url: string,
  dir: string,
  base: string,
  options: readonly string[] = [],
): Promise<Map<string, Buffer>> {
  const dumps = new Map<string, Buffer>();
  for (const [suffix, format] of [
    ['dump', 'c'],
    ['tar', 't'],
    ['sql', 'p'],
  ] as const) {
    const file = path.join(dir, `${base}.${suffix}`);
    await runPgToolOrThrow('pg_dump', [`--format=${format}`, `--file=${file}`, ...options], url);
    dumps.set(`${base}.${suffix}`, await readFile(file));
  }
  const gzip = gzipSync(dumps.get(`${base}.sql`)!);
  await writeFile(path.join(dir, `${base}.sql.gz`), gzip);
  dumps.set(`${base}.sql.gz`, gzip);
  return dumps;
}
