import { isCodedError } from '../../errors/service-error.js';
import type { Actor, KeysDeps } from './keys-deps.js';

/**
 * Runs a key operation and records it, succeeded or failed (with the error's code). Details hold
 * names, fingerprints and flags: never an identity, sealed or not.
 */
export async function auditedKey<T>(
  deps: Pick<KeysDeps, 'audit'>,
  actor: Actor,
  action: string,
  details: Record<string, unknown>,
  run: () => Promise<T>,
  subjectOf: (result: T) => { subjectId?: string | null; targetId?: string | null; details?: Record<string, unknown> },
): Promise<T> {
  try {
    const result = await run();
    const subject = subjectOf(result);
    await deps.audit.record({
      actor: actor.name,
      address: actor.address,
      action,
      outcome: 'succeeded',
      subjectId: subject.subjectId ?? null,
      targetId: subject.targetId ?? null,
      details: { ...details, ...subject.details },
    });
    return result;
  } catch (error) {
    await deps.audit.record({
      actor: actor.name,
      address: actor.address,
      action,
      outcome: 'failed',
      details: { ...details, errorCode: isCodedError(error) ? error.code : 'internal' },
    });
    throw error;
  }
}
