import { isCodedError } from '../../errors/service-error.js';
import { openCredential, sealCredential, sealedKeyId } from './credential-box.js';
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
export async function rotateCredentials(deps: Pick<TargetDeps, 'repo' | 'keys'>): Promise<RotationResult> {
  const result: RotationResult = { resealed: 0, alreadyCurrent: 0, failed: [] };
  const current = deps.keys.current;
  if (!current) return result;
  for (const row of await deps.repo.sealed()) {
    const sealed = row.passwordSealed!;
    if (sealedKeyId(sealed) === current.id) {
      result.alreadyCurrent += 1;
      continue;
    }
    try {
      const resealed = sealCredential(deps.keys, row.id, openCredential(deps.keys, row.id, sealed));
      if (await deps.repo.replaceSealed(row.id, sealed, resealed)) result.resealed += 1;
    } catch (error) {
      if (!isCodedError(error)) throw error;
      result.failed.push({ name: row.name, code: error.code });
    }
  }
  return result;
}
