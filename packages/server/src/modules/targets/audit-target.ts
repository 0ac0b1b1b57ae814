import { isCodedError } from '../../errors/service-error.js';
import type { Actor, TargetDeps } from './target-deps.js';

/**
 * Runs a target operation and records it, succeeded or failed (with the error's code). Details
 * hold names and flags only: never a URL's password, never a sealed value.
 */
export async function audited<T extends { id: string }>(
  deps: Pick<TargetDeps, 'audit'>,
  actor: Actor,
  action: string,
  subject: { id?: string; name: string },
  details: Record<string, unknown>,
  run: () => Promise<T>,
): Promise<T> {
  try {
    const result = await run();
    await deps.audit.record({
      actor: actor.name,
      address: actor.address,
      action,
      outcome: 'succeeded',
      subjectId: result.id,
      targetId: result.id,
      details: { name: subject.name, ...details },
    });
    return result;
  } catch (error) {
    await deps.audit.record({
      actor: actor.name,
      address: actor.address,
      action,
      outcome: 'failed',
      subjectId: subject.id ?? null,
      targetId: subject.id ?? null,
      details: { name: subject.name, ...details, errorCode: isCodedError(error) ? error.code : 'internal' },
    });
    throw error;
  }
}
