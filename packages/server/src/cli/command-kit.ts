import { createInterface } from 'node:readline/promises';
import { ServiceError } from '../errors/service-error.js';
import type { App } from '../app.js';
import type { Actor } from '../modules/backups/index.js';
import type { Parsed } from './args.js';
import { CliError } from './errors.js';
import { paint } from './output.js';

/** What every command module uses: its context, option readers and questions. */
export interface Context {
  app: App;
  actor: Actor;
  json: boolean;
}

export const text = (parsed: Parsed, name: string) => parsed.values[name] as string | undefined;
export const flag = (parsed: Parsed, name: string) => parsed.values[name] === true;

export async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  // On a terminal, readline reads Ctrl-C as a key, not as a signal.
  const interrupted = new Promise<never>((_resolve, reject) =>
    rl.once('SIGINT', () => reject(new CliError('cli/interrupted', 'Interrupted. Nothing was changed.'))),
  );
  try {
    return (await Promise.race([rl.question(paint('bold', question, process.stderr)), interrupted])).trim();
  } finally {
    rl.close();
  }
}

export async function confirm(question: string, expected: string): Promise<void> {
  if ((await ask(question)) !== expected) {
    throw new ServiceError('input/invalid', 'The confirmation did not match. Nothing was changed.');
  }
}
