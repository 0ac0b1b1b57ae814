import type { Clock } from '@pgbs/engine';
import { ServiceError } from '../errors/service-error.js';

/** A session of the job on the target, as pg_stat_activity and the progress views show it. */
export interface TargetSession {
  state: string | null;
  waitEventType: string | null;
  /** A row in pg_stat_progress_create_index for it. */
  buildingIndex: boolean;
}

/** Reads the job's sessions on its target (by application_name). */
export type ActivityProbe = (applicationName: string) => Promise<TargetSession[]>;

/**
 * Whether the server is working for the job. A session running a statement counts (a long index
 * build shows no bytes but is work), unless it waits on a heavyweight lock (another session's
 * work, which LOCK_TIMEOUT bounds) or on the client (our side is not reading: a stall of ours).
 * An index build counts whatever it waits for (its phases wait for other transactions). A COPY
 * counts only as a running statement: its progress row stays while it waits for the client.
 */
export function showsActivity(sessions: readonly TargetSession[]): boolean {
  return sessions.some(
    (s) => s.buildingIndex || (s.state === 'active' && s.waitEventType !== 'Lock' && s.waitEventType !== 'Client'),
  );
}

/**
 * Fails a job with job/stalled once, for `stallMs`, neither its bytes moved nor its target showed
 * activity for it. `check` is called periodically by the worker; the probe only when bytes stood
 * still since the last check.
 */
export class StallWatch {
  private bytes = -1;
  private lastActivity: number;

  constructor(private readonly deps: { clock: Clock; stallMs: number; probe: ActivityProbe; applicationName: string }) {
    this.lastActivity = deps.clock.now();
  }

  /** Resolves with the job/stalled error when the job has stalled, else null. Never throws. */
  async check(bytes: number): Promise<ServiceError | null> {
    const now = this.deps.clock.now();
    if (bytes !== this.bytes) {
      this.bytes = bytes;
      this.lastActivity = now;
      return null;
    }
    const active = await this.deps.probe(this.deps.applicationName).then(showsActivity, () => false);
    if (active) {
      this.lastActivity = now;
      return null;
    }
    if (now - this.lastActivity < this.deps.stallMs) return null;
    return new ServiceError(
      'job/stalled',
      `The job made no progress for ${Math.round(this.deps.stallMs / 1000)} s: no bytes moved and the database server did no work for it (waiting on a lock counts as no work). It was stopped; nothing it wrote was kept.`,
    );
  }

  /** When bytes moved or the server worked last (for the row's activity_at). */
  get lastActivityAt(): number {
    return this.lastActivity;
  }
}
