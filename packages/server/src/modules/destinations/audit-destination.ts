import { audited } from '../../audit/audited.js';
import type { Actor, DestinationDeps } from './destination-deps.js';

/** Runs a destination operation and records it. Details hold names and flags, never credentials. */
export function auditedDestination<T extends { id: string }>(
  deps: Pick<DestinationDeps, 'audit'>,
  actor: Actor,
  action: string,
  subject: { id?: string; name: string },
  details: Record<string, unknown>,
  run: () => Promise<T>,
): Promise<T> {
  return audited(deps.audit, actor, action, subject, details, run, { targetScoped: false });
}
