import { describe, expect, it } from 'vitest';
import type { MetadataDb } from '../../../src/db/client.js';
import type { JobRow } from '../../../src/db/schema.js';
import { ServiceError } from '../../../src/errors/service-error.js';
import type { JobWorker } from '../../../src/jobs/job-worker.js';
import type { JobsRepository } from '../../../src/jobs/jobs-repository.js';
import type { JobQueue } from '../../../src/jobs/queue.js';
import { recoverInterrupted } from '../../../src/jobs/recovery.js';
import type { ObjectStorage } from '../../../src/storage/object-storage.js';

/** A running job of a first-stage process (no instance: gone without asking the database). */
const job = (id: string, over: Partial<JobRow> = {}) =>
  ({ id, kind: 'backup', state: 'running', instanceId: null, ...over }) as JobRow;

function setup(active: JobRow[], downDestination: string) {
  const discarded: string[] = [];
  const finished: string[] = [];
  const swept: string[] = [];
  const warnings: Record<string, unknown>[] = [];
  const jobWarnings: [string, string][] = [];
  const storageOf = async (partialRef: string) => {
    const [destination, ref] = partialRef.split(':') as [string, string];
    const storage = {
      discardPartial: async (name: string) => {
        if (destination === downDestination) {
          throw new ServiceError('destination/unreachable', `${destination} does not answer.`);
        }
        if (destination === 'removed') throw new ServiceError('destination/not-found', 'No such destination.');
        discarded.push(name);
      },
    } as Partial<ObjectStorage> as ObjectStorage;
    return { storage, ref };
  };
  const deps = {
    db: {} as MetadataDb,
    jobs: {
      activeWithoutInstance: async () => active,
      activeOnInstances: async () => [],
      addWarning: async (id: string, warning: string) => void jobWarnings.push([id, warning]),
    } as unknown as JobsRepository,
    worker: {
      finish: async (row: JobRow) => {
        finished.push(row.id);
        return { ...row, state: 'failed' };
      },
    } as Partial<JobWorker> as JobWorker,
    storageOf,
    sweepRestoreRoles: async (targetId: string) => void swept.push(targetId),
    queue: { drop: async () => {} } as Partial<JobQueue> as JobQueue,
    clock: { now: () => 0, setTimeout: () => ({ cancel: () => {} }) },
    logger: {
      info: () => {},
      warn: (_: string, fields?: Record<string, unknown>) => void warnings.push(fields ?? {}),
      error: () => {},
    },
    instanceId: 'this-instance',
  };
  return { deps, discarded, finished, swept, warnings, jobWarnings };
}

describe('recovery of interrupted jobs', () => {
  it('goes on with the later jobs when discarding one partial fails, and leaves that job for the next pass', async () => {
    const { deps, discarded, finished, warnings } = setup(
      [job('first', { partialRef: 's3:first.partial' }), job('second', { partialRef: 'local:second.partial' })],
      's3',
    );
    const recovered = await recoverInterrupted(deps);
    expect(recovered.map((row) => row.id)).toEqual(['second']);
    expect(finished).toEqual(['second']);
    expect(discarded).toEqual(['second.partial']);
    expect(warnings).toEqual([expect.objectContaining({ code: 'destination/unreachable', jobId: 'first' })]);
  });

  it('sweeps the restore roles of the target of each restore it fails, once per target', async () => {
    const { deps, swept } = setup(
      [
        job('restore-a', { kind: 'restore', targetId: 'other' }),
        job('restore-b', { kind: 'restore', targetId: 'other' }),
        job('backup', { kind: 'backup', targetId: 'third' }),
        job('stuck', { kind: 'restore', targetId: 'down', partialRef: 's3:x' }),
      ],
      's3',
    );
    await recoverInterrupted(deps);
    expect(swept).toEqual(['other']);
  });

  it('ends a job whose partial can never be discarded (its destination removed), naming the partial for a person', async () => {
    const { deps, finished, jobWarnings } = setup([job('orphan', { partialRef: 'removed:orphan.partial' })], 's3');
    expect((await recoverInterrupted(deps)).map((row) => row.id)).toEqual(['orphan']);
    expect(finished).toEqual(['orphan']);
    expect(jobWarnings).toEqual([['orphan', expect.stringContaining('removed:orphan.partial')]]);
  });
});
