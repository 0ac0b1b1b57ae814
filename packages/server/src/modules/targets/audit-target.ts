import { audited as auditedOperation } from '../../audit/audited.js';
import type { Actor, TargetDeps } from './target-deps.js';

/**
 * Runs a target operation and records it under the target, succeeded or failed. Details hold
 * names and flags only: never a URL's password, never a sealed value.
 */
export function audited<T extends { id: string }>(
  deps: Pick<TargetDeps, 'audit'>,
  actor: Actor,
  action: string,
  subject: { id?: string; name: string },
  details: Record<string, unknown>,
  run: () => Promise<T>,
): Promise<T> {
  return auditedOperation(deps.audit, actor, action, subject, details, run, { targetScoped: true });
}
