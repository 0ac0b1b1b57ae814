import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dumpGlobals } from '@pgbs/engine';
import type { TargetDeps } from './target-deps.js';
import { connectionFor } from './target-directory.js';

/**
 * Writes the server's roles and grants (pg_dumpall --globals-only) into `sink` when the target
 * keeps them (a server's child follows its server's setting); returns false, writing nothing,
 * when it does not. Role passwords only with globalsWithPasswords. The service stores the result
 * beside a backup (backups.globals_file_name) and never restores it: docs/operations.md says how.
 */
export async function dumpTargetGlobals(deps: TargetDeps, targetId: string, sink: Writable): Promise<boolean> {
  const row = await deps.repo.byId(targetId);
  const settings = row.parentId ? await deps.repo.byId(row.parentId) : row;
  if (!settings.keepGlobals) return false;
  const connection = await connectionFor(deps, row);
  const { tools } = await deps.tools.prepare(connection);
  const dump = dumpGlobals({
    runner: deps.runner,
    tools,
    target: connection,
    withPasswords: settings.globalsWithPasswords,
  });
  try {
    await Promise.all([pipeline(dump.stdout, sink), dump.done]);
  } catch (error) {
    dump.kill();
    throw error;
  }
  return true;
}
