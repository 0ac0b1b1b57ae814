import { randomUUID } from 'node:crypto';

/**
 * The age identities given with one request (a restore, a deep verify), held in this process's
 * memory for the job that request queued, and nowhere else: the job's params carry only the
 * reference (a random id, no secret), the job runs on this instance (placement 'here'), and the
 * identities are dropped when the job ends, or after `ttlMs` if it never runs. A restart loses
 * them: such a job then fails with key/identity-required, having changed nothing.
 */
export class IdentityVault {
  private readonly held = new Map<string, { identities: readonly string[]; timer: NodeJS.Timeout }>();

  constructor(private readonly ttlMs: number) {}

  hold(identities: readonly string[]): string {
    const ref = randomUUID();
    const timer = setTimeout(() => this.held.delete(ref), this.ttlMs);
    timer.unref();
    this.held.set(ref, { identities, timer });
    return ref;
  }

  get(ref: string | undefined): readonly string[] | undefined {
    return ref === undefined ? undefined : this.held.get(ref)?.identities;
  }

  drop(ref: string | undefined): void {
    if (ref === undefined) return;
    const entry = this.held.get(ref);
    if (entry) clearTimeout(entry.timer);
    this.held.delete(ref);
  }
}
