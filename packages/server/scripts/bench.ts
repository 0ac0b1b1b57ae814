// `pnpm bench [all|backup-restore|offsite|upload|startup|scheduling|stages|compression] [options]`: benchmarks that run the real service
// against the raw tools, and the CLI's start (not tests: they print figures). `all` (the default)
// runs every part and writes the report into docs/benchmarks.md, between its markers, unless --out
// names another file. One part with --out replaces only its own section there.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type BenchOptions, type BenchSection, machineFacts, progress } from './bench-support.js';

type Part = (options: BenchOptions) => Promise<BenchSection>;

const parts: Record<string, () => Promise<Part>> = {
  'backup-restore': async () => (await import('./bench-backup-restore.js')).run,
  upload: async () => (await import('./bench-upload.js')).run,
  startup: async () => (await import('./bench-startup.js')).run,
  scheduling: async () => (await import('./bench-scheduling.js')).run,
  offsite: async () => (await import('./bench-offsite.js')).run,
  stages: async () => (await import('./bench-stages.js')).run,
  compression: async () => (await import('./bench-compression.js')).run,
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
    'startup-runs': { type: 'string', default: '20' },
    targets: { type: 'string', default: '100' },
    'stage-mb': { type: 'string', default: '256' },
    'memory-mb': { type: 'string', default: '2048' },
    'big-s3': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const name = positionals[0] ?? 'all';
const selected = name === 'all' ? Object.keys(parts) : [name];
if (positionals.length > 1 || !selected.every((part) => part in parts)) {
  process.stderr.write(
    `usage: pnpm bench [all|${Object.keys(parts).join('|')}] [--size-mb 1024] [--runs 3] [--upload-mb 2048] [--subscribers 200] [--startup-runs 20] [--targets 100] [--stage-mb 256] [--memory-mb 2048 | --big-s3] [--out FILE]\n`,
  );
  process.exit(2);
}
const options: BenchOptions = {
  sizeMb: count('size-mb', 1),
  runs: count('runs', 1),
  uploadMb: count('upload-mb', 1),
  subscribers: count('subscribers', 0),
  startupRuns: count('startup-runs', 1),
  targets: count('targets', 1),
  stageMb: count('stage-mb', 1),
  // --big-s3: the 10 GB memory run (about 15 minutes more); opt-in.
  memoryMb: values['big-s3'] ? 10240 : count('memory-mb', 1),
};
// pnpm runs the script in packages/server; a relative --out means where the user typed it.
const out = values.out
  ? path.resolve(process.env.INIT_CWD ?? process.cwd(), values.out)
  : name === 'all'
    ? path.join(REPO_DIR, 'docs/benchmarks.md')
    : undefined;

const startedAt = new Date();
const producedBy = `Produced by \`${['pnpm bench', ...args].join(' ')}\` on ${startedAt.toISOString().slice(0, 10)}`;
const sections: BenchSection[] = [];
for (const part of selected) {
  progress(`${part}`);
  sections.push(await (await parts[part]!())(options));
}
const report = [
  `${producedBy}.`,
  '',
  ...(await machineFacts()).map((fact) => `- ${fact}`),
  '',
  ...sections.map((section) => section.markdown),
].join('\n');
process.stdout.write(`${report}\n`);
if (out) await writeInto(out, report);
if (!sections.every((section) => section.ok)) process.exitCode = 1;

/**
 * Between the markers when the file has them, so hand-written analysis around them stays. One
 * part's run replaces only its section (from its "## " heading to the next), saying what produced it.
 */
async function writeInto(file: string, report: string): Promise<void> {
  const current = await readFile(file, 'utf8').catch(() => '');
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  if (start < 0 || end < start) {
    await writeFile(file, `${START}\n${report}\n${END}\n`);
  } else if (name === 'all') {
    await writeFile(file, current.slice(0, start) + `${START}\n${report}\n${END}` + current.slice(end + END.length));
  } else {
    const block = current.slice(start, end);
    const [heading, ...rest] = sections[0]!.markdown.split('\n');
    const section = [heading, '', `${producedBy} (this section only; ${(await machineFacts())[1]}).`, ...rest].join(
      '\n',
    );
    const from = block.indexOf(`${heading}\n`);
    const next = from < 0 ? -1 : block.indexOf('\n## ', from + 1);
    const updated =
      from < 0 ? `${block}${section}\n` : block.slice(0, from) + section + (next < 0 ? '\n' : block.slice(next));
    await writeFile(file, current.slice(0, start) + updated + current.slice(end));
  }
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
