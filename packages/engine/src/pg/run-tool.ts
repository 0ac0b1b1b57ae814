import { EngineError } from '../errors.js';
import { LineTail, forEachLine } from '../streams/lines.js';
import type { ProcessRunner, SpawnOptions } from './process.js';

export interface ToolResult {
  stdout: string;
  stderr: string[];
}

/**
 * Runs a short tool invocation to completion (versions, --list, catalog queries).
 * Output is small by construction; long-running pipelines don't use this.
 */
export async function runTool(
  runner: ProcessRunner,
  file: string,
  args: readonly string[],
  options: SpawnOptions & { signal?: AbortSignal; input?: string } = {},
): Promise<ToolResult> {
  let child;
  try {
    child = runner.spawn(file, args, options);
  } catch (error) {
    throw new EngineError('pg/tool-not-found', `Could not start ${file}: ${(error as Error).message}`);
  }
  const onAbort = () => child.kill('SIGKILL');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const stderr = new LineTail(200);
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stdin.end(options.input ?? '');
  try {
    const [exit] = await Promise.all([child.exit, forEachLine(child.stderr, (line) => stderr.push(line))]);
    const result = { stdout: Buffer.concat(chunks).toString('utf8'), stderr: [...stderr.all()] };
    if (exit.code !== 0) {
      throw new ToolFailure(file, exit.code, exit.signal, result.stderr);
    }
    return result;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new EngineError('pg/tool-not-found', `${file} was not found.`);
    }
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** A tool exited non-zero; callers translate its stderr into a coded error. */
export class ToolFailure extends Error {
  override readonly name = 'ToolFailure';
  constructor(
    readonly file: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderr: readonly string[],
  ) {
    super(`${file} exited with ${signal ?? code}: ${stderr.filter(Boolean).slice(-3).join(' | ')}`);
  }
}
