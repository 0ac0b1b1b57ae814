// `pnpm bench stages [--stage-mb 256]`: the CPU cost per MB of each stage of the service's backup and
// restore pipelines, each run alone over the same bytes in memory, against the zstd CLI. CPU time
// (the process's user + system, all threads: zlib compresses on libuv's pool), not wall time: on a
// shared machine wall times say more about the neighbours than about the code.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ChunkBatcher,
  DEFAULT_ZSTD_LEVEL,
  DigestStream,
  decryptStream,
  encryptTransform,
  generateAgeIdentity,
  zstdCompressor,
  zstdDecompressor,
} from '@pgbs/engine';
import { type BenchOptions, type BenchSection, MB, cpuOf, progress } from './bench-support.js';

/** What the service's pipeline reads at a time (the engine's ChunkBatcher batches pg_dump's output to this). */
const CHUNK = 256 * 1024;

interface Measure {
  stage: string;
  /** MB the stage read. */
  inputMb: number;
  cpuSeconds: number;
  wallSeconds: number;
  note?: string;
}

export async function run(options: BenchOptions): Promise<BenchSection> {
  const work = await mkdtemp(path.join(tmpdir(), 'pgbs-stages-'));
  try {
    progress(`generating ${options.stageMb} MB shaped like pg_dump -Fc -Z0 output`);
    const clear = dumpLikeBytes(options.stageMb * MB);
    const clearFile = path.join(work, 'clear.dump');
    await writeFile(clearFile, Buffer.concat(clear));
    const { identity, recipient } = await generateAgeIdentity();
    const measures: Measure[] = [];
    const measure = async (
      stage: string,
      input: Buffer[],
      make: () => Transform[] | Promise<Transform[]>,
      note?: string,
    ) => {
      progress(stage);
      const result = await cpuOf(async () => drain(input, await make()));
      measures.push({ stage, inputMb: sizeOf(input) / MB, ...result, note });
      return result.output;
    };

    progress("reading pg_dump's pipe");
    const piped = await cpuOf(async () => {
      // cat stands for pg_dump: its own CPU is not the service's (process.cpuUsage counts this process only).
      const child = spawn('cat', [clearFile], { stdio: ['ignore', 'pipe', 'inherit'] });
      await pipeline(child.stdout, new ChunkBatcher(), discard());
      return [];
    });
    measures.push({
      stage: "reading pg_dump's pipe, batched into 256 KB chunks (ChunkBatcher; cat stands for pg_dump)",
      inputMb: sizeOf(clear) / MB,
      ...piped,
    });
    await measure('sha256 (the content digest, DigestStream)', clear, () => [new DigestStream()]);
    const compressed = await measure(`zstd ${DEFAULT_ZSTD_LEVEL}, Node zlib (the service's compressor)`, clear, () => [
      zstdCompressor(DEFAULT_ZSTD_LEVEL),
    ]);
    const ratio = sizeOf(clear) / sizeOf(compressed);
    measures.at(-1)!.note = `output ${(sizeOf(compressed) / MB).toFixed(1)} MB (ratio ${ratio.toFixed(2)})`;
    const sealed = await measure('age encryption, X25519 (of the compressed bytes)', compressed, async () => [
      (await encryptTransform({ recipients: [recipient] })) as Transform,
    ]);
    await measure('sha256 (the stored digest, of the encrypted bytes)', sealed, () => [new DigestStream()]);
    await measure("the service's whole backup pipeline (digest, zstd, age, digest)", clear, async () => [
      new DigestStream(),
      zstdCompressor(DEFAULT_ZSTD_LEVEL),
      (await encryptTransform({ recipients: [recipient] })) as Transform,
      new DigestStream(),
    ]);
    measures.push(await cliCpu(`zstd -${DEFAULT_ZSTD_LEVEL} CLI`, clearFile, [`-${DEFAULT_ZSTD_LEVEL}`, '-c'], clear));

    const zstFile = path.join(work, 'clear.dump.zst');
    await writeFile(zstFile, Buffer.concat(compressed));
    await measure('zstd decompression, Node zlib (restores)', compressed, () => [zstdDecompressor()]);
    measures.push(await cliCpu('zstd -d CLI', zstFile, ['-d', '-c'], compressed));
    progress('age decryption (restores)');
    const decrypted = await cpuOf(async () => {
      const clearOut = await decryptStream(Readable.from(sealed), { identities: [identity] });
      await pipeline(clearOut, discard());
      return [];
    });
    measures.push({ stage: 'age decryption (restores)', inputMb: sizeOf(sealed) / MB, ...decrypted });
    return { markdown: render(measures, options.stageMb), ok: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Like `pg_dump -Fc -Z0` of the bench's database: half 4 KB rows of hex digests (what the wide
 * table holds), half narrow rows of numbers and timestamps, as COPY text.
 */
function dumpLikeBytes(bytes: number): Buffer[] {
  const chunks: Buffer[] = [];
  let total = 0;
  let id = 0;
  while (total < bytes) {
    const lines: string[] = [];
    let size = 0;
    while (size < CHUNK) {
      id++;
      const line =
        id % 2
          ? `${id}\tdocument ${id}\t${randomBytes(2048).toString('hex')}\n`
          : Array.from(
              { length: 25 },
              (_, i) =>
                `${id * 25 + i}\t${(id * 7919 + i) % 50000}\t2026-0${1 + (i % 9)}-1${i % 10} ${10 + (i % 13)}:${10 + (id % 49)}:${10 + (i % 49)}.${(id * 31 + i) % 1000000}+00\t${((id * 131 + i * 17) % 1000000) / 100}\t${i % 5}\n`,
            ).join('');
      lines.push(line);
      size += line.length;
    }
    const chunk = Buffer.from(lines.join(''));
    chunks.push(chunk);
    total += chunk.length;
  }
  return chunks;
}

const sizeOf = (chunks: Buffer[]) => chunks.reduce((sum, chunk) => sum + chunk.length, 0);

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

/** Runs the chunks through the stages; returns what came out. */
async function drain(input: Buffer[], stages: Transform[]): Promise<Buffer[]> {
  const output: Buffer[] = [];
  const collect = new Writable({
    write: (chunk: Buffer, _encoding, callback) => {
      output.push(chunk);
      callback();
    },
  });
  await pipeline([Readable.from(input), ...stages, collect]);
  return output;
}

/** A CLI's own CPU time (bash's `time`: the child's user + system) reading a file, writing nowhere. */
async function cliCpu(stage: string, file: string, args: string[], input: Buffer[]): Promise<Measure> {
  progress(stage);
  const script = `TIMEFORMAT='%U %S %R'; time zstd -q ${args.join(' ')} "$1" > /dev/null`;
  const child = spawn('bash', ['-c', script, 'bash', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  const times = /([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  if (code !== 0 || !times) throw new Error(`${stage} failed: ${stderr}`);
  return {
    stage,
    inputMb: sizeOf(input) / MB,
    cpuSeconds: Number(times[1]) + Number(times[2]),
    wallSeconds: Number(times[3]),
  };
}

function render(measures: Measure[], sizeMb: number): string {
  return [
    '## Pipeline stages: CPU per MB',
    '',
    `Each stage alone over the same ${sizeMb} MB in memory (shaped like the bench database's \`pg_dump -Fc -Z0\` output), read ${CHUNK / 1024} KB at a time as the service reads pg_dump. CPU is the process's user + system time over all its threads (Node's zstd runs on libuv's pool; a CLI's is its own), so the figures hold on a busy machine; wall time is shown for reference only.`,
    '',
    '| stage | input | CPU | CPU per MB of input | wall |',
    '|---|---|---|---|---|',
    ...measures.map(
      (m) =>
        `| ${m.stage} | ${m.inputMb.toFixed(1)} MB | ${m.cpuSeconds.toFixed(2)} s | ${((m.cpuSeconds * 1000) / m.inputMb).toFixed(2)} ms${m.note ? ` (${m.note})` : ''} | ${m.wallSeconds.toFixed(2)} s |`,
    ),
    '',
  ].join('\n');
}
