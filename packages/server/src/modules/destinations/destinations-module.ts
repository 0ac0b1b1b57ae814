import type { DestinationRow } from '../../db/schema.js';
import type { ObjectStorage } from '../../storage/object-storage.js';
import { type RotationResult, resealAll } from '../targets/rotate-credentials.js';
import { type AddDestinationInput, addDestination } from './add-destination.js';
import type { Actor, DestinationDeps } from './destination-deps.js';
import { type DestinationView, destinationView } from './destination-view.js';
import { removeDestination } from './remove-destination.js';
import { setTargetDestinations } from './set-target-destinations.js';
import { storageFor } from './storage-for.js';
import { type DestinationTestResult, testDestination } from './test-destination.js';
import { type UpdateDestinationInput, updateDestination } from './update-destination.js';

/** The destinations domain as the transports (GraphQL, CLI) and the backup pipeline use it. */
export interface DestinationsModule {
  list(): Promise<DestinationView[]>;
  get(idOrName: string): Promise<DestinationView>;
  /** Added, then tested right away: the answer says whether it works (a failed test does not undo the add). */
  add(input: AddDestinationInput, actor: Actor): Promise<{ destination: DestinationView; test: DestinationTestResult }>;
  update(idOrName: string, input: UpdateDestinationInput, actor: Actor): Promise<DestinationView>;
  test(idOrName: string, actor: Actor): Promise<DestinationTestResult>;
  remove(idOrName: string, options: { force?: boolean }, actor: Actor): Promise<DestinationView>;
  /** The storage a backup is written to or read from; credentials are opened in memory only. */
  storage(idOrName: string): Promise<ObjectStorage>;
  /** A target's destinations in order (empty: the default, "local"). */
  ofTarget(targetIdOrName: string): Promise<DestinationView[]>;
  setForTarget(targetIdOrName: string, names: readonly string[], actor: Actor): Promise<DestinationView[]>;
  /** Re-seals stored credentials with the current master key (each start and `key rotate`). */
  rotateKeys(): Promise<RotationResult>;
}

export function createDestinationsModule(deps: DestinationDeps): DestinationsModule {
  const views = async (rows: DestinationRow[]) => {
    const usage = await deps.repo.usage(rows.map((row) => row.id));
    return rows.map((row) => destinationView(row, usage.get(row.id)));
  };
  const view = async (row: DestinationRow) => (await views([row]))[0]!;
  return {
    list: async () => views(await deps.repo.list()),
    get: async (idOrName) => view(await deps.repo.find(idOrName)),
    async add(input, actor) {
      const row = await addDestination(deps, input, actor);
      const test = await testDestination(deps, row.id, actor);
      return { destination: await view(await deps.repo.find(row.id)), test };
    },
    update: async (idOrName, input, actor) => view(await updateDestination(deps, idOrName, input, actor)),
    test: (idOrName, actor) => testDestination(deps, idOrName, actor),
    remove: async (idOrName, options, actor) => view(await removeDestination(deps, idOrName, options, actor)),
    storage: async (idOrName) => storageFor(deps, await deps.repo.find(idOrName)),
    ofTarget: async (target) => views(await deps.repo.ofTarget((await deps.findTarget(target)).id)),
    setForTarget: async (target, names, actor) => views(await setTargetDestinations(deps, target, names, actor)),
    rotateKeys: () =>
      resealAll(deps.keys, {
        sealed: () => deps.repo.sealed(),
        replace: (id, from, to) => deps.repo.replaceSealed(id, from, to),
      }),
  };
}
