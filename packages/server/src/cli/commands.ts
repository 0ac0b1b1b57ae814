import path from 'node:path';
import { ServiceError } from '../errors/service-error.js';
import type { App } from '../app.js';
import type { JobRow } from '../db/schema.js';
import type { StartedJob } from '../modules/jobs/index.js';
import type { CommandSpec, OptionSpec, Parsed } from './args.js';
import { type Context, ask, confirm, flag, text } from './command-kit.js';
import { CliError } from './errors.js';
import type { PolicyInput } from '../modules/retention/policy-input.js';
import {
  formatBackupTable,
  formatJobTable,
  formatPolicies,
  formatPolicy,
  formatRetentionPreview,
  formatScheduleTable,
} from './format.js';
import { describeBackup, describeCopies, describeJob, paintState, print, progress } from './output.js';
import { onInterrupt } from './signals.js';
import { KEY_COMMANDS } from './key-commands.js';
import { DESTINATION_COMMANDS } from './destination-commands.js';
import { TARGET_COMMANDS } from './target-commands.js';
import { identityInput, identityOption, readIdentityFile } from './identity-input.js';

// Loaded when a command runs: it brings the database schema and driver, which `--help` does not need.
const resolver = () => import('./resolve.js');

/** The id the command's argument names: a unique prefix will do, unless fullOnly (--yes). */
async function idArg(app: App, kind: 'backup' | 'job', parsed: Parsed, fullOnly = false): Promise<string> {
  return (await resolver()).resolveId(app.db, kind, parsed.positionals[0]!, { fullOnly });
}

const MAX_LIMIT = 500;

const paging: Record<string, OptionSpec> = {
  limit: { type: 'string', value: 'N', help: `how many, newest first (default 50, at most ${MAX_LIMIT})` },
  offset: { type: 'string', value: 'N', help: 'skip this many first' },
};
const yes: OptionSpec = { type: 'boolean', help: 'no confirmation question (full ids only, no prefixes)' };
const targetOption = (help: string): Record<string, OptionSpec> => ({
  target: { type: 'string', value: 'NAME', help },
});

/** The id of the target --target names (disabled ones too: the operation decides); undefined when not given. */
async function targetOf(app: App, parsed: Parsed): Promise<string | undefined> {
  const name = text(parsed, 'target');
  return name === undefined
    ? undefined
    : (await app.targets.connections.resolveByName(name, { allowDisabled: true })).id;
}

/** The names of the rows' targets, removed ones too. */
const targetNames = (app: App, rows: readonly { targetId: string | null }[]) =>
  app.targets.names([...new Set(rows.flatMap((row) => (row.targetId ? [row.targetId] : [])))]);

export const count = (help: string): OptionSpec => ({ type: 'string', value: 'N', help });
const retentionOptions: Record<string, OptionSpec> = {
  'keep-last': count('keep the newest N backups'),
  'keep-hourly': count('keep the newest backup of each of the last N hours'),
  'keep-daily': count('… of each of the last N days'),
  'keep-weekly': count('… of each of the last N weeks (Monday to Sunday)'),
  'keep-monthly': count('… of each of the last N months'),
  'keep-yearly': count('… of each of the last N years'),
  'keep-within-days': count('keep every backup younger than N days'),
  'snapshot-keep-days': count('delete safety snapshots after N days'),
  'upload-keep-days': count('delete uploads after N days'),
  'failed-runs-guard': count('no pruning while the last N scheduled runs all failed (0: off)'),
};

const destinationOption: OptionSpec = {
  type: 'string',
  value: 'NAME',
  help: "this destination's own rules for the target's copies there (count rules only)",
};
/** What a destination's own rules cannot set: they follow the target's policy. */
const TARGET_ONLY = ['snapshot-keep-days', 'upload-keep-days', 'failed-runs-guard'];

/** --keep-daily 7 → { keepDaily: 7 }; the module checks the range (retention/invalid-policy). */
function policyOptions(parsed: Parsed): PolicyInput {
  const input: Record<string, number> = {};
  for (const name of Object.keys(retentionOptions)) {
    const raw = text(parsed, name);
    if (raw === undefined) continue;
    if (!/^\d+$/.test(raw)) throw new CliError('cli/usage', `--${name} must be a whole number (got "${raw}").`);
    input[name.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase())] = Number(raw);
  }
  return input;
}

export const COMMANDS: CommandSpec<Context>[] = [
  {
    group: 'backup',
    name: 'create',
    summary: 'Back up a target database now (the default target unless --target).',
    options: {
      description: { type: 'string', value: 'TEXT', help: 'what the backup is for' },
      format: { type: 'string', value: 'custom|plain', help: 'pg_dump custom archive (default) or gzipped SQL' },
      ...targetOption('the target to back up (default: the default target)'),
    },
    run: async ({ app, actor, json }, parsed) =>
      watch(
        app,
        json,
        await app.backups.createBackup(
          {
            description: text(parsed, 'description'),
            format: parseFormat(text(parsed, 'format')),
            targetId: await targetOf(app, parsed),
          },
          actor,
        ),
      ),
  },
  {
    group: 'backup',
    name: 'list',
    summary: 'List the stored backups, newest first.',
    options: { ...paging, ...targetOption("only this target's backups") },
    run: async ({ app, json }, parsed) => {
      const rows = await app.backups.list({ ...page(parsed), targetId: await targetOf(app, parsed) });
      const names = await targetNames(app, rows);
      const copies = await app.backups.copyCounts(rows.map((row) => row.id));
      print(json, rows, () => formatBackupTable(rows, names, copies));
      return 0;
    },
  },
  {
    group: 'backup',
    name: 'show',
    args: '<id>',
    summary: 'Show a backup and what its archive holds. The id may be a unique prefix (8 characters at least).',
    run: async ({ app, json }, parsed) => {
      const backup = await app.backups.get(await idArg(app, 'backup', parsed));
      const contents = await app.backups.contents(backup);
      const target = (await targetNames(app, [backup])).get(backup.targetId ?? '') ?? null;
      const targetLabel = target && { id: backup.targetId, ...target };
      const copies = await app.backups.copies(backup);
      print(json, { ...backup, target: targetLabel, contents, copies }, () =>
        [describeBackup(backup, contents, target), describeCopies(copies)].join('\n'),
      );
      return 0;
    },
  },
  {
    group: 'backup',
    name: 'verify',
    args: '<id>',
    summary:
      "Re-read a backup's whole file: checksum, size and every archive block (an encrypted one: its stored digest, or all with --deep).",
    options: {
      deep: { type: 'boolean', help: 'decrypt an encrypted backup and check its content and archive too' },
      ...identityOption,
    },
    run: async ({ app, actor, json }, parsed) => {
      const id = await idArg(app, 'backup', parsed);
      const deep = flag(parsed, 'deep');
      const identity = deep ? await identityInput(app, id, text(parsed, 'identity')) : undefined;
      return watch(app, json, await app.backups.verify(id, actor, { deep, identity }));
    },
  },
  {
    group: 'backup',
    name: 'upload',
    args: '<file>',
    summary:
      'Store a backup file as an upload after validating it completely (an age-encrypted .age file: decrypted with --identity, stored re-encrypted to the target’s recipients).',
    options: {
      description: { type: 'string', value: 'TEXT', help: 'what the backup is' },
      ...targetOption('the target it is a backup of (default: the default target)'),
      identity: {
        type: 'string',
        value: 'FILE',
        help: 'the age identity file that opens an encrypted file (read, never stored)',
      },
    },
    run: async ({ app, actor, json }, parsed) => {
      const file = parsed.positionals[0]!;
      const identityFile = text(parsed, 'identity');
      const backup = await app.backups.importUpload(
        file,
        {
          description: text(parsed, 'description'),
          originalName: path.basename(file),
          targetId: await targetOf(app, parsed),
          ...(identityFile ? { identity: await readIdentityFile(identityFile) } : {}),
        },
        actor,
      );
      print(json, backup, () => `Stored ${file} as backup ${backup.id} (${backup.fileName}).`);
      return 0;
    },
  },
  {
    group: 'backup',
    name: 'reencrypt',
    args: '<id>',
    summary:
      "Re-encrypt a backup to its target's current recipients (after adding a key, before retiring one); the old objects go only once the new ones are verified.",
    options: identityOption,
    run: async ({ app, actor, json }, parsed) => {
      const id = await idArg(app, 'backup', parsed);
      const identity = await identityInput(app, id, text(parsed, 'identity'));
      return watch(app, json, await app.backups.reencrypt(id, actor, identity === undefined ? {} : { identity }));
    },
  },
  ...(['pin', 'unpin'] as const).map((name): CommandSpec<Context> => ({
    group: 'backup',
    name,
    args: '<id>',
    summary:
      name === 'pin'
        ? 'Pin a backup: retention keeps it forever (a delete by hand still works).'
        : 'Unpin a backup: retention applies to it again.',
    run: async ({ app, actor, json }, parsed) => {
      const backup = await app.backups.pin(await idArg(app, 'backup', parsed), name === 'pin', actor);
      print(json, backup, () => `${name === 'pin' ? 'Pinned' : 'Unpinned'} ${backup.fileName}.`);
      return 0;
    },
  })),
  {
    group: 'backup',
    name: 'delete',
    args: '<id>',
    summary: "Delete a backup's file and catalog entry (asks for its file name).",
    options: { yes },
    run: async ({ app, actor, json }, parsed) => {
      const id = await idArg(app, 'backup', parsed, flag(parsed, 'yes'));
      const backup = await app.backups.get(id);
      if (!flag(parsed, 'yes')) {
        await confirm(`Type the backup's file name (${backup.fileName}) to delete it: `, backup.fileName);
      }
      const deleted = await app.backups.delete(id, actor);
      print(json, { deleted: deleted.id }, () => `Deleted backup ${deleted.id} (${deleted.fileName}).`);
      return 0;
    },
  },
  {
    group: 'backup',
    name: 'restore',
    args: '[<id|file>]',
    summary:
      'Replace a target database with a stored backup (id or unique prefix) or a file (an argument with a "/", or --file).',
    options: {
      file: { type: 'string', value: 'PATH', help: 'restore this file (validated completely first)' },
      ...targetOption("restore into this target (default: the backup's own; a file's: the default target)"),
      yes,
      'no-owner': { type: 'boolean', help: 'do not restore who owns the objects' },
      'no-privileges': { type: 'boolean', help: 'do not restore grants' },
      'no-snapshot': { type: 'boolean', help: 'skip the safety snapshot of the current content' },
      'skip-unrestorable': { type: 'boolean', help: "leave out what the owner's rights cannot restore" },
      'accept-source-mismatch': { type: 'boolean', help: 'restore a backup of another database' },
      'terminate-blockers': { type: 'boolean', help: 'terminate sessions holding locks the restore needs' },
      ...identityOption,
    },
    run: async ({ app, actor, json }, parsed) => {
      const source = await (
        await resolver()
      ).resolveRestoreSource(app.db, parsed.positionals[0], text(parsed, 'file'), {
        fullOnly: flag(parsed, 'yes'),
      });
      const targetId = await targetOf(app, parsed);
      const target = await app.backups.restoreTarget(source, targetId);
      const database = target.connection.database;
      let confirmation = database;
      if (!flag(parsed, 'yes')) {
        process.stderr.write(
          `This replaces ALL content of target ${target.name}'s database "${database}" (${target.connection.display}).${flag(parsed, 'no-snapshot') ? '' : ' A safety snapshot is taken first.'}\n` +
            'Once the restore holds its locks, the application waits until it has finished.\n' +
            (flag(parsed, 'terminate-blockers')
              ? 'Sessions that hold locks the restore needs will be TERMINATED.\n'
              : ''),
        );
        confirmation = await ask(`Type the name of target ${target.name}'s database (${database}) to confirm: `);
      }
      const identityFile = text(parsed, 'identity');
      // A file (an .age one) is opened with --identity FILE only: there is no catalog entry to prompt from.
      const identity =
        'backupId' in source
          ? await identityInput(app, source.backupId, identityFile)
          : identityFile
            ? await readIdentityFile(identityFile)
            : undefined;
      return watch(
        app,
        json,
        await app.backups.restore(
          {
            source,
            confirmation,
            options: {
              noOwner: flag(parsed, 'no-owner'),
              noPrivileges: flag(parsed, 'no-privileges'),
              safetySnapshot: !flag(parsed, 'no-snapshot'),
              skipUnrestorable: flag(parsed, 'skip-unrestorable'),
              acceptSourceMismatch: flag(parsed, 'accept-source-mismatch'),
              terminateBlockers: flag(parsed, 'terminate-blockers'),
            },
            targetId: target.id,
            ...(identity !== undefined ? { identity } : {}),
          },
          actor,
        ),
      );
    },
  },
  {
    group: 'backup',
    name: 'rescan',
    summary: "Rebuild the catalog from the backups' manifests on one destination (default: every enabled one).",
    options: { destination: { type: 'string', value: 'NAME', help: 'the destination to read (name or id)' } },
    run: async ({ app, actor, json }, parsed) => {
      const name = text(parsed, 'destination');
      const destination = name ? await app.destinations.get(name) : null;
      const result = await app.backups.rescan(actor, destination ? { destinationId: destination.id } : {});
      print(
        json,
        result,
        () =>
          `Rescanned ${destination ? destination.location : 'every enabled destination'}: ${result.added.length} added, ${result.removed.length} removed from the catalog` +
          (result.unreadable.length ? `, unreadable: ${result.unreadable.join(', ')}` : ''),
      );
      return 0;
    },
  },
  {
    group: 'job',
    name: 'list',
    summary: 'List recent jobs (backups, restores, verifications), newest first.',
    options: { ...paging, ...targetOption("only this target's jobs") },
    run: async ({ app, json }, parsed) => {
      const rows = await app.jobs.list({ ...page(parsed), targetId: await targetOf(app, parsed) });
      const names = await targetNames(app, rows);
      const attempts = new Map(
        await Promise.all(rows.map(async (row) => [row.id, await app.schedules.attemptsOf(row)] as const)),
      );
      print(json, rows, () => formatJobTable(rows, Date.now(), (state) => paintState(state), names, attempts));
      return 0;
    },
  },
  {
    group: 'job',
    name: 'cancel',
    args: '<id>',
    summary: 'Cancel a running job, wherever it runs. The id may be a unique prefix (8 characters at least).',
    run: async ({ app, json }, parsed) => {
      const job = await app.jobs.cancel(await idArg(app, 'job', parsed));
      print(json, job, () => `Cancel requested for job ${job.id} (${job.kind}, ${paintState(job.state)}).`);
      return 0;
    },
  },
  {
    group: 'schedule',
    name: 'set',
    args: '<target>',
    summary: "Create or replace a target's backup schedule (a server target's: each of its databases).",
    options: {
      cron: { type: 'string', value: '"<expr>"', help: 'five fields, or @hourly, @daily, @weekly, @monthly, @yearly' },
      tz: { type: 'string', value: 'ZONE', help: 'IANA time zone the expression is read in (default UTC)' },
      missed: { type: 'string', value: 'run-once|skip', help: 'slots missed while no instance ran (default run-once)' },
      retries: count(
        'retries of a failed scheduled backup, after 1, 5, then 15 min (0 to 10; default: kept, 1 when new)',
      ),
    },
    run: async ({ app, actor, json }, parsed) => {
      const cron = text(parsed, 'cron');
      if (cron === undefined) throw new CliError('cli/usage', 'Give the schedule with --cron "<expr>".');
      const retries = text(parsed, 'retries');
      if (retries !== undefined && !/^\d+$/.test(retries)) {
        throw new CliError('cli/usage', `--retries must be a whole number (got "${retries}").`);
      }
      const schedule = await app.schedules.set(
        {
          target: parsed.positionals[0]!,
          cron,
          timeZone: text(parsed, 'tz'),
          missedPolicy: text(parsed, 'missed'),
          retries: retries === undefined ? undefined : Number(retries),
        },
        actor,
      );
      print(json, schedule, () => formatScheduleTable([schedule]));
      return 0;
    },
  },
  ...(['pause', 'resume'] as const).map((name): CommandSpec<Context> => ({
    group: 'schedule',
    name,
    args: '<target>',
    summary:
      name === 'pause'
        ? "Pause a target's schedule (its slots are not due until resumed)."
        : "Resume a target's schedule; slots passed while paused are neither run nor recorded.",
    run: async ({ app, actor, json }, parsed) => {
      const schedule = await app.schedules[name](parsed.positionals[0]!, actor);
      print(json, schedule, () => formatScheduleTable([schedule]));
      return 0;
    },
  })),
  {
    group: 'schedule',
    name: 'run',
    args: '<target>',
    summary: "Queue the schedule's backup now (a manual backup; one per database of a server target).",
    run: async ({ app, actor, json }, parsed) => {
      const queued = await app.schedules.runNow(parsed.positionals[0]!, actor);
      print(json, queued, () =>
        queued.map((run) => `Queued backup job ${run.jobId} (target ${run.targetId}).`).join('\n'),
      );
      return 0;
    },
  },
  {
    group: 'schedule',
    name: 'list',
    summary: 'List the schedules with their next runs.',
    options: { next: { type: 'string', value: 'N', help: 'how many next runs to show (default 3, at most 50)' } },
    run: async ({ app, json }, parsed) => {
      const rows = await app.schedules.list(toInt(text(parsed, 'next'), 3, 1, 50, '--next'));
      print(json, rows, () => formatScheduleTable(rows));
      return 0;
    },
  },
  {
    group: 'retention',
    name: 'set',
    args: '<target>',
    summary:
      "Set a target's retention policy. Count rules not given are unset; the day counts and the guard keep their value.",
    options: { ...retentionOptions, destination: destinationOption },
    run: async ({ app, actor, json }, parsed) => {
      const destination = text(parsed, 'destination');
      if (destination === undefined) {
        const policy = await app.retention.setPolicy(parsed.positionals[0]!, policyOptions(parsed), actor);
        print(json, policy, () => formatPolicy(policy));
        return 0;
      }
      const targetOnly = TARGET_ONLY.find((name) => text(parsed, name) !== undefined);
      if (targetOnly) {
        throw new CliError(
          'cli/usage',
          `--${targetOnly} is the target's, not a destination's: set it without --destination.`,
        );
      }
      const rules = await app.retention.setDestinationPolicy(
        parsed.positionals[0]!,
        destination,
        policyOptions(parsed),
        actor,
      );
      print(json, rules, () => formatPolicy(rules));
      return 0;
    },
  },
  {
    group: 'retention',
    name: 'clear',
    args: '<target>',
    summary: "Drop a destination's own rules: the target's copies there follow the target's policy again.",
    options: { destination: { ...destinationOption, help: 'the destination whose own rules go' } },
    run: async ({ app, actor, json }, parsed) => {
      const destination = text(parsed, 'destination');
      if (destination === undefined) throw new CliError('cli/usage', 'retention clear needs --destination NAME.');
      const cleared = await app.retention.clearDestinationPolicy(parsed.positionals[0]!, destination, actor);
      print(json, { cleared }, () =>
        cleared
          ? `Destination "${destination}" follows the target's policy again.`
          : `"${destination}" had no rules of its own.`,
      );
      return 0;
    },
  },
  {
    group: 'retention',
    name: 'show',
    args: '<target>',
    summary: "Show a target's policy and its destinations' own rules.",
    run: async ({ app, json }, parsed) => {
      const target = parsed.positionals[0]!;
      const shown = {
        policy: await app.retention.policy(target),
        destinations: await app.retention.destinationPolicies(target),
      };
      print(json, shown, () => formatPolicies(shown));
      return 0;
    },
  },
  {
    group: 'retention',
    name: 'preview',
    args: '<target>',
    summary: 'Show exactly what pruning would delete now (with the saved policy, or with the options given, unsaved).',
    options: retentionOptions,
    run: async ({ app, json }, parsed) => {
      const given = Object.keys(retentionOptions).some((name) => text(parsed, name) !== undefined);
      const preview = await app.retention.preview(parsed.positionals[0]!, given ? policyOptions(parsed) : undefined);
      print(json, preview, () => formatRetentionPreview(preview));
      return 0;
    },
  },
  {
    group: 'worker',
    name: 'run',
    summary: 'Run queued jobs without serving HTTP, beside the server or alone, until SIGTERM or Ctrl-C.',
    role: 'worker',
    run: async ({ app }) => {
      process.stderr.write(`Worker ${app.instanceId} is running jobs. Stop with Ctrl-C or SIGTERM.\n`);
      // The handler stays until the process exits: a signal sent to the process group reaches it
      // twice (tsx or a shell relays it), and the second must not cut the graceful stop short.
      await new Promise<void>((resolve) => onInterrupt(resolve));
      // Closing the app stops taking jobs and ends those running here as interrupted (partial files removed).
      process.stderr.write('Stopping: jobs running here end as interrupted.\n');
      return 0;
    },
  },
  {
    group: 'user',
    name: 'create-admin',
    args: '<email>',
    summary: 'Create an admin (asks for the password, or reads PGBS_NEW_PASSWORD).',
    run: async ({ app, actor, json }, parsed) => {
      const email = parsed.positionals[0]!;
      const password = process.env.PGBS_NEW_PASSWORD ?? (await ask('Password (at least 12 characters): '));
      const user = await app.auth.createUser(email, password, 'admin');
      await app.audit.record({ actor: actor.name, action: 'user.create', outcome: 'succeeded', subjectId: user.id });
      print(json, { id: user.id, email: user.email, role: user.role }, () => `Created admin ${user.email}.`);
      return 0;
    },
  },
  {
    group: 'user',
    name: 'delete',
    args: '<email>',
    summary: "Delete a user; ends the user's sessions, API tokens and open connections.",
    options: { yes: { type: 'boolean', help: 'no confirmation question' } },
    run: async ({ app, actor, json }, parsed) => {
      const email = parsed.positionals[0]!;
      const user = await app.auth.findUserByEmail(email);
      if (!user) throw new ServiceError('auth/user-not-found', `No user ${email}.`);
      if (!flag(parsed, 'yes')) await confirm(`Type the email (${user.email}) to delete the user: `, user.email);
      await app.auth.deleteUser(user.id);
      await app.audit.record({
        actor: actor.name,
        action: 'user.delete',
        outcome: 'succeeded',
        subjectId: user.id,
        details: { email: user.email },
      });
      print(json, { id: user.id, email: user.email }, () => `Deleted user ${user.email}.`);
      return 0;
    },
  },
  ...TARGET_COMMANDS,
  ...KEY_COMMANDS,
  ...DESTINATION_COMMANDS,
];

/**
 * Follows a job to its end with a progress display. Ctrl-C (or SIGTERM, SIGHUP) cancels it and
 * waits until the job has stopped and cleaned up: exit code 130.
 */
async function watch(app: App, json: boolean, started: StartedJob): Promise<number> {
  const unsubscribe = app.events.subscribe((event) => {
    if (event.type === 'progress' && event.jobId === started.job.id && !json) progress.update(event.progress);
  });
  let cancelling = false;
  const restore = onInterrupt(() => {
    progress.clear();
    process.stderr.write(
      cancelling
        ? `Still cancelling job ${started.job.id}: waiting for it to stop and clean up.\n`
        : `Cancelling job ${started.job.id}…\n`,
    );
    if (!cancelling) void app.jobs.cancel(started.job.id);
    cancelling = true;
  });
  let job: JobRow;
  try {
    job = await started.done;
  } finally {
    restore();
    unsubscribe();
    progress.end();
  }
  const backup = job.backupId && job.kind === 'backup' ? await app.backups.get(job.backupId) : null;
  const snapshotId = typeof job.params.safetySnapshotId === 'string' ? job.params.safetySnapshotId : null;
  const safetySnapshot = snapshotId ? await app.backups.get(snapshotId) : null;
  if (json) {
    print(true, { job, backup, safetySnapshot }, () => '');
  } else {
    if (job.state === 'succeeded') {
      const target = backup ? ((await targetNames(app, [backup])).get(backup.targetId ?? '') ?? null) : null;
      process.stdout.write(`${describeJob(job)}${backup ? `\n${describeBackup(backup, null, target)}` : ''}\n`);
    } else {
      process.stderr.write(
        `${job.kind} ${paintState(job.state, process.stderr)} [${job.errorCode}]: ${job.errorMessage}\n`,
      );
    }
    if (safetySnapshot) {
      process.stdout.write(
        `Safety snapshot of the content before the restore: backup ${safetySnapshot.id} (${safetySnapshot.fileName})\n`,
      );
    }
  }
  return job.state === 'succeeded' ? 0 : job.state === 'cancelled' ? 130 : 1;
}

function page(parsed: Parsed): { limit: number; offset: number } {
  return {
    limit: toInt(text(parsed, 'limit'), 50, 1, MAX_LIMIT, '--limit'),
    offset: toInt(text(parsed, 'offset'), 0, 0, Number.MAX_SAFE_INTEGER, '--offset'),
  };
}

function parseFormat(raw: string | undefined): 'custom' | 'plain' | undefined {
  if (raw === undefined || raw === 'custom' || raw === 'plain') return raw;
  throw new CliError('cli/usage', `--format must be "custom" or "plain" (got "${raw}").`);
}

function toInt(raw: string | undefined, fallback: number, min: number, max: number, name: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CliError('cli/usage', `${name} must be an integer from ${min} to ${max} (got "${raw}").`);
  }
  return value;
}
