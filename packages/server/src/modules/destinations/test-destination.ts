import { isCodedError } from '../../errors/service-error.js';
import { auditedDestination } from './audit-destination.js';
import type { Actor, DestinationDeps } from './destination-deps.js';
import { storageFor } from './storage-for.js';

/** What a connection test found; stored in destinations.last_test and returned. */
export interface DestinationTestResult {
  ok: boolean;
  at: string;
  error?: { code: string; message: string };
}

/**
 * Writes, reads back and removes a probe object, as a backup would. A refusal (credentials, a
 * missing bucket, an unreachable endpoint) is a result with its code, not a failure of the test.
 */
export async function testDestination(
  deps: DestinationDeps,
  idOrName: string,
  actor: Actor,
): Promise<DestinationTestResult> {
  const row = await deps.repo.find(idOrName);
  const at = new Date(deps.clock.now()).toISOString();
  let result: DestinationTestResult;
  try {
    await storageFor(deps, row).test();
    result = { ok: true, at };
  } catch (error) {
    if (!isCodedError(error)) throw error;
    result = { ok: false, at, error: { code: error.code, message: error.message } };
  }
  await auditedDestination(deps, actor, 'destination.test', row, { ok: result.ok, errorCode: result.error?.code }, () =>
    deps.repo.update(row.id, { lastTest: { ...result } }),
  );
  return result;
}
