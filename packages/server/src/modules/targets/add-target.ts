import { randomUUID } from 'node:crypto';
import { ServiceError } from '../../errors/service-error.js';
import type { TargetRow } from '../../db/schema.js';
import { audited } from './audit-target.js';
import { sealCredential } from './credential-box.js';
import type { Actor, TargetDeps } from './target-deps.js';
import { validTargetName, validTargetUrl } from './target-url.js';

export interface AddTargetInput {
  name: string;
  /** postgres:// without a password; a server target's names its maintenance database. */
  url: string;
  kind?: 'database' | 'server';
  /** From PGPASSWORD, a prompt or a file: never part of the URL. */
  password?: string | null;
  /** False: registered but disabled (a configuration import keeps what was exported). */
  enabled?: boolean;
  excludeDatabases?: string[];
  keepGlobals?: boolean;
  globalsWithPasswords?: boolean;
}

export function validExclusions(names: readonly string[]): string[] {
  if (names.some((name) => name === '' || name.length > 63)) {
    throw new ServiceError('input/invalid', 'An excluded database name is 1 to 63 characters.');
  }
  return [...new Set(names)].sort();
}

/** Registers a target; its password is sealed before it reaches the database. */
export function addTarget(deps: TargetDeps, input: AddTargetInput, actor: Actor): Promise<TargetRow> {
  const kind = input.kind ?? 'database';
  return audited(deps, actor, 'target.add', { name: input.name }, { kind }, async () => {
    if (kind !== 'database' && kind !== 'server')
      throw new ServiceError('input/invalid', 'kind is database or server.');
    const id = randomUUID();
    return deps.repo.insert(
      {
        name: validTargetName(input.name),
        kind,
        url: validTargetUrl(input.url),
        passwordSealed: input.password ? sealCredential(deps.keys, id, input.password) : null,
        enabled: input.enabled ?? true,
        excludeDatabases: validExclusions(input.excludeDatabases ?? []),
        keepGlobals: input.keepGlobals ?? false,
        globalsWithPasswords: input.globalsWithPasswords ?? false,
      },
      id,
    );
  });
}
