import { readFile } from 'node:fs/promises';
import { CliError } from './errors.js';

/**
 * Reads a password typed on the terminal without echoing it. Only on a TTY: a password must never
 * come from argv (process lists, shell history), and a pipe is better served by --password-file.
 */
export async function promptPassword(question: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY)
    throw new CliError('cli/usage', 'No terminal to ask for the password: use PGPASSWORD or --password-file.');
  process.stderr.write(question);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = '';
      const onData = (chunk: string) => {
        for (const char of chunk) {
          if (char === '\r' || char === '\n' || char === '\u0004') {
            input.off('data', onData);
            resolve(typed);
            return;
          }
          if (char === '\u0003') {
            input.off('data', onData);
            reject(new CliError('cli/interrupted', 'Interrupted. Nothing was changed.'));
            return;
          }
          typed = char === '\u007f' || char === '\b' ? typed.slice(0, -1) : typed + char;
        }
      };
      input.on('data', onData);
    });
  } finally {
    input.setRawMode(false);
    input.pause();
    process.stderr.write('\n');
  }
}

/** A password file's content without its final line break (editors add one). */
export async function readPasswordFile(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CliError('cli/usage', `Cannot read the password file ${file}: ${error.code ?? error.message}.`);
  });
  return text.replace(/\r?\n$/, '');
}

/**
 * Where a target's password comes from, in order: --password-file, PGPASSWORD, a prompt on a
 * terminal; null when none applies (a target that needs none: trust, peer, a client certificate).
 */
export async function targetPassword(options: { file?: string; prompt: boolean }): Promise<string | null> {
  if (options.file) return readPasswordFile(options.file);
  if (process.env.PGPASSWORD) return process.env.PGPASSWORD;
  if (options.prompt && process.stdin.isTTY)
    return (await promptPassword('Password (not shown, empty for none): ')) || null;
  return null;
}
