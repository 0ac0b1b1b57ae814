import type { HandlerRegistry } from '../../jobs/handler-registry.js';
import type { JobRequest } from '../jobs/enqueue-job.js';
import type { Retention } from './retention.js';

export interface PruneJobParams {
  targetId: string;
}

declare module '../../jobs/job-types.js' {
  interface JobParamsByKind {
    prune: PruneJobParams;
  }
}

/** Pruning runs as a queued job; each deletion is audited by the prune itself, with its rule. */
export function registerPruneHandler(registry: HandlerRegistry, retention: Retention): void {
  registry.register('prune', {
    // Deletes go through the manual delete, which refuses a backup in use: no database lock needed.
    lock: null,
    run: (context) => retention.prune(context.params.targetId),
  });
}

/** The prune of one target, queued after each of its backups; any instance runs it. */
export function pruneRequest(targetId: string): JobRequest<'prune'> {
  return {
    kind: 'prune',
    params: { targetId },
    actor: { name: 'retention' },
    targetId,
    lockKey: null,
    placement: 'any',
  };
}
