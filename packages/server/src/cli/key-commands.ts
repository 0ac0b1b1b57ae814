import { type FileHandle, open, rm } from 'node:fs/promises';
import type { RecipientView } from '../modules/keys/recipient-view.js';
import type { CommandSpec } from './args.js';
import { type Context, flag, text } from './command-kit.js';
import { CliError } from './errors.js';
import { print } from './output.js';

const list = (value: string | undefined) =>
  value
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean);

function describeRecipient(r: RecipientView): string {
  const state = r.retiredAt ? `retired ${r.retiredAt.toISOString().slice(0, 10)}` : 'active';
  return `${r.name.padEnd(20)} ${r.fingerprint}  ${state.padEnd(18)} ${String(r.backupCount).padStart(5)} backup(s)  ${r.identityKept ? 'identity kept on server' : '                       '}  ${r.recipient}`;
}

/** age-keygen's layout, so the file works with `age -d -i` as it is. */
const identityFile = (r: RecipientView, identity: string) =>
  `# created: ${r.createdAt.toISOString()} by pgbs key generate (key "${r.name}")\n# public key: ${r.recipient}\n${identity}\n`;

/** Opens --out before the key exists: a key whose identity could not be written must never be registered. */
async function openOut(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliError(
        'cli/file-exists',
        `${file} exists: a key is never written over another. Nothing was changed.`,
      );
    }
    throw error;
  }
}

export const KEY_COMMANDS: CommandSpec<Context>[] = [
  {
    group: 'key',
    name: 'generate',
    summary:
      'Make an age identity and register its recipient. The identity is printed once (or written to --out, mode 0600): the service does not keep it.',
    options: {
      name: { type: 'string', value: 'N', help: 'its name (default key-<fingerprint>)' },
      out: { type: 'string', value: 'FILE', help: 'write the identity to this new file (mode 0600) instead of stdout' },
      'keep-on-server': {
        type: 'boolean',
        help: 'also keep the identity on the server, sealed with the master key (for automatic test-restores)',
      },
    },
    run: async ({ app, actor, json }, parsed) => {
      const out = text(parsed, 'out');
      const file = out ? await openOut(out) : null;
      let generated;
      try {
        generated = await app.keys.generate(
          { name: text(parsed, 'name'), keepOnServer: flag(parsed, 'keep-on-server') },
          actor,
        );
        await file?.writeFile(identityFile(generated.recipient, generated.identity));
        await file?.sync();
      } catch (error) {
        if (out) await rm(out, { force: true });
        // Registered, but its identity was never saved: nothing may be encrypted to it.
        if (generated && out) await app.keys.retire(generated.recipient.id, {}, actor).catch(() => {});
        throw error;
      } finally {
        await file?.close();
      }
      const { recipient, identity } = generated;
      const warning = `Key "${recipient.name}" registered (fingerprint ${recipient.fingerprint}). Losing its identity loses the backups encrypted to it: keep a copy offline. Steps to decrypt by hand: pnpm cli key recovery-kit ${recipient.name}`;
      if (out) {
        print(json, { recipient, identityFile: out }, () => `Identity written to ${out} (mode 0600).\n${warning}`);
      } else if (json) {
        print(true, { recipient, identity }, () => '');
      } else {
        // stdout is the identity file alone (pnpm cli key generate > key.txt); the rest goes to stderr.
        process.stdout.write(identityFile(recipient, identity));
        process.stderr.write(`${warning}\nThe identity above is shown once and never again.\n`);
      }
      return 0;
    },
  },
  {
    group: 'key',
    name: 'add-recipient',
    args: '<age1…>',
    summary: 'Register a recipient whose identity you keep elsewhere (age-keygen prints it after "public key:").',
    options: { name: { type: 'string', value: 'N', help: 'its name (default recipient-<fingerprint>)' } },
    run: async ({ app, actor, json }, parsed) => {
      const recipient = await app.keys.addRecipient(
        { recipient: parsed.positionals[0]!, name: text(parsed, 'name') },
        actor,
      );
      print(json, recipient, () => `Added recipient ${recipient.name} (fingerprint ${recipient.fingerprint}).`);
      return 0;
    },
  },
  {
    group: 'key',
    name: 'list',
    summary: 'The recipients: fingerprint, state, backups encrypted to each, whether the server keeps the identity.',
    run: async ({ app, json }) => {
      const recipients = await app.keys.list();
      print(json, recipients, () =>
        recipients.length === 0
          ? 'No keys yet: pnpm cli key generate --out key.txt, or pnpm cli key add-recipient <age1…>'
          : recipients.map(describeRecipient).join('\n'),
      );
      return 0;
    },
  },
  {
    group: 'key',
    name: 'retire',
    args: '<name>',
    summary:
      'Stop encrypting new backups to a recipient. Refused while a target uses it, and, when it is the last recipient some backups can be opened with, until --confirm names them all.',
    options: {
      confirm: {
        type: 'string',
        value: 'ID,ID',
        help: 'the full ids of the backups only this key opens, as the refusal lists them',
      },
    },
    run: async ({ app, actor, json }, parsed) => {
      const retired = await app.keys.retire(
        parsed.positionals[0]!,
        { confirmBackups: list(text(parsed, 'confirm')) },
        actor,
      );
      print(json, retired, () => `Retired ${retired.name}: new backups are no longer encrypted to it.`);
      return 0;
    },
  },
  {
    group: 'key',
    name: 'recovery-kit',
    args: '<name>',
    summary: "The steps to decrypt and restore a backup by hand with Debian's age, zstd and pg_restore.",
    run: async ({ app, json }, parsed) => {
      const kit = await app.keys.recoveryKit(parsed.positionals[0]!);
      print(json, { kit }, () => kit);
      return 0;
    },
  },
];
