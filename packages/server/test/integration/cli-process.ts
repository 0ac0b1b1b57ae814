import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const serverDir = fileURLToPath(new URL('../../', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything written so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Sends a signal to the CLI's process group, as a terminal does for Ctrl-C. */
  signal(signal: NodeJS.Signals): void;
  done: Promise<Run>;
}

/** The real CLI in its own process (and process group), as an operator runs it. */
export function spawnCli(
  env: Record<string, string>,
  args: string[],
  input = '',
  /**
   * One process, tsx as a loader: no tsx parent relaying signals. That parent SIGKILLs the CLI (exit
   * 143) when the CLI takes over 30 ms to acknowledge a signal, as under load, so a test of a
   * graceful stop runs without it (the built CLI has no such parent either).
   */
  options: { singleProcess?: boolean } = {},
): CliProcess {
  const [command, prefix] = options.singleProcess
    ? [process.execPath, ['--import', 'tsx']]
    : ['node_modules/.bin/tsx', []];
  const child = spawn(command, [...prefix, 'src/cli/main.ts', ...args], {
    cwd: serverDir,
    env: { ...process.env, ...env },
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  const done = new Promise<Run>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    signal: (signal) => process.kill(-child.pid!, signal),
    done,
  };
}

export function cli(env: Record<string, string>, args: string[], input = ''): Promise<Run> {
  return spawnCli(env, args, input).done;
}
