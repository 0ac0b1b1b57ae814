import { existsSync } from 'node:fs';
import path from 'node:path';
import { ServiceError, isCodedError } from '../errors/service-error.js';
import { sql } from 'drizzle-orm';
import type { MetadataDb } from '../db/client.js';
import { backups, jobs } from '../db/schema.js';
import { isUuid } from '../ids.js';
import { CliError } from './errors.js';

/** As git: a prefix this long or longer names the one backup or job it starts. */
export const MIN_PREFIX = 8;
const SHOWN_CANDIDATES = 10;

const KINDS = {
  backup: { table: backups, notFound: 'backup/not-found' },
  job: { table: jobs, notFound: 'job/not-found' },
} as const;

/**
 * A full id, or a unique prefix of one. With `fullOnly` (--yes: nobody confirms what the prefix
 * matched) only a full id is taken.
 */
export async function resolveId(
  db: MetadataDb,
  kind: keyof typeof KINDS,
  ref: string,
  options: { fullOnly: boolean },
): Promise<string> {
  if (isUuid(ref)) return ref.toLowerCase();
  const { table, notFound } = KINDS[kind];
  if (options.fullOnly) {
    throw new CliError('cli/full-id-required', `With --yes, give the ${kind}'s full id, not "${ref}".`);
  }
  if (ref.length < MIN_PREFIX || !/^[0-9a-f-]+$/i.test(ref)) {
    throw new ServiceError(
      notFound,
      `No ${kind} with id ${ref} (an id, or a prefix of at least ${MIN_PREFIX} characters of one).`,
    );
  }
  // Checked above: only hex digits and dashes, so no LIKE wildcards.
  const rows = await db
    .select({ id: table.id })
    .from(table)
    .where(sql`${table.id}::text LIKE ${`${ref.toLowerCase()}%`}`)
    .orderBy(table.id)
    .limit(SHOWN_CANDIDATES + 1);
  if (rows.length === 0) throw new ServiceError(notFound, `No ${kind} with an id starting ${ref}.`);
  if (rows.length > 1) {
    const shown = rows.slice(0, SHOWN_CANDIDATES).map((row) => `  ${row.id}`);
    throw new CliError(
      'cli/ambiguous-id',
      `The prefix ${ref} matches more than one ${kind}; give more of the id:\n${shown.join('\n')}${rows.length > SHOWN_CANDIDATES ? '\n  …' : ''}`,
    );
  }
  return rows[0]!.id;
}

/**
 * What `backup restore` restores: a file when the argument contains a "/" or comes with --file,
 * otherwise a stored backup's id (or prefix).
 */
export async function resolveRestoreSource(
  db: MetadataDb,
  ref: string | undefined,
  file: string | undefined,
  options: { fullOnly: boolean },
): Promise<{ filePath: string } | { backupId: string }> {
  if (file !== undefined && ref !== undefined) {
    throw new CliError('cli/usage', `Give either a backup id or --file, not both ("${ref}" and --file ${file}).`);
  }
  const given = file ?? ref;
  if (given === undefined) throw new CliError('cli/usage', 'Give the backup id, or the file with --file.');
  if (file !== undefined || given.includes('/')) {
    const filePath = operatorPath(given);
    if (!existsSync(filePath)) throw new CliError('cli/file-not-found', `No file ${filePath}. Nothing was changed.`);
    return { filePath };
  }
  try {
    return { backupId: await resolveId(db, 'backup', given, options) };
  } catch (error) {
    if (isCodedError(error) && existsSync(operatorPath(given))) {
      throw new ServiceError(
        error.code,
        `${error.message} To restore the file ${given}, give it as ./${given} or with --file.`,
      );
    }
    throw error;
  }
}

/** `pnpm cli` runs in packages/server: a relative path is the operator's, from where pnpm was started. */
function operatorPath(given: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), given);
}
