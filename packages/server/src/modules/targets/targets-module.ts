import type { Writable } from 'node:stream';
import { parsePgUrl } from '@pgbs/engine';
import { isUuid } from '../../ids.js';
import { type AddTargetInput, addTarget } from './add-target.js';
import { dumpTargetGlobals } from './dump-target-globals.js';
import { removeTarget } from './remove-target.js';
import { type RotationResult, rotateCredentials } from './rotate-credentials.js';
import { type SyncResult, syncServerTarget } from './sync-server-target.js';
import type { TargetConnections } from './target-connections.js';
import type { Actor, TargetDeps } from './target-deps.js';
import { targetDirectory } from './target-directory.js';
import { type TargetView, targetView } from './target-view.js';
import { type TargetTestResult, testTarget } from './test-target.js';
import { type UpdateTargetInput, updateTarget } from './update-target.js';

export interface TargetName {
  name: string;
  /** The database it backs up and restores (a server target's: its maintenance database). */
  database: string;
  removed: boolean;
}

/** The targets domain as the transports (GraphQL, CLI) and the other modules use it. */
export interface TargetsModule {
  connections: TargetConnections;
  list(): Promise<TargetView[]>;
  get(idOrName: string): Promise<TargetView>;
  /** A whole-server target is tested (and its databases synced) right away. */
  add(input: AddTargetInput, actor: Actor): Promise<{ target: TargetView; test: TargetTestResult | null }>;
  update(idOrName: string, input: UpdateTargetInput, actor: Actor): Promise<TargetView>;
  test(idOrName: string, actor: Actor): Promise<TargetTestResult>;
  remove(idOrName: string, actor: Actor): Promise<TargetView>;
  /** A whole-server target's databases, before each scheduled run (the scheduler calls it). */
  sync(idOrName: string): Promise<SyncResult>;
  rotateKeys(): Promise<RotationResult>;
  dumpGlobals(targetId: string, sink: Writable): Promise<boolean>;
  /** Names (and databases) by id, removed targets included, for labelling backups, jobs and audit entries. */
  names(ids: readonly string[]): Promise<Map<string, TargetName>>;
}

export function createTargetsModule(deps: TargetDeps): TargetsModule {
  return {
    connections: targetDirectory(deps),
    list: async () => (await deps.repo.list()).map(targetView),
    get: async (idOrName) => targetView(await deps.repo.find(idOrName)),
    async add(input, actor) {
      const row = await addTarget(deps, input, actor);
      const test = row.kind === 'server' ? await testTarget(deps, row.id, actor) : null;
      return { target: targetView(await deps.repo.byId(row.id)), test };
    },
    update: async (idOrName, input, actor) => targetView(await updateTarget(deps, idOrName, input, actor)),
    test: (idOrName, actor) => testTarget(deps, idOrName, actor),
    remove: async (idOrName, actor) => targetView(await removeTarget(deps, idOrName, actor)),
    sync: async (idOrName) => syncServerTarget(deps, (await deps.repo.find(idOrName)).id),
    rotateKeys: () => rotateCredentials(deps),
    dumpGlobals: (targetId, sink) => dumpTargetGlobals(deps, targetId, sink),
    async names(ids) {
      const rows = await deps.repo.names(ids.filter(isUuid));
      return new Map(
        [...rows].map(([id, row]) => [
          id,
          { name: row.name, database: parsePgUrl(row.url).database, removed: row.deletedAt !== null },
        ]),
      );
    },
  };
}
