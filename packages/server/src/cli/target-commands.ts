import { readFile, writeFile } from 'node:fs/promises';
import type { TargetTestResult } from '../modules/targets/test-target.js';
import type { TargetView } from '../modules/targets/target-view.js';
import type { CommandSpec, OptionSpec, Parsed } from './args.js';
import { type Context, confirm, flag, text } from './command-kit.js';
import { CliError } from './errors.js';
import { formatBytes } from './format.js';
import { print } from './output.js';
import { targetPassword } from './password-input.js';

const passwordFile: OptionSpec = {
  type: 'string',
  value: 'FILE',
  help: 'read the password from this file (else PGPASSWORD, else a prompt on a terminal)',
};
const exclude: OptionSpec = { type: 'string', value: 'DB,DB', help: 'server targets: databases never backed up' };
const trueFalse = (name: string): OptionSpec => ({ type: 'string', value: 'true|false', help: name });

function parseBool(parsed: Parsed, name: string): boolean | undefined {
  const raw = text(parsed, name);
  if (raw === undefined) return undefined;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new CliError('cli/usage', `--${name} must be true or false (got "${raw}").`);
}

const exclusions = (parsed: Parsed) =>
  text(parsed, 'exclude')
    ?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);

function describeTarget(target: TargetView): string {
  const test = target.lastTest as Partial<TargetTestResult> | null;
  return [
    `name:      ${target.name} (${target.kind}${target.managedBy ? `, managed by ${target.managedBy}` : ''})`,
    `id:        ${target.id}`,
    `url:       ${target.url}`,
    `password:  ${target.hasPassword ? 'stored (sealed)' : 'none stored'}`,
    `enabled:   ${target.enabled ? 'yes' : 'no'}`,
    ...(target.kind === 'server' ? [`excluded:  ${target.excludeDatabases.join(', ') || '-'}`] : []),
    `globals:   ${target.keepGlobals ? `kept${target.globalsWithPasswords ? ', with role passwords' : ''}` : 'not kept'}`,
    `last test: ${test && 'ok' in test ? `${test.ok ? 'ok' : `failed [${test.error?.code}]`} at ${test.at}` : 'never'}`,
  ].join('\n');
}

function describeTest(name: string, test: TargetTestResult): string {
  if (!test.ok) return `${name}: connection test failed [${test.error?.code}]: ${test.error?.message}`;
  const lines = [
    `${name}: connected`,
    `  server:   PostgreSQL ${test.serverVersion}`,
    `  tools:    ${test.clientVersion} (${test.clientDirectory})`,
    `  role:     ${test.role}${test.superuser ? ' (superuser)' : ''}; owner ${test.owner}${test.actsAsOwner ? ', acts as owner' : ''}`,
    `  size:     ${formatBytes(test.sizeBytes ?? 0)}`,
  ];
  if (test.restore) lines.push(`  restore:  ${test.restore}`);
  if (test.sync) {
    lines.push(`  databases: ${test.sync.databases.join(', ') || '-'}`);
    if (test.sync.added.length) lines.push(`  added:     ${test.sync.added.join(', ')}`);
    if (test.sync.disabled.length)
      lines.push(`  disabled:  ${test.sync.disabled.join(', ')} (database gone or excluded)`);
    for (const skip of test.sync.skipped) lines.push(`  skipped:   ${skip.database} (${skip.reason})`);
  }
  return lines.join('\n');
}

export const TARGET_COMMANDS: CommandSpec<Context>[] = [
  {
    group: 'target',
    name: 'add',
    args: '<name>',
    summary:
      'Register a target database (or a whole server with --server). The password comes from PGPASSWORD, --password-file or a prompt: never the URL.',
    options: {
      url: { type: 'string', value: 'URL', help: 'postgres://user@host:port/database, without a password' },
      'password-file': passwordFile,
      server: {
        type: 'boolean',
        help: 'a whole server: one child target per database (the URL names its maintenance database)',
      },
      exclude,
      'keep-globals': { type: 'boolean', help: "keep the server's roles and grants beside each run's backups" },
      'globals-with-passwords': { type: 'boolean', help: 'with role password hashes (only with --keep-globals)' },
    },
    run: async ({ app, actor, json }, parsed) => {
      const url = text(parsed, 'url');
      if (!url) throw new CliError('cli/usage', '"target add" needs --url.');
      const password = await targetPassword({ file: text(parsed, 'password-file'), prompt: true });
      const { target, test } = await app.targets.add(
        {
          name: parsed.positionals[0]!,
          url,
          password,
          kind: flag(parsed, 'server') ? 'server' : 'database',
          excludeDatabases: exclusions(parsed),
          keepGlobals: flag(parsed, 'keep-globals'),
          globalsWithPasswords: flag(parsed, 'globals-with-passwords'),
        },
        actor,
      );
      print(json, { target, test }, () =>
        [
          `Added target ${target.name}.`,
          describeTarget(target),
          ...(test ? [describeTest(target.name, test)] : []),
        ].join('\n'),
      );
      return 0;
    },
  },
  {
    group: 'target',
    name: 'list',
    summary: 'List the targets (removed ones are kept for their backups, not listed).',
    run: async ({ app, json }) => {
      const targets = await app.targets.list();
      print(json, targets, () =>
        targets.length === 0
          ? 'No targets yet: pnpm cli target add <name> --url postgres://user@host/db'
          : targets
              .map(
                (t) =>
                  `${t.name.padEnd(24)} ${t.kind.padEnd(8)} ${(t.enabled ? 'enabled' : 'disabled').padEnd(8)} ${t.managedBy === 'env' ? 'env ' : '    '}${t.url}`,
              )
              .join('\n'),
      );
      return 0;
    },
  },
  {
    group: 'target',
    name: 'test',
    args: '<name>',
    summary:
      'Connect as the service would: versions, tools, role, superuser or owner, size (a server: sync its databases).',
    run: async ({ app, actor, json }, parsed) => {
      const name = parsed.positionals[0]!;
      const test = await app.targets.test(name, actor);
      print(json, test, () => describeTest(name, test));
      return test.ok ? 0 : 1;
    },
  },
  {
    group: 'target',
    name: 'set',
    args: '<name>',
    summary: 'Change a target: URL, password, enabled, exclusions, globals, the keys its backups are encrypted to.',
    options: {
      url: { type: 'string', value: 'URL', help: 'a new URL, without a password' },
      enable: { type: 'boolean', help: 'enable the target' },
      disable: { type: 'boolean', help: 'disable it: no backup or restore runs on it' },
      'password-file': { type: 'string', value: 'FILE', help: 'a new password from this file' },
      'new-password': { type: 'boolean', help: 'a new password from PGPASSWORD, else a prompt' },
      'clear-password': { type: 'boolean', help: 'remove the stored password' },
      exclude,
      'keep-globals': trueFalse("keep the server's roles and grants beside each run's backups"),
      'globals-with-passwords': trueFalse('with role password hashes'),
      'encrypt-to': {
        type: 'string',
        value: 'KEY,KEY',
        help: 'encrypt its new backups to these keys (names, fingerprints or registered age1… recipients); none: in clear',
      },
      destinations: {
        type: 'string',
        value: 'D,D',
        help: 'where its backups go, in order: the first is written, the others get copies ("" for the default, local)',
      },
    },
    run: async ({ app, actor, json }, parsed) => {
      if (flag(parsed, 'enable') && flag(parsed, 'disable')) {
        throw new CliError('cli/usage', 'Give --enable or --disable, not both.');
      }
      const sources = ['password-file', 'new-password', 'clear-password'].filter((name) => parsed.values[name]);
      if (sources.length > 1) throw new CliError('cli/usage', `Give one of --${sources.join(', --')}.`);
      let password: string | null | undefined;
      if (flag(parsed, 'clear-password')) password = null;
      else if (sources.length === 1) {
        password = await targetPassword({ file: text(parsed, 'password-file'), prompt: true });
        if (password === null)
          throw new CliError('cli/usage', 'No password given (PGPASSWORD is empty and there is no terminal).');
      }
      const changes = {
        url: text(parsed, 'url'),
        password,
        enabled: flag(parsed, 'enable') ? true : flag(parsed, 'disable') ? false : undefined,
        excludeDatabases: exclusions(parsed),
        keepGlobals: parseBool(parsed, 'keep-globals'),
        globalsWithPasswords: parseBool(parsed, 'globals-with-passwords'),
      };
      const name = parsed.positionals[0]!;
      const encryptTo = text(parsed, 'encrypt-to');
      const destinationNames = text(parsed, 'destinations')
        ?.split(',')
        .map((item) => item.trim())
        .filter(Boolean);
      // --encrypt-to and --destinations alone change only those (each its own audited operation).
      const onlyThose = encryptTo !== undefined || destinationNames !== undefined;
      const target =
        Object.values(changes).some((value) => value !== undefined) || !onlyThose
          ? await app.targets.update(name, changes, actor)
          : await app.targets.get(name);
      const recipients =
        encryptTo === undefined
          ? undefined
          : await app.keys.setTargetRecipients(target.id, encryptTo.split(','), actor);
      const destinations =
        destinationNames === undefined
          ? undefined
          : (await app.destinations.setForTarget(target.id, destinationNames, actor)).map((d) => d.name);
      print(json, { ...target, ...(recipients ? { recipients } : {}), ...(destinations ? { destinations } : {}) }, () =>
        [
          `Updated target ${target.name}.`,
          describeTarget(target),
          ...(recipients
            ? [
                `encrypt to: ${recipients.map((r) => `${r.name} (${r.fingerprint})`).join(', ') || 'none (stored in clear unless ENCRYPT_TO is set)'}`,
              ]
            : []),
          ...(destinations ? [`destinations: ${destinations.join(', ') || 'the default (local)'}`] : []),
        ].join('\n'),
      );
      return 0;
    },
  },
  {
    group: 'target',
    name: 'delete',
    args: '<name>',
    summary: "Remove a target (asks for its name). Its backups are kept and keep the target's name.",
    options: { yes: { type: 'boolean', help: 'no confirmation question' } },
    run: async ({ app, actor, json }, parsed) => {
      const target = await app.targets.get(parsed.positionals[0]!);
      if (!flag(parsed, 'yes')) await confirm(`Type the target's name (${target.name}) to remove it: `, target.name);
      const removed = await app.targets.remove(target.id, actor);
      print(json, removed, () => `Removed target ${removed.name}; its backups are kept.`);
      return 0;
    },
  },
  {
    group: 'config',
    name: 'export',
    summary: 'Write the configuration as JSON: targets (no passwords), schedules, policies.',
    options: { out: { type: 'string', value: 'FILE', help: 'write to this file (mode 0600) instead of stdout' } },
    run: async ({ app, actor }, parsed) => {
      const document = await app.configTransfer.export(new Date(), actor);
      const out = text(parsed, 'out');
      const body = `${JSON.stringify(document, null, 2)}\n`;
      if (out) await writeFile(out, body, { mode: 0o600 });
      else process.stdout.write(body);
      if (out) process.stderr.write(`Wrote the configuration to ${out}.\n`);
      return 0;
    },
  },
  {
    group: 'config',
    name: 'import',
    args: '<file>',
    summary: 'Apply a configuration export (targets by name; passwords are set again afterwards).',
    run: async ({ app, actor, json }, parsed) => {
      const file = parsed.positionals[0]!;
      const raw = await readFile(file, 'utf8').catch(() => {
        throw new CliError('cli/file-not-found', `Cannot read ${file}.`);
      });
      const report = await app.configTransfer.import(raw, actor);
      print(json, report, () =>
        Object.entries(report)
          .map(([section, result]) => `${section}: ${JSON.stringify(result)}`)
          .join('\n'),
      );
      return 0;
    },
  },
  {
    group: 'key',
    name: 'rotate',
    summary:
      'Re-seal every stored password, S3 credential, kept identity and signing key with the current master key (the first configured); the start does it too.',
    run: async ({ app, actor, json }) => {
      const passwords = await app.targets.rotateKeys();
      const credentials = await app.destinations.rotateKeys();
      // Kept age identities and manifest signing keys are sealed with the same master key.
      const secrets = await app.keys.rotate();
      const result = {
        resealed: passwords.resealed + credentials.resealed + secrets.resealed,
        alreadyCurrent: passwords.alreadyCurrent + credentials.alreadyCurrent + secrets.alreadyCurrent,
        failed: [
          ...passwords.failed.map((f) => ({ ...f, name: `the password of ${f.name}` })),
          ...credentials.failed.map((f) => ({ ...f, name: `the credentials of destination ${f.name}` })),
          ...secrets.failed,
        ],
      };
      await app.audit.record({
        actor: actor.name,
        action: 'key.rotate',
        outcome: result.failed.length ? 'failed' : 'succeeded',
        details: { ...result },
      });
      print(json, result, () =>
        [
          `Re-sealed ${result.resealed}, already current ${result.alreadyCurrent}.`,
          ...result.failed.map((f) => `Cannot open ${f.name} [${f.code}]: set it again.`),
        ].join('\n'),
      );
      return result.failed.length ? 1 : 0;
    },
  },
];
