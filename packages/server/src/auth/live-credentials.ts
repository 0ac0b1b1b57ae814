import type { Clock } from '@pgbs/engine';
import type { Logger } from '../logger.js';
import type { AuthService, Viewer } from './auth-service.js';
import type { CredentialEvents, EndedCredential } from './credential-events.js';

/**
 * The credentials behind open connections (WebSockets, SSE streams), each cut when its credential
 * ends. Event-driven: logout, revocation and user removal (in any process) end them at once, and a
 * session's absolute expiry is a timer. A periodic sweep is the safety net for the rest (idle
 * expiry, rows changed by hand) and, in the same query, marks the sessions as active: an open
 * subscription keeps its session alive, for one write per interval however many events it carries.
 * No database connection is held between sweeps.
 */
export interface LiveCredentials {
  /** Calls `end` once when the viewer's credential ends; returns a function that stops tracking. */
  track(viewer: Viewer, end: () => void): () => void;
  close(): void;
}

interface Entry {
  viewer: Viewer;
  end: () => void;
  expiry?: NodeJS.Timeout;
}

const matches = (viewer: Viewer, ended: EndedCredential) =>
  ended.kind === 'user' ? viewer.userId === ended.id : viewer.via === ended.kind && viewer.credentialId === ended.id;

export function liveCredentials(deps: {
  auth: Pick<AuthService, 'keepAlive' | 'activityIntervalMs'>;
  events: CredentialEvents;
  clock: Clock;
  logger: Logger;
}): LiveCredentials {
  const entries = new Set<Entry>();
  let sweeper: NodeJS.Timeout | null = null;
  let sweeping = false;

  const finish = (entry: Entry) => {
    if (!entries.delete(entry)) return;
    clearTimeout(entry.expiry);
    if (entries.size === 0 && sweeper) {
      clearInterval(sweeper);
      sweeper = null;
    }
    entry.end();
  };

  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const viewers = [...entries].map((entry) => entry.viewer);
      const ids = (via: Viewer['via']) => [
        ...new Set(viewers.filter((viewer) => viewer.via === via).map((viewer) => viewer.credentialId)),
      ];
      const live = await deps.auth.keepAlive({ sessions: ids('session'), tokens: ids('token') });
      for (const entry of entries) if (!live.has(entry.viewer.credentialId)) finish(entry);
    } catch (error) {
      // The metadata database being away is no reason to cut everyone: the next sweep decides.
      deps.logger.warn('could not check the credentials of open connections', { error });
    } finally {
      sweeping = false;
    }
  };

  const unsubscribe = deps.events.subscribe((ended) => {
    for (const entry of entries) if (matches(entry.viewer, ended)) finish(entry);
  });

  return {
    track(viewer, end) {
      const entry: Entry = { viewer, end };
      entries.add(entry);
      if (viewer.expiresAt) {
        entry.expiry = setTimeout(() => finish(entry), Math.max(0, viewer.expiresAt.getTime() - deps.clock.now()));
      }
      sweeper ??= setInterval(() => void sweep(), deps.auth.activityIntervalMs);
      return () => {
        // Stopped by the connection itself: nothing to end.
        entry.end = () => {};
        finish(entry);
      };
    },
    close() {
      unsubscribe();
      for (const entry of entries) finish(entry);
    },
  };
}
