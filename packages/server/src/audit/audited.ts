import { isCodedError } from '../errors/service-error.js';
import type { AuditLog } from './audit-log.js';

/** Who asked, for the audit log. */
export interface AuditActor {
  name: string | null;
  address?: string | null;
}

/**
 * Runs an operation and records it, succeeded or failed (with the error's code). Details hold
 * names and flags only: never a password, a key or a sealed value. `targetScoped`: the subject is
 * a target, so the entry is filed under it too.
 */
export async function audited<T extends { id: string }>(
  audit: AuditLog,
  actor: AuditActor,
  action: string,
  subject: { id?: string; name: string },
  details: Record<string, unknown>,
  run: () => Promise<T>,
  options: { targetScoped: boolean },
): Promise<T> {
  const targetId = (id: string | null) => (options.targetScoped ? id : null);
  try {
    const result = await run();
    await audit.record({
      actor: actor.name,
      address: actor.address,
      action,
      outcome: 'succeeded',
      subjectId: result.id,
      targetId: targetId(result.id),
      details: { name: subject.name, ...details },
    });
    return result;
  } catch (error) {
    await audit.record({
      actor: actor.name,
      address: actor.address,
      action,
      outcome: 'failed',
      subjectId: subject.id ?? null,
      targetId: targetId(subject.id ?? null),
      details: { name: subject.name, ...details, errorCode: isCodedError(error) ? error.code : 'internal' },
    });
    throw error;
  }
}
