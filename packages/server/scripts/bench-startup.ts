// `pnpm bench startup`: how long the CLI takes to answer `--help`, built and through pnpm, next to
// pnpm's own start (which every `pnpm cli` pays) and to the TypeScript entry run by tsx (as before
// the build step).
import { fileURLToPath } from 'node:url';
import { type BenchOptions, type BenchSection, exec, median, progress, timed } from './bench-support.js';

const REPO_DIR = fileURLToPath(new URL('../../../', import.meta.url));
const SERVER_DIR = fileURLToPath(new URL('../', import.meta.url));
const TARGET_SECONDS = 0.3;

interface Subject {
  label: string;
  file: string;
  args: string[];
  cwd: string;
}

export async function run(options: BenchOptions): Promise<BenchSection> {
  const subjects: Subject[] = [
    {
      label: '`node packages/server/bin/pgbs.js --help` (the built entry)',
      file: process.execPath,
      args: ['bin/pgbs.js', '--help'],
      cwd: SERVER_DIR,
    },
    {
      label: '`node_modules/.bin/pgbs --help` (the bin, pnpm’s shell shim in front)',
      file: 'node_modules/.bin/pgbs',
      args: ['--help'],
      cwd: REPO_DIR,
    },
    { label: '`pnpm cli --help`', file: 'pnpm', args: ['cli', '--help'], cwd: REPO_DIR },
    { label: '`pnpm --version` (pnpm’s own start)', file: 'pnpm', args: ['--version'], cwd: REPO_DIR },
    {
      label: '`tsx src/cli/main.ts --help` (TypeScript compiled at start)',
      file: 'node_modules/.bin/tsx',
      args: ['src/cli/main.ts', '--help'],
      cwd: SERVER_DIR,
    },
  ];
  const medians: number[] = [];
  for (const subject of subjects) {
    progress(`startup: ${subject.label}, ${options.startupRuns} runs`);
    // A first run builds dist/ if it is stale and warms the page cache: not counted.
    await exec(subject.file, subject.args, { cwd: subject.cwd });
    const seconds: number[] = [];
    for (let i = 0; i < options.startupRuns; i++) {
      seconds.push(await timed(() => exec(subject.file, subject.args, { cwd: subject.cwd })));
    }
    medians.push(median(seconds));
  }
  const built = medians[0]!;
  const ok = built < TARGET_SECONDS;
  const markdown = [
    '## Start-up: the CLI answering `--help`',
    '',
    `Wall time from spawn to exit, medians of ${options.startupRuns} runs after one that is not counted (it rebuilds dist/ when a source changed).`,
    '',
    '| command | median | target |',
    '|---|---|---|',
    ...subjects.map(
      (subject, i) =>
        `| ${subject.label} | ${medians[i]!.toFixed(3)} s | ${i === 0 ? `< ${TARGET_SECONDS} s: ${ok ? 'met' : 'MISSED'}` : ''} |`,
    ),
    '',
  ].join('\n');
  return { markdown, ok };
}
