import { ServiceError } from '../errors/service-error.js';
import type { JobHandler, JobKind } from './job-types.js';

/** From a job's kind to the code that runs it: registering a kind is one call. */
export class HandlerRegistry {
  private readonly handlers = new Map<string, JobHandler<JobKind>>();

  register<K extends JobKind, R>(kind: K, handler: JobHandler<K, R>): this {
    if (this.handlers.has(kind)) throw new Error(`A handler for job kind "${kind}" is registered already.`);
    this.handlers.set(kind, handler as unknown as JobHandler<JobKind>);
    return this;
  }

  get(kind: string): JobHandler<JobKind> {
    const handler = this.handlers.get(kind);
    if (!handler) throw new ServiceError('job/unknown-kind', `No handler for job kind "${kind}".`);
    return handler;
  }

  has(kind: string): boolean {
    return this.handlers.has(kind);
  }
}
