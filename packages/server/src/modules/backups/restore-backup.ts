import { checkRestore, restoreDatabase } from '@pgbs/engine';
import { ServiceError, isCodedError } from '../../errors/service-error.js';
import type { JobHandler } from '../../jobs/job-types.js';
import type { StartedJob } from '../jobs/enqueue-job.js';
import type { Actor, RestoreRequestInput } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';
import { dumpToStorage } from './dump-to-storage.js';
import { restoreTarget } from './job-target.js';
import { checkRequest, restoreSource } from './restore-source.js';
import { openRestoreInput, requireSpoolSpace } from './restore-input.js';
import { heldIdentities, holdIdentities } from './job-identities.js';

/** Share of a restore job's progress bar taken by its safety snapshot. */
const SNAPSHOT_SHARE = 0.3;
/** How long one attempt at the restore's locks may make application queries wait behind it. */
const LOCK_ATTEMPT_MS = 1000;

const round = (value: number) => Math.round(value * 10) / 10;

/**
 * Queues a restore after every check that needs no job: the confirmation, the source (a file from
 * outside is validated completely), the database it is of, and the pre-flight of what the
 * connection's role can do. A file from outside is restored by this instance (it is local here).
 */
export async function restoreBackup(
  deps: BackupsDeps,
  input: RestoreRequestInput & { targetId?: string | null },
  actor: Actor,
): Promise<StartedJob> {
  const { target, prepared, lockKey } = await restoreTarget(deps, input.source, input.targetId);
  const database = target.connection.database;
  if (input.confirmation !== database) {
    throw new ServiceError(
      'restore/confirmation-mismatch',
      `Type the name of target ${target.name}'s database ("${database}") to confirm the restore. Nothing was changed.`,
      { targetId: target.id, targetDatabase: database },
    );
  }
  const { source, identities } = await restoreSource(deps, input.source, prepared, input.identity);
  if (source.databaseName && source.databaseName !== database && !input.options.acceptSourceMismatch) {
    throw new ServiceError(
      'restore/source-mismatch',
      `The backup is of database "${source.databaseName}", not of "${database}": restoring it replaces "${database}" with another database's content. Acknowledge the mismatch to restore it all the same. Nothing was changed.`,
      { sourceDatabase: source.databaseName, targetDatabase: database },
    );
  }
  // Before any job exists: a restore that cannot run as the owner, or would hit what the
  // owner's rights cannot do, is refused here with the list.
  await checkRestore(checkRequest(deps, target, prepared, source, input.options, identities));
  await requireSpoolSpace(deps, source);
  const file = 'filePath' in input.source ? input.source.filePath : undefined;
  // A given identity stays in this instance's memory only, so the job runs here (identity-vault.ts).
  const held = holdIdentities(deps, input.identity === undefined ? [] : identities);
  return held.around(
    deps.startJob({
      kind: 'restore',
      params: {
        target: target.connection.display,
        options: input.options,
        source,
        ...(file ? { file } : {}),
        ...held.params,
      },
      actor,
      targetId: target.id,
      lockKey,
      targetDisplay: target.connection.display,
      backupId: source.backupId,
      ...(file || held.here ? { placement: 'here' as const } : {}),
    }),
  );
}

/**
 * Restores an uploaded file after validating it (an age-encrypted one decrypted with the identity
 * given, held in memory for the job only). The file must stay until the job has ended
 * (the caller deletes it then). A refused upload is audited: it may be an attack.
 */
export async function restoreUpload(
  deps: BackupsDeps,
  path: string,
  input: Omit<RestoreRequestInput, 'source'> & { originalName: string; targetId?: string | null },
  actor: Actor,
): Promise<StartedJob> {
  const label = `upload ${input.originalName}`;
  try {
    return await restoreBackup(
      deps,
      {
        source: { filePath: path, label },
        confirmation: input.confirmation,
        options: input.options,
        targetId: input.targetId,
        ...(input.identity !== undefined ? { identity: input.identity } : {}),
      },
      actor,
    );
  } catch (error) {
    await deps.audit.record({
      actor: actor.name,
      address: actor.address,
      action: 'backup.restore',
      outcome: 'failed',
      details: { source: label, errorCode: isCodedError(error) ? error.code : 'internal' },
    });
    throw error;
  }
}

interface RestoreOutcome {
  mode: string;
  terminatedSessions: unknown[];
  /** Could not be dropped (it can no longer log in); the next start sweeps it again. */
  leftoverRole: string | null;
  skipped: number;
}

/** Runs a queued restore: its database to itself, an optional safety snapshot, then the restore. */
export function restoreHandler(deps: BackupsDeps): JobHandler<'restore', RestoreOutcome> {
  return {
    lock: 'exclusive',
    async run(context) {
      const target = context.target!;
      const { options, source, actor, identityRef } = context.params;
      try {
        const prepared = await deps.tools.prepare(target.connection);
        const identities = await heldIdentities(deps, identityRef, source.backupId);
        // Before the snapshot: a restore that cannot get its local copy changes nothing.
        const input = await openRestoreInput(deps, source, context.signal, identities);
        try {
          let share = 0;
          if (options.safetySnapshot) {
            share = SNAPSHOT_SHARE;
            // Named in the job's params (dumpToStorage), whatever the restore's outcome: whoever
            // started it is told where to go back to.
            await dumpToStorage(
              deps,
              context,
              target,
              prepared,
              { format: 'custom', description: `Before restoring ${source.label}`, origin: 'pre-restore-snapshot' },
              actor,
              (s) => context.progress({ ...s, phase: 'snapshot', percent: round(s.percent * share), etaSeconds: null }),
            );
          }
          const result = await restoreDatabase({
            ...checkRequest(deps, target, prepared, source, options, identities),
            clock: deps.clock,
            serverVersion: prepared.serverVersion,
            jobId: context.jobId,
            applicationName: context.applicationName,
            // The short-lived login of a superuser connection outlives no job.
            roleValidForSeconds: deps.jobTimeoutSeconds + 300,
            source: input.source,
            options: { noOwner: options.noOwner, noPrivileges: options.noPrivileges },
            tables: source.tables,
            postDataItems: source.postDataItems,
            signal: context.signal,
            lockWait: {
              totalSeconds: deps.lockTimeoutSeconds,
              attemptMs: LOCK_ATTEMPT_MS,
              terminateBlockers: options.terminateBlockers ?? false,
            },
            onProgress: (s) => context.progress({ ...s, percent: round(share * 100 + s.percent * (1 - share)) }),
          });
          return {
            mode: result.mode,
            terminatedSessions: result.terminatedSessions,
            leftoverRole: result.leftoverRole,
            skipped: result.plan.unrestorable.length,
          };
        } finally {
          await input.release();
        }
      } finally {
        deps.identityVault.drop(identityRef);
      }
    },
    audit: (job, outcome) => {
      const params = job.params as { source?: { label: string }; options?: unknown };
      return {
        action: 'backup.restore',
        subjectId: job.backupId,
        details: { source: params.source?.label, options: params.options, ...outcome },
      };
    },
  };
}
