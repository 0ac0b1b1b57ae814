import type { ArchiveSource } from '../archive/source.js';
import { EngineError, isEngineError } from '../errors.js';
import { querySql } from '../pg/catalog.js';
import type { PgTarget } from '../pg/connection.js';
import { type RestoreMode, type TargetRole, readTargetRole, restoreMode } from '../pg/target-role.js';
import { type RestorePlan, type UnrestorableItem, planRestore } from './preflight.js';
import { createRestoreRole } from './restore-role.js';
import type { BlockingSession } from './lock-target.js';
import { type RestoreRequest, type RestoreResult, runRestore } from './run-restore.js';

export interface RestoreCheck {
  role: TargetRole;
  mode: RestoreMode;
  plan: RestorePlan;
}

export interface CheckRequest extends Pick<RestoreRequest, 'runner' | 'tools' | 'signal'> {
  /** The configured connection: the owner's, or a superuser's. */
  connection: PgTarget;
  source: ArchiveSource;
  noOwner: boolean;
  skipUnrestorable: boolean;
  terminateBlockers: boolean;
}

/**
 * Everything a restore checks before anything runs: who would run the content (never a superuser),
 * and what the owner's rights cannot create or drop. Throws a coded error when the restore cannot
 * go ahead as asked.
 */
export async function checkRestore(request: CheckRequest): Promise<RestoreCheck> {
  const check = await inspectRestore(request);
  const refused = check.plan.unrestorable.filter((item) => !item.skippable || !request.skipUnrestorable);
  if (refused.length > 0) throw unrestorableError(refused, request.skipUnrestorable);
  return check;
}

/** The same checks, for showing: only a connection that can never restore safely is an error. */
export async function inspectRestore(request: CheckRequest): Promise<RestoreCheck> {
  const role = await readTargetRole(request.runner, request.tools.psql, request.connection);
  const mode = restoreMode(role);
  if (request.terminateBlockers && mode === 'owner' && !role.canSignal) {
    throw new EngineError(
      'restore/cannot-terminate',
      `"${role.role}" may not terminate other sessions: grant it pg_signal_backend (docs/security.md), or restore without terminating the blocking sessions. Nothing was changed.`,
    );
  }
  const plan = await planRestore({
    runner: request.runner,
    tools: request.tools,
    source: request.source,
    signal: request.signal,
    catalog: request.connection,
    owner: role.owner,
    noOwner: request.noOwner,
  });
  return { role, mode, plan };
}

export interface DatabaseRestoreRequest
  extends
    Omit<RestoreRequest, 'target' | 'owner' | 'skipDumpIds'>,
    Omit<CheckRequest, 'source' | 'terminateBlockers' | 'noOwner'> {
  /** Names the short-lived restore role of a superuser connection. */
  jobId: string;
  /** A short-lived role stops working after this long, even if nothing drops it. */
  roleValidForSeconds: number;
}

/**
 * The pre-flight, then the restore as the owner: directly, or through a short-lived member of it.
 * With a superuser connection, sessions that block the restore are terminated by the superuser
 * connection itself (only non-superuser sessions of this database), then the restore tries once
 * more: the short-lived role gets no pg_signal_backend, which content could use elsewhere.
 */
export async function restoreDatabase(request: DatabaseRestoreRequest): Promise<DatabaseRestoreResult> {
  const check = await checkRestore({
    ...request,
    noOwner: request.options.noOwner,
    terminateBlockers: request.lockWait.terminateBlockers,
  });
  const restore = (target: PgTarget, terminateBlockers: boolean) =>
    runRestore({
      ...request,
      target,
      owner: check.role.owner,
      skipDumpIds: check.plan.skipDumpIds,
      lockWait: { ...request.lockWait, terminateBlockers },
    });
  if (check.mode === 'owner') {
    return { ...check, ...(await restore(request.connection, request.lockWait.terminateBlockers)), leftoverRole: null };
  }
  const role = await createRestoreRole({
    runner: request.runner,
    clock: request.clock,
    psql: request.tools.psql,
    admin: request.connection,
    owner: check.role.owner,
    jobId: request.jobId,
    validForSeconds: request.roleValidForSeconds,
  });
  const outcome = await restore(role.target, false)
    .catch(async (error: unknown) => {
      if (!request.lockWait.terminateBlockers || !isEngineError(error, 'restore/target-busy')) throw error;
      const terminated = await terminateSessions(request, error.details['blockers'] as BlockingSession[]);
      const retried = await restore(role.target, false);
      return { ...retried, terminatedSessions: [...terminated, ...retried.terminatedSessions] };
    })
    .then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
  // A role that cannot be dropped can no longer log in either (dropRestoreRole): the restore's own
  // outcome stands, and the next start sweeps the role again.
  const leftoverRole = await role.drop().then(
    () => null,
    () => role.name,
  );
  if ('error' in outcome) throw outcome.error;
  return { ...check, ...outcome.result, leftoverRole };
}

export interface DatabaseRestoreResult extends RestoreResult, RestoreCheck {
  /** A short-lived role that could not be dropped (it can no longer log in). */
  leftoverRole: string | null;
}

/** Terminates the blocking sessions of this database that are not a superuser's; returns them. */
async function terminateSessions(
  request: Pick<DatabaseRestoreRequest, 'runner' | 'tools' | 'connection'>,
  blockers: readonly BlockingSession[],
): Promise<BlockingSession[]> {
  const pids = blockers.map((b) => Math.trunc(Number(b.pid))).filter(Number.isFinite);
  if (pids.length === 0) return [];
  const out = await querySql(
    request.runner,
    request.tools.psql,
    request.connection,
    `SELECT a.pid FROM pg_catalog.pg_stat_activity a JOIN pg_catalog.pg_roles r ON r.oid = a.usesysid
     WHERE a.pid = ANY ('{${pids.join(',')}}'::int[]) AND a.datname = pg_catalog.current_database() AND NOT r.rolsuper
       AND pg_catalog.pg_terminate_backend(a.pid);`,
  );
  const terminated = new Set(out.split('\n').filter(Boolean).map(Number));
  return blockers.filter((b) => terminated.has(b.pid));
}

function unrestorableError(items: readonly UnrestorableItem[], skipping: boolean): EngineError {
  const shown = items.slice(0, 10).map((item) => `${item.kind} ${item.name} (${item.where}): ${item.reason}`);
  const more = items.length > shown.length ? `; and ${items.length - shown.length} more` : '';
  const skippable = items.some((item) => item.skippable);
  const hint =
    skippable && !skipping
      ? ' Restore with skip-unrestorable to leave those out, or have a superuser handle them.'
      : ' Have a superuser handle them (docs/security.md).';
  return new EngineError(
    items.some((item) => item.kind === 'missing role') ? 'restore/missing-role' : 'restore/unrestorable',
    `The restore runs with the rights of the database's owner, which cannot do this: ${shown.join('; ')}${more}.${hint} Nothing was changed.`,
    { items },
  );
}
