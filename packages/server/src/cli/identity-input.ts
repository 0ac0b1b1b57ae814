import { readFile } from 'node:fs/promises';
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

/** The text of an identity file (--identity FILE: a path in argv, never the key). */
export function readIdentityFile(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CliError('cli/usage', `Cannot read the identity file ${file}: ${error.code ?? error.message}.`);
  });
}
