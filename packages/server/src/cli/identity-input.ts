import { readFile, stat } from 'node:fs/promises';
import type { App } from '../app.js';
import type { OptionSpec } from './args.js';
import { CliError } from './errors.js';
import { promptPassword } from './password-input.js';

export const identityOption: Record<string, OptionSpec> = {
  identity: {
    type: 'string',
    value: 'FILE',
    help: 'the age identity file that opens an encrypted backup (read, never stored)',
  },
};

/**
 * The identity text for an encrypted backup: read from --identity FILE (never argv content), else
 * asked on a terminal when the service keeps none for it; undefined for a backup in clear.
 */
export async function identityInput(app: App, backupId: string, file: string | undefined): Promise<string | undefined> {
  if (file) return readIdentityFile(file);
  const backup = await app.backups.get(backupId);
  if (backup.recipientFingerprints.length === 0 || !process.stdin.isTTY) return undefined;
  if ((await app.keys.keptIdentities(backup.recipientFingerprints)).length > 0) return undefined;
  return promptPassword('The backup is encrypted. Paste its age identity (AGE-SECRET-KEY-1…, not shown): ');
}

/**
 * The text of an identity file (--identity FILE: a path in argv, never the key). One that others
 * may read is still read (age does not check either), with a warning on stderr, as ssh gives.
 */
export async function readIdentityFile(file: string, warn: (line: string) => void = stderrLine): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    const { mode } = await stat(file);
    if ((mode & 0o077) !== 0) {
      warn(
        `Warning: the identity file ${file} can be read by other users (mode ${(mode & 0o777).toString(8)}): anyone who reads it can decrypt the backups; chmod 600 it.`,
      );
    }
    return text;
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new CliError('cli/usage', `Cannot read the identity file ${file}: ${code ?? message}.`);
  }
}

const stderrLine = (line: string) => void process.stderr.write(`${line}\n`);
