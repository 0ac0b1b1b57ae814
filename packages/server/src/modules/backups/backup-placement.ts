import type { ObjectStorage } from '../../storage/object-storage.js';

/** A destination's storage, with the id its copies and partial refs are recorded under. */
export interface PlacedStorage {
  destinationId: string;
  storage: ObjectStorage;
}

/** Where backups are written and read: a target's destinations (issue #12, "Several destinations per target"). */
export interface BackupPlacement {
  /** The target's destinations in order; the env-managed "local" one when it has none. */
  ofTarget(targetId: string): Promise<PlacedStorage[]>;
  storage(destinationId: string): Promise<ObjectStorage>;
  /** Every enabled destination (what a rescan reads by default). */
  enabled(): Promise<PlacedStorage[]>;
  /** The env-managed "local" destination's id: partial refs from before destinations are its. */
  readonly localId: string;
}

const QUALIFIED = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):(.*)$/s;

/** jobs.partial_ref names its destination: recovery discards through that destination's storage. */
export const qualifiedRef = (destinationId: string, ref: string) => `${destinationId}:${ref}`;

/** The destination and storage ref of a partial ref; an unqualified (older) ref is the local destination's. */
export function splitRef(partialRef: string, localId: string): { destinationId: string; ref: string } {
  const match = QUALIFIED.exec(partialRef);
  return match ? { destinationId: match[1]!, ref: match[2]! } : { destinationId: localId, ref: partialRef };
}

interface DestinationVersion {
  id: string;
  updatedAt: Date;
}

/**
 * A placement over the destinations module, one storage per destination for the process (an S3
 * client holds sockets and credentials: not one per read); an updated destination gets a new one.
 */
export function cachedPlacement(source: {
  ofTarget(targetId: string): Promise<DestinationVersion[]>;
  get(destinationId: string): Promise<DestinationVersion>;
  /** Every enabled destination. */
  enabled(): Promise<DestinationVersion[]>;
  storage(destinationId: string): Promise<ObjectStorage>;
  localId: string;
}): BackupPlacement {
  const storages = new Map<string, Promise<ObjectStorage>>();
  const storageOf = (destination: DestinationVersion) => {
    const key = `${destination.id}@${destination.updatedAt.getTime()}`;
    let found = storages.get(key);
    if (!found) {
      for (const old of storages.keys()) if (old.startsWith(`${destination.id}@`)) storages.delete(old);
      found = source.storage(destination.id);
      found.catch(() => storages.delete(key));
      storages.set(key, found);
    }
    return found;
  };
  return {
    localId: source.localId,
    storage: async (destinationId) => storageOf(await source.get(destinationId)),
    enabled: async () =>
      Promise.all(
        (await source.enabled()).map(async (destination) => ({
          destinationId: destination.id,
          storage: await storageOf(destination),
        })),
      ),
    async ofTarget(targetId) {
      const listed = await source.ofTarget(targetId);
      const ordered = listed.length > 0 ? listed : [await source.get(source.localId)];
      return Promise.all(
        ordered.map(async (destination) => ({ destinationId: destination.id, storage: await storageOf(destination) })),
      );
    },
  };
}
