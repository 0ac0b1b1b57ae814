import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { EngineError } from '@pgbs/engine';
import type { App } from '../app.js';
import { ConfigError, loadConfig } from '../config.js';
import type { BackupRow, JobRow } from '../db/schema.js';
import type { StartedJob } from '../jobs/job-runner.js';
import { consoleLogger } from '../logger.js';
import type { Actor } from '../services/backup-service.js';
import { createProgressDisplay } from './progress-display.js';
import { formatBackupTable, formatBytes } from './format.js';

const USAGE = `Usage: pnpm cli <command> [options]

  backup create [--description TEXT] [--format custom|plain]
  backup list [--limit N] [--offset N]
  backup show <id>
  backup verify <id>
  backup delete <id> [--yes]
  backup restore <id|file> [--yes] [--no-owner] [--no-privileges] [--no-snapshot]
                 [--skip-unrestorable] [--accept-source-mismatch] [--terminate-blockers]
  backup rescan
  job cancel <id>
  user create-admin <email>      (asks for the password, or reads PGBS_NEW_PASSWORD)
  user delete <email> [--yes]    (ends the user's sessions, API tokens and open connections)

Every command takes --json for machine-readable output.
`;

const OPTIONS = {
  description: { type: 'string' },
  format: { type: 'string' },
  limit: { type: 'string' },
  offset: { type: 'string' },
  yes: { type: 'boolean', default: false },
  'no-owner': { type: 'boolean', default: false },
  'no-privileges': { type: 'boolean', default: false },
  'no-snapshot': { type: 'boolean', default: false },
  'skip-unrestorable': { type: 'boolean', default: false },
  'accept-source-mismatch': { type: 'boolean', default: false },
  'terminate-blockers': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [group, command, arg] = positionals;
  if (values.help || !group) {
    process.stdout.write(USAGE);
    return 0;
  }
  const logger = consoleLogger({ quiet: true });
  // Imported here, not at the top: it loads the whole service, which `--help` does not need.
  const { createApp } = await import('../app.js');
  const app = await createApp(loadConfig(), logger);
  const actor: Actor = { name: `cli:${userInfo().username}` };
  try {
    const key = `${group} ${command ?? ''}`;
    switch (key) {
      case 'backup create':
        return await watch(
          app,
          values,
          await app.backups.createBackup(
            { description: values.description, format: parseFormat(values.format) },
            actor,
          ),
        );
      case 'backup list': {
        const rows = await app.backups.list({ limit: toInt(values.limit, 50), offset: toInt(values.offset, 0) });
        print(values, rows, () => formatBackupTable(rows));
        return 0;
      }
      case 'backup show': {
        const backup = await app.backups.get(required(arg, 'id'));
        const contents = await app.backups.contents(backup);
        print(values, { ...backup, contents }, () => describeBackup(backup, contents));
        return 0;
      }
      case 'backup verify':
        return await watch(app, values, await app.backups.verify(required(arg, 'id'), actor));
      case 'backup delete': {
        const id = required(arg, 'id');
        const backup = await app.backups.get(id);
        if (!values.yes)
          await confirm(`Type the backup's file name (${backup.fileName}) to delete it: `, backup.fileName);
        const deleted = await app.backups.delete(id, actor);
        print(values, { deleted: deleted.id }, () => `Deleted backup ${deleted.id} (${deleted.fileName}).`);
        return 0;
      }
      case 'backup restore': {
        const ref = required(arg, 'backup id or file');
        const source = existsSync(ref) && !isUuidLike(ref) ? { filePath: ref } : { backupId: ref };
        const database = app.backups.targetDatabase;
        let confirmation = database;
        if (!values.yes) {
          process.stderr.write(
            `This replaces ALL content of database "${database}" (${app.target.display}).${values['no-snapshot'] ? '' : ' A safety snapshot is taken first.'}\n` +
              'Once the restore holds its locks, the application waits until it has finished.\n' +
              (values['terminate-blockers'] ? 'Sessions that hold locks the restore needs will be TERMINATED.\n' : ''),
          );
          confirmation = await ask(`Type the database name (${database}) to confirm: `);
        }
        return await watch(
          app,
          values,
          await app.backups.restore(
            {
              source,
              confirmation,
              options: {
                noOwner: values['no-owner'],
                noPrivileges: values['no-privileges'],
                safetySnapshot: !values['no-snapshot'],
                skipUnrestorable: values['skip-unrestorable'],
                acceptSourceMismatch: values['accept-source-mismatch'],
                terminateBlockers: values['terminate-blockers'],
              },
            },
            actor,
          ),
        );
      }
      case 'backup rescan': {
        const result = await app.backups.rescan(actor);
        print(
          values,
          result,
          () =>
            `Rescanned ${app.storage.location}: ${result.added.length} added, ${result.removed.length} removed from the catalog` +
            (result.unreadable.length ? `, unreadable: ${result.unreadable.join(', ')}` : ''),
        );
        return 0;
      }
      case 'job cancel': {
        const job = await app.jobs.cancel(required(arg, 'job id'));
        print(values, job, () => `Cancel requested for job ${job.id} (${job.kind}, ${job.state}).`);
        return 0;
      }
      case 'user create-admin': {
        const email = required(arg, 'email');
        const password = process.env.PGBS_NEW_PASSWORD ?? (await ask('Password (at least 12 characters): '));
        const user = await app.auth.createUser(email, password, 'admin');
        await app.audit.record({ actor: actor.name, action: 'user.create', outcome: 'succeeded', subjectId: user.id });
        print(values, { id: user.id, email: user.email, role: user.role }, () => `Created admin ${user.email}.`);
        return 0;
      }
      case 'user delete': {
        const email = required(arg, 'email');
        const user = await app.auth.findUserByEmail(email);
        if (!user) throw new EngineError('auth/user-not-found', `No user ${email}.`);
        if (!values.yes) await confirm(`Type the email (${user.email}) to delete the user: `, user.email);
        await app.auth.deleteUser(user.id);
        await app.audit.record({
          actor: actor.name,
          action: 'user.delete',
          outcome: 'succeeded',
          subjectId: user.id,
          details: { email: user.email },
        });
        print(values, { id: user.id, email: user.email }, () => `Deleted user ${user.email}.`);
        return 0;
      }
      default:
        throw new UsageError(`Unknown command "${positionals.join(' ')}".`);
    }
  } finally {
    await app.close();
  }
}

/** Follows a job to its end with a progress display; Ctrl-C cancels it. */
async function watch(app: App, values: Values, started: StartedJob): Promise<number> {
  const display = createProgressDisplay(process.stderr);
  const unsubscribe = app.events.subscribe((event) => {
    if (event.type === 'progress' && event.jobId === started.job.id && !values.json) display.update(event.progress);
  });
  const onInterrupt = () => {
    process.stderr.write('\nCancelling…\n');
    void app.jobs.cancel(started.job.id);
  };
  process.on('SIGINT', onInterrupt);
  let job: JobRow;
  try {
    job = await started.done;
  } finally {
    process.off('SIGINT', onInterrupt);
    unsubscribe();
    display.end();
  }
  const backup = job.backupId && job.kind === 'backup' ? await app.backups.get(job.backupId) : null;
  if (values.json) {
    process.stdout.write(JSON.stringify({ job, backup }, null, 2) + '\n');
  } else if (job.state === 'succeeded') {
    process.stdout.write(`${describeJob(job)}${backup ? `\n${describeBackup(backup, null)}` : ''}\n`);
  } else {
    process.stderr.write(`${job.kind} ${job.state} [${job.errorCode}]: ${job.errorMessage}\n`);
  }
  return job.state === 'succeeded' ? 0 : job.state === 'cancelled' ? 130 : 1;
}

function describeJob(job: JobRow): string {
  const seconds = job.finishedAt && job.startedAt ? (job.finishedAt.getTime() - job.startedAt.getTime()) / 1000 : 0;
  return `${job.kind} ${job.state} in ${seconds.toFixed(1)} s (job ${job.id})`;
}

function describeBackup(backup: BackupRow, contents: unknown): string {
  const lines = [
    `id:          ${backup.id}`,
    `file:        ${backup.fileName}`,
    `description: ${backup.description || '-'}`,
    `format:      ${backup.format}`,
    `size:        ${formatBytes(backup.sizeBytes)}`,
    `sha256:      ${backup.sha256}`,
    `created:     ${backup.createdAt.toISOString()} by ${backup.createdBy ?? '-'} (${backup.origin})`,
    `versions:    server ${backup.serverVersion ?? '?'}, pg_dump ${backup.clientVersion ?? '?'}`,
    `tables:      ${backup.tableCount ?? '?'}`,
    `verified:    ${backup.verifyStatus ? `${backup.verifyStatus} at ${backup.verifiedAt?.toISOString()}` : 'never'}`,
  ];
  if (contents && typeof contents === 'object') {
    const c = contents as { entryCount: number; schemas: string[]; archiveVersion: string | null };
    lines.push(
      `archive:     ${c.entryCount} entries, format ${c.archiveVersion ?? '?'}, schemas ${c.schemas.join(', ') || '-'}`,
    );
  }
  return lines.join('\n');
}

function print(values: Values, data: unknown, human: () => string): void {
  process.stdout.write(values.json ? JSON.stringify(data, null, 2) + '\n' : human() + '\n');
}

function parseFormat(raw: string | undefined): 'custom' | 'plain' | undefined {
  if (raw === undefined || raw === 'custom' || raw === 'plain') return raw;
  throw new UsageError(`--format must be "custom" or "plain" (got "${raw}").`);
}

function toInt(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new UsageError(`Expected a non-negative integer, got "${raw}".`);
  return value;
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new UsageError(`Missing the ${name}.`);
  return value;
}

function isUuidLike(value: string): boolean {
  return /^[0-9a-f-]{36}$/i.test(value);
}

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

async function confirm(question: string, expected: string): Promise<void> {
  if ((await ask(question)) !== expected) {
    throw new EngineError('input/invalid', 'The confirmation did not match. Nothing was changed.');
  }
}

const json = process.argv.includes('--json');
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    const code =
      error instanceof EngineError ? error.code : error instanceof ConfigError ? 'config/invalid' : 'internal';
    const message = error instanceof Error ? error.message : String(error);
    if (json) process.stdout.write(JSON.stringify({ error: { code, message } }, null, 2) + '\n');
    else process.stderr.write(`error [${code}]: ${message}\n`);
    process.exit(1);
  },
);
