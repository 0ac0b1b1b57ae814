import { readServerFacts, readTargetRole, restoreMode } from '@pgbs/engine';
import { isCodedError } from '../../errors/service-error.js';
import type { TargetRow } from '../../db/schema.js';
import { audited } from './audit-target.js';
import { type SyncResult, syncServerTarget } from './sync-server-target.js';
import type { Actor, TargetDeps } from './target-deps.js';
import { connectionFor } from './target-directory.js';

/** What a connection test found; stored in targets.last_test and returned. */
export interface TargetTestResult {
  ok: boolean;
  at: string;
  serverVersion?: string;
  clientVersion?: string;
  clientDirectory?: string;
  role?: string;
  superuser?: boolean;
  owner?: string;
  actsAsOwner?: boolean;
  /** "owner" or "superuser" (how a restore would run), or the code that would refuse a restore. */
  restore?: string;
  sizeBytes?: number;
  /** Whole-server targets: what the sync of its databases did. */
  sync?: SyncResult;
  error?: { code: string; message: string };
}

async function probe(deps: TargetDeps, row: TargetRow): Promise<Omit<TargetTestResult, 'ok' | 'at'>> {
  const connection = await connectionFor(deps, row);
  const prepared = await deps.tools.prepare(connection);
  const [role, facts] = await Promise.all([
    readTargetRole(deps.runner, prepared.tools.psql, connection),
    readServerFacts(deps.runner, prepared.tools.psql, connection),
  ]);
  let restore: string;
  try {
    restore = restoreMode(role);
  } catch (error) {
    if (!isCodedError(error)) throw error;
    restore = error.code;
  }
  return {
    serverVersion: prepared.serverVersion.text,
    clientVersion: prepared.tools.version.text,
    clientDirectory: prepared.tools.dir,
    role: role.role,
    superuser: role.superuser,
    owner: role.owner,
    actsAsOwner: role.actsAsOwner,
    restore: row.kind === 'server' ? undefined : restore,
    sizeBytes: facts.sizeBytes,
    sync: row.kind === 'server' ? await syncServerTarget(deps, row.id) : undefined,
  };
}

/**
 * Connects as the service would: versions and the client tools it would pick, the role, whether
 * it is a superuser or acts as the owner, and the size. An unreachable target is a result
 * (ok: false with the coded error), not a failure of the test itself.
 */
export async function testTarget(deps: TargetDeps, idOrName: string, actor: Actor): Promise<TargetTestResult> {
  const row = await deps.repo.find(idOrName);
  const at = new Date(deps.clock.now()).toISOString();
  let result: TargetTestResult;
  try {
    result = { ok: true, at, ...(await probe(deps, row)) };
  } catch (error) {
    if (!isCodedError(error)) throw error;
    result = { ok: false, at, error: { code: error.code, message: error.message } };
  }
  await audited(deps, actor, 'target.test', row, { ok: result.ok, errorCode: result.error?.code }, async () =>
    deps.repo.update(row.id, { lastTest: { ...result } }),
  );
  return result;
}
