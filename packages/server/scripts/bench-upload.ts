// `pnpm bench upload [--upload-mb 2048] [--runs 3]`: the real service in a child process (on its
// own embedded PostgreSQL under a temp dir) receives a generated plain SQL file as a GraphQL
// multipart upload (uploadBackup, sent by curl), `runs` times. Reports the server's memory (VmRSS,
// sampled every 100 ms) and the throughput, next to a plain `cp` of the same file.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import {
  type BenchOptions,
  type BenchSection,
  MB,
  type Server,
  exec,
  freePort,
  login,
  mb,
  median,
  progress,
  readRss,
  sampleEvery,
  startServer,
  steadyRss,
  timed,
} from './bench-support.js';
import { uploadWithCurl } from './service-process.js';

const TARGET_GROWTH_MB = 150;

interface UploadRun {
  /** Peak RSS over the idle baseline, while receiving and including validation. */
  growthReceiving: number;
  growthTotal: number;
  receivedSeconds: number;
  responseSeconds: number;
}

export async function run(options: BenchOptions): Promise<BenchSection> {
  const work = await mkdtemp(path.join(tmpdir(), 'pgbs-bench-'));
  // As root, embedded PostgreSQL runs as the postgres user, which must reach its data directory.
  await chmod(work, 0o755);
  let server: Server | undefined;
  try {
    const file = path.join(work, 'bench.sql');
    progress(`generating ${options.uploadMb} MB of plain SQL`);
    await generateSql(file, options.uploadMb * MB);
    const { size } = await stat(file);
    // Dirty pages are flushed between the steps: background writeback would blur the timings.
    await exec('sync');
    const copySeconds = await timed(() => exec('cp', [file, `${file}.copy`]));
    await rm(`${file}.copy`);

    progress('starting the service (embedded PostgreSQL)');
    const uploadDir = path.join(work, 'uploads');
    server = await startServer({
      DATABASE_URL: '',
      METADATA_DATABASE_URL: '',
      DATA_DIR: path.join(work, 'data'),
      EMBEDDED_PG_PORT: String(await freePort()),
      UPLOAD_TEMP_DIR: uploadDir,
      RATE_LIMIT_UPLOADS_PER_HOUR: '100000',
    });
    const cookie = await login(server.url);
    const runs: UploadRun[] = [];
    for (let i = 1; i <= options.runs; i++) {
      progress(`upload ${i}/${options.runs}`);
      await exec('sync');
      runs.push(await measureUpload(server, cookie, file, size, uploadDir));
    }

    const medianOf = (pick: (r: UploadRun) => number) => median(runs.map(pick));
    const growth = Math.max(...runs.map((r) => r.growthTotal));
    const receivedSeconds = medianOf((r) => r.receivedSeconds);
    const ok = growth < TARGET_GROWTH_MB * MB;
    const markdown = [
      '## Upload: a large multipart upload to the API',
      '',
      `A ${mb(size)} plain SQL file (one table, one COPY) sent ${runs.length} time(s) with \`curl -F\` to \`uploadBackup\`, which spools it to disk and validates it completely (format, trailer, the plain-SQL guard) before it answers. Medians; the growth is the largest of the runs.`,
      '',
      '| measure | value | target |',
      '|---|---|---|',
      `| server peak RSS growth while receiving | ${mb(Math.max(...runs.map((r) => r.growthReceiving)))} | |`,
      `| server peak RSS growth incl. validation | ${mb(growth)} | < ${TARGET_GROWTH_MB} MB: ${ok ? 'met' : 'MISSED'} |`,
      `| received and spooled | ${receivedSeconds.toFixed(1)} s, ${(size / MB / receivedSeconds).toFixed(0)} MB/s | |`,
      `| response (after validation) | ${medianOf((r) => r.responseSeconds).toFixed(1)} s | |`,
      `| \`cp\` of the same file | ${copySeconds.toFixed(1)} s, ${(size / MB / copySeconds).toFixed(0)} MB/s | |`,
      '',
      `Per run (received s / response s / peak growth): ${runs.map((r) => `${r.receivedSeconds.toFixed(1)} / ${r.responseSeconds.toFixed(1)} / ${mb(r.growthTotal)}`).join('; ')}.`,
      '',
    ].join('\n');
    return { markdown, ok };
  } finally {
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

async function measureUpload(
  server: Server,
  cookie: string,
  file: string,
  size: number,
  uploadDir: string,
): Promise<UploadRun> {
  const baseline = await steadyRss(server.pid);
  const watcher = watch(server.pid, uploadDir);
  const start = performance.now();
  try {
    await upload(server.url, cookie, file);
  } finally {
    await watcher.stop();
  }
  const end = performance.now();
  const samples = watcher.samples;
  const received = samples.find((s) => s.spooled >= size)?.at ?? end;
  const peak = (until: number) => Math.max(...samples.filter((s) => s.at <= until).map((s) => s.rss));
  return {
    growthReceiving: peak(received) - baseline,
    growthTotal: peak(end) - baseline,
    receivedSeconds: (received - start) / 1000,
    responseSeconds: (end - start) / 1000,
  };
}

/** One table and one big COPY, written with backpressure (never held in memory). */
async function generateSql(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  const head =
    'CREATE TABLE bench (id bigint PRIMARY KEY, payload text NOT NULL);\nCOPY bench (id, payload) FROM stdin;\n';
  // pg_dump's closing lines: without them the service refuses the file as truncated.
  const end = '\\.\n\n--\n-- PostgreSQL database dump complete\n--\n';
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
 * Every 100 ms: the server's VmRSS and how many bytes have been spooled to the upload temp dir,
 * which tells when the body was received.
 */
function watch(pid: number, uploadDir: string) {
  return sampleEvery(100, async () => {
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
    return { at: performance.now(), rss, spooled: sizes.reduce((a, b) => a + b, 0) };
  });
}

async function upload(url: string, cookie: string, file: string): Promise<void> {
  const query =
    'mutation($file: File!) { uploadBackup(file: $file, description: "bench") { __typename ... on CodedError { code message } } }';
  const stdout = await uploadWithCurl(url, cookie, query, {}, file);
  if (!stdout.includes('MutationUploadBackupSuccess')) throw new Error(`the upload failed: ${stdout}`);
}
