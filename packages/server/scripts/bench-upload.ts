// `pnpm bench upload [--size-mb 1024]`: the real service in a child process (on its own embedded
// PostgreSQL under a temp dir) receives a generated plain SQL file as a GraphQL multipart upload
// (uploadBackup, sent by curl). Prints the server's memory (VmRSS, sampled every 100 ms) and the
// throughput, next to a plain `cp` of the same file.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { CSRF_HEADER } from '../src/http/yoga.js';
import { MB, type Server, exec, freePort, login, progress, readRss, startServer, timed } from './bench-support.js';

const TARGET_GROWTH_MB = 150;

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'size-mb': { type: 'string', default: '1024' } } });
  const sizeMb = Number(values['size-mb']);
  if (!Number.isInteger(sizeMb) || sizeMb < 1) throw new Error('--size-mb must be a positive integer');

  const work = await mkdtemp(path.join(tmpdir(), 'pgbs-bench-'));
  // As root, embedded PostgreSQL runs as the postgres user, which must reach its data directory.
  await chmod(work, 0o755);
  let server: Server | undefined;
  try {
    const file = path.join(work, 'bench.sql');
    progress(`generating ${sizeMb} MB of plain SQL`);
    await generateSql(file, sizeMb * MB);
    const { size } = await stat(file);
    // Dirty pages are flushed between the steps: background writeback would blur the timings.
    await exec('sync');
    const copySeconds = await timed(() => exec('cp', [file, `${file}.copy`]));
    await rm(`${file}.copy`);
    await exec('sync');

    progress('starting the service (embedded PostgreSQL)');
    const uploadDir = path.join(work, 'uploads');
    server = await startServer({
      DATABASE_URL: '',
      METADATA_DATABASE_URL: '',
      DATA_DIR: path.join(work, 'data'),
      EMBEDDED_PG_PORT: String(await freePort()),
      UPLOAD_TEMP_DIR: uploadDir,
    });
    const cookie = await login(server.url);
    const watcher = watch(server.pid, uploadDir);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const baseline = watcher.latest().rss;
    progress('uploading');
    const start = performance.now();
    await upload(server.url, cookie, file);
    const end = performance.now();
    const samples = watcher.stop();
    const received = samples.find((s) => s.spooled >= size)?.at ?? end;
    const peak = (until: number) => Math.max(...samples.filter((s) => s.at <= until).map((s) => s.rss));

    const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const growth = peak(end) - baseline;
    const lines = [
      `upload benchmark: ${mb(size)} of plain SQL, uploadBackup over HTTP with curl -F`,
      `  server RSS baseline              ${mb(baseline)}`,
      `  server RSS peak while receiving  ${mb(peak(received))}`,
      `  server RSS peak incl. validation ${mb(peak(end))}`,
      `  peak growth                      ${mb(growth)} (target < ${TARGET_GROWTH_MB} MB: ${growth < TARGET_GROWTH_MB * MB ? 'ok' : 'EXCEEDED'})`,
      `  received and spooled in          ${seconds(received - start)}, ${(size / MB / ((received - start) / 1000)).toFixed(0)} MB/s`,
      `  response (after validation) in   ${seconds(end - start)}`,
      `  cp of the same file              ${copySeconds.toFixed(1)} s, ${(size / MB / copySeconds).toFixed(0)} MB/s: receiving takes ${((received - start) / 1000 / copySeconds).toFixed(1)}× as long`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (growth >= TARGET_GROWTH_MB * MB) process.exitCode = 1;
  } finally {
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** One table and one big COPY, written with backpressure (never held in memory). */
async function generateSql(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  const head =
    'CREATE TABLE bench (id bigint PRIMARY KEY, payload text NOT NULL);\nCOPY bench (id, payload) FROM stdin;\n';
  const end = '\\.\n';
  const payload = 'pgbs-bench-'.repeat(9);
  await write(head);
  let written = head.length + end.length;
  let id = 0;
  while (written < bytes) {
    let block = '';
    while (block.length < MB && written + block.length < bytes) block += `${++id}\t${payload}\n`;
    written += block.length;
    await write(block);
  }
  await write(end);
  out.end();
  await finished(out);
}

/**
 * Every 100 ms: the server's VmRSS (what the kernel really holds for it: heap, buffers, code) and
 * how many bytes have been spooled to the upload temp dir, which tells when the body was received.
 */
function watch(pid: number, uploadDir: string) {
  const samples: { at: number; rss: number; spooled: number }[] = [];
  const sample = async () => {
    const rss = await readRss(pid);
    const files = await readdir(uploadDir).catch(() => []);
    const sizes = await Promise.all(
      files.map((f) =>
        stat(path.join(uploadDir, f)).then(
          (s) => s.size,
          () => 0,
        ),
      ),
    );
    samples.push({
      at: performance.now(),
      rss,
      spooled: sizes.reduce((a, b) => a + b, 0),
    });
  };
  void sample();
  const timer = setInterval(() => void sample(), 100);
  return {
    latest: () => samples.at(-1)!,
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/** curl -F, as an integration would send it: streamed from disk, in its own process. */
async function upload(url: string, cookie: string, file: string): Promise<void> {
  const query =
    'mutation($file: File!) { uploadBackup(file: $file, description: "bench") { __typename ... on CodedError { code message } } }';
  const { stdout } = await exec('curl', [
    '--silent',
    '--show-error',
    '--header',
    `${CSRF_HEADER}: 1`,
    '--header',
    `cookie: ${cookie}`,
    '-F',
    `operations=${JSON.stringify({ query, variables: { file: null } })}`,
    '-F',
    'map={"0":["variables.file"]}',
    '-F',
    `0=@${file}`,
    `${url}/graphql`,
  ]);
  if (!stdout.includes('MutationUploadBackupSuccess')) throw new Error(`the upload failed: ${stdout}`);
}
