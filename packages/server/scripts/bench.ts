// `pnpm bench [all|backup-restore|upload] [options]`: benchmarks that run the real service against
// the raw tools (not tests: they print figures). `all` (the default) runs every part and writes the
// report into docs/benchmarks.md, between its markers, unless --out names another file.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type BenchOptions, type BenchSection, machineFacts, progress } from './bench-support.js';

type Part = (options: BenchOptions) => Promise<BenchSection>;

const parts: Record<string, () => Promise<Part>> = {
  'backup-restore': async () => (await import('./bench-backup-restore.js')).run,
  upload: async () => (await import('./bench-upload.js')).run,
};

const START = '<!-- pnpm bench: start -->';
const END = '<!-- pnpm bench: end -->';
const REPO_DIR = path.resolve(import.meta.dirname, '../../..');

const args = process.argv.slice(2);
const { values, positionals } = parseArgs({
  args,
  allowPositionals: true,
  options: {
    'size-mb': { type: 'string', default: '1024' },
    runs: { type: 'string', default: '3' },
    'upload-mb': { type: 'string', default: '2048' },
    subscribers: { type: 'string', default: '200' },
    out: { type: 'string' },
  },
});
const name = positionals[0] ?? 'all';
const selected = name === 'all' ? Object.keys(parts) : [name];
if (positionals.length > 1 || !selected.every((part) => part in parts)) {
  process.stderr.write(
    `usage: pnpm bench [all|${Object.keys(parts).join('|')}] [--size-mb 1024] [--runs 3] [--upload-mb 2048] [--subscribers 200] [--out FILE]\n`,
  );
  process.exit(2);
}
const options: BenchOptions = {
  sizeMb: count('size-mb', 1),
  runs: count('runs', 1),
  uploadMb: count('upload-mb', 1),
  subscribers: count('subscribers', 0),
};
// pnpm runs the script in packages/server; a relative --out means where the user typed it.
const out = values.out
  ? path.resolve(process.env.INIT_CWD ?? process.cwd(), values.out)
  : name === 'all'
    ? path.join(REPO_DIR, 'docs/benchmarks.md')
    : undefined;

const startedAt = new Date();
const sections: BenchSection[] = [];
for (const part of selected) {
  progress(`${part}`);
  sections.push(await (await parts[part]!())(options));
}
const report = [
  `Produced by \`${['pnpm bench', ...args].join(' ')}\` on ${startedAt.toISOString().slice(0, 10)}.`,
  '',
  ...(await machineFacts()).map((fact) => `- ${fact}`),
  '',
  ...sections.map((section) => section.markdown),
].join('\n');
process.stdout.write(`${report}\n`);
if (out) await writeInto(out, report);
if (!sections.every((section) => section.ok)) process.exitCode = 1;

/** Between the markers when the file has them, so hand-written analysis around them stays. */
async function writeInto(file: string, report: string): Promise<void> {
  const current = await readFile(file, 'utf8').catch(() => '');
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const block = `${START}\n${report}\n${END}`;
  await writeFile(
    file,
    start >= 0 && end > start ? current.slice(0, start) + block + current.slice(end + END.length) : `${block}\n`,
  );
  progress(`report written to ${file}`);
}

function count(option: keyof typeof values, min: number): number {
  const value = Number(values[option]);
  if (!Number.isInteger(value) || value < min) {
    process.stderr.write(`--${option} must be an integer of at least ${min}\n`);
    process.exit(2);
  }
  return value;
}
