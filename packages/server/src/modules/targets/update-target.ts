import { ServiceError } from '../../errors/service-error.js';
import type { TargetRow } from '../../db/schema.js';
import { validExclusions } from './add-target.js';
import { audited } from './audit-target.js';
import { sealCredential } from './credential-box.js';
import type { Actor, TargetDeps } from './target-deps.js';
import type { TargetPatch } from './target-repository.js';
import { urlForDatabase, validTargetUrl } from './target-url.js';

export interface UpdateTargetInput {
  url?: string;
  /** A new password; null removes the stored one. */
  password?: string | null;
  enabled?: boolean;
  excludeDatabases?: string[];
  keepGlobals?: boolean;
  globalsWithPasswords?: boolean;
}

/** The env-managed target is DATABASE_URL's: the environment is where it changes. */
export function refuseEnvManaged(row: TargetRow): void {
  if (row.managedBy === 'env') {
    throw new ServiceError(
      'target/managed-by-env',
      `Target "${row.name}" comes from DATABASE_URL (or the embedded demo): change the environment and restart instead. Nothing was changed.`,
    );
  }
}

/** Edits a target; a server's children follow its URL (each keeps its own database name). */
export async function updateTarget(
  deps: TargetDeps,
  idOrName: string,
  input: UpdateTargetInput,
  actor: Actor,
): Promise<TargetRow> {
  const row = await deps.repo.find(idOrName);
  const changed = Object.keys(input).filter((key) => input[key as keyof UpdateTargetInput] !== undefined);
  return audited(deps, actor, 'target.update', row, { changed }, async () => {
    refuseEnvManaged(row);
    const onlyEnabled = changed.every((key) => key === 'enabled');
    if (row.parentId && !onlyEnabled) {
      throw new ServiceError(
        'target/child-of-server',
        `"${row.name}" belongs to a whole-server target: change the server target; here only --enable/--disable apply. Nothing was changed.`,
      );
    }
    const patch: TargetPatch = {};
    if (input.url !== undefined) patch.url = validTargetUrl(input.url);
    if (input.password !== undefined) {
      patch.passwordSealed = input.password === null ? null : sealCredential(deps.keys, row.id, input.password);
    }
    if (input.enabled !== undefined) patch.enabled = input.enabled;
    if (input.excludeDatabases !== undefined) patch.excludeDatabases = validExclusions(input.excludeDatabases);
    if (input.keepGlobals !== undefined) patch.keepGlobals = input.keepGlobals;
    if (input.globalsWithPasswords !== undefined) patch.globalsWithPasswords = input.globalsWithPasswords;
    const updated = await deps.repo.update(row.id, patch);
    if (patch.url && row.kind === 'server') {
      for (const child of await deps.repo.children(row.id)) {
        const database = new URL(child.url).pathname.slice(1);
        await deps.repo.update(child.id, { url: urlForDatabase(patch.url, decodeURIComponent(database)) });
      }
    }
    return updated;
  });
}
