import { EventEmitter } from 'node:events';
import type { JobRow } from '../db/schema.js';

export type JobEvent =
  { type: 'state'; job: JobRow } | { type: 'progress'; jobId: string; progress: Record<string, unknown> };

/** In-process fan-out of job changes; the GraphQL layer subscribes through this. */
export interface JobEvents {
  publish(event: JobEvent): void;
  subscribe(listener: (event: JobEvent) => void): () => void;
}

export function createJobEvents(): JobEvents {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0); // one per subscriber; hundreds are expected
  return {
    publish: (event) => emitter.emit('event', event),
    subscribe(listener) {
      emitter.on('event', listener);
      return () => emitter.off('event', listener);
    },
  };
}
