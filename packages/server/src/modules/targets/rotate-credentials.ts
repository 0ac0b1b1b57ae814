import { isCodedError } from '../../errors/service-error.js';
import { type KeyRing, openCredential, sealCredential, sealedKeyId } from './credential-box.js';
import type { TargetDeps } from './target-deps.js';

export interface RotationResult {
  /** Re-sealed with the current key. */
  resealed: number;
  alreadyCurrent: number;
  /** Could not be opened (key missing or value tampered): they keep their sealed value. */
  failed: { name: string; code: string }[];
}

/**
 * Re-seals every stored password with the current key (the first of MASTER_KEY / MASTER_KEY_FILE).
 * Runs at each start and by `pnpm cli key rotate`; once it reports no failure, the older keys can
 * be removed from the configuration.
 */
export function rotateCredentials(deps: Pick<TargetDeps, 'repo' | 'keys'>): Promise<RotationResult> {
  return resealAll(deps.keys, {
    sealed: async () =>
      (await deps.repo.sealed()).map((row) => ({ id: row.id, name: row.name, sealed: row.passwordSealed! })),
    replace: (id, from, to) => deps.repo.replaceSealed(id, from, to),
  });
}

/** Where sealed values live (targets' passwords, destinations' credentials), for rotation. */
export interface SealedValues {
  sealed(): Promise<{ id: string; name: string; sealed: string }[]>;
  /** Compare-and-set: false when another process changed the value meanwhile. */
  replace(id: string, from: string, to: string): Promise<boolean>;
}

/** Re-seals each value not sealed with the current key; one that does not open is reported, not changed. */
export async function resealAll(keys: KeyRing, values: SealedValues): Promise<RotationResult> {
  const result: RotationResult = { resealed: 0, alreadyCurrent: 0, failed: [] };
  const current = keys.current;
  if (!current) return result;
  for (const row of await values.sealed()) {
    if (sealedKeyId(row.sealed) === current.id) {
      result.alreadyCurrent += 1;
      continue;
    }
    try {
      const resealed = sealCredential(keys, row.id, openCredential(keys, row.id, row.sealed));
      if (await values.replace(row.id, row.sealed, resealed)) result.resealed += 1;
    } catch (error) {
      if (!isCodedError(error)) throw error;
      result.failed.push({ name: row.name, code: error.code });
    }
  }
  return result;
}
