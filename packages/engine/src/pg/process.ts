import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningProcess {
  readonly pid: number;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exit: Promise<ProcessExit>;
  /** Signals the whole process group, so helpers a tool starts die with it. */
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnOptions {
  /** Extra variables (libpq connection settings); merged over a minimal base. */
  env?: Readonly<Record<string, string>>;
}

/** The one place the engine starts processes: unit tests pass a fake. */
export interface ProcessRunner {
  spawn(file: string, args: readonly string[], options?: SpawnOptions): RunningProcess;
}

/**
 * The children get a minimal environment: no inherited PG* variables that could
 * silently redirect them, and LC_ALL=C so their messages are the English ones
 * our parsers understand (Debian ships translations).
 */
export function childEnvironment(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const base: Record<string, string> = { LC_ALL: 'C', LANG: 'C', PGCLIENTENCODING: 'UTF8' };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'TZ']) {
    const value = process.env[name];
    if (value !== undefined) base[name] = value;
  }
  return { ...base, ...extra };
}

export const nodeProcessRunner: ProcessRunner = {
  spawn(file, args, options = {}) {
    const child = spawn(file, [...args], {
      env: childEnvironment(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const exit = new Promise<ProcessExit>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    // A tool that dies early closes its stdin; the write error is reported through exit.
    child.stdin.on('error', () => {});
    return {
      get pid() {
        return child.pid ?? -1;
      },
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      exit,
      kill(signal = 'SIGTERM') {
        if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
        try {
          process.kill(-child.pid, signal);
        } catch {
          // Already gone.
        }
      },
    };
  },
};
