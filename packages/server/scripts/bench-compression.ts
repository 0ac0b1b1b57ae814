// `pnpm bench compression [--stage-mb 256]`: what each zstd level of the service's compressor costs and
// saves on differently shaped data, against pg_dump's own default (gzip inside `pg_dump -Fc`). For
// each dataset of bench-target.ts: one `pg_dump -Fc` (size, time) and one `pg_dump -Fc -Z0` into a
// file, then that file through Node's zlib zstd (the engine's zstdCompressor, as a backup runs it) at
// each level, this process's CPU counted (zlib compresses on libuv's pool). How much smaller zstd gets
// than gzip depends on the data, which is why #12's size target is data-bound.
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_ZSTD_LEVEL, zstdCompressor } from '@pgbs/engine';
import { type BenchOptions, type BenchSection, MB, cpuOf, mb, progress, secs, timedSize } from './bench-support.js';
import { DATASETS, type Dataset, settle, startBenchTarget } from './bench-target.js';

const LEVELS = [1, 2, 3, 4, 6];

interface Row {
  dataset: Dataset;
  dbBytes: number;
  /** `pg_dump -Fc -Z0`'s output. */
  clearBytes: number;
  raw: { seconds: number; bytes: number };
  levels: { level: number; bytes: number; cpuSeconds: number }[];
}

export async function run(options: BenchOptions): Promise<BenchSection> {
  const rows: Row[] = [];
  for (const dataset of Object.keys(DATASETS) as Dataset[]) rows.push(await measure(dataset, options.stageMb));
  return { markdown: render(rows), ok: true };
}

async function measure(dataset: Dataset, sizeMb: number): Promise<Row> {
  const target = await startBenchTarget(sizeMb, {}, dataset);
  try {
    const { raw, pg, dbBytes } = target;
    await settle(pg);
    progress(`${dataset}: pg_dump -Fc`);
    const rawDump = await timedSize(() => raw.dump(path.join(raw.dir, 'default.dump')));
    const clearFile = path.join(raw.dir, 'clear.dump');
    const clearBytes = await raw.dumpUncompressed(clearFile, false);
    const levels = [];
    for (const level of LEVELS) {
      progress(`${dataset}: zstd level ${level}`);
      let bytes = 0;
      const count = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          bytes += chunk.length;
          callback();
        },
      });
      const { cpuSeconds } = await cpuOf(() =>
        pipeline(createReadStream(clearFile, { highWaterMark: MB }), zstdCompressor(level), count),
      );
      levels.push({ level, bytes, cpuSeconds });
    }
    return { dataset, dbBytes, clearBytes, raw: rawDump, levels };
  } finally {
    await target.stop();
  }
}

function render(rows: Row[]): string {
  return [
    '## Compression: zstd levels against pg_dump’s gzip, by shape of data',
    '',
    `Each dataset generated at about the same size on a throwaway PostgreSQL, dumped once with \`pg_dump -Fc\` (its default gzip, inside pg_dump) and once with \`pg_dump -Fc -Z0\` into a file; that file then goes through the service's compressor (Node's zlib zstd, as a backup runs it) at each level. A zstd cell is the size against \`pg_dump -Fc\`'s file, then the CPU seconds zstd took (this process, all threads); the \`pg_dump -Fc\` cell is its file's size and the wall time of the whole dump. The service's default level is ${DEFAULT_ZSTD_LEVEL}.`,
    '',
    `| data | database | \`pg_dump -Fc -Z0\` | \`pg_dump -Fc\` | ${LEVELS.map((level) => `zstd ${level}`).join(' | ')} |`,
    `|---|---|---|---|${LEVELS.map(() => '---|').join('')}`,
    ...rows.map(
      (row) =>
        `| ${DATASETS[row.dataset].describe} (\`${row.dataset}\`) | ${mb(row.dbBytes)} | ${mb(row.clearBytes)} | ${mb(row.raw.bytes)}, ${secs(row.raw.seconds)} | ${row.levels
          .map((l) => `${(l.bytes / row.raw.bytes).toFixed(3)}×, ${secs(l.cpuSeconds)}`)
          .join(' | ')} |`,
    ),
    '',
  ].join('\n');
}
