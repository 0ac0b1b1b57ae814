import { isCodedError } from '../../errors/service-error.js';
import { openCredential, sealCredential, sealedKeyId } from '../targets/credential-box.js';
import type { RotationResult } from '../targets/rotate-credentials.js';
import type { KeysDeps } from './keys-deps.js';

/**
 * Master-key rotation for what the keys module seals (kept identities, signing keys), as
 * rotateCredentials does for target passwords: re-sealed with the current key at each start and
 * by `pnpm cli key rotate`, so the old key can go once neither reports a failure.
 */
export async function resealKeySecrets(deps: Pick<KeysDeps, 'repo' | 'masterKeys'>): Promise<RotationResult> {
  const result: RotationResult = { resealed: 0, alreadyCurrent: 0, failed: [] };
  const current = deps.masterKeys.current;
  if (!current) return result;
  for (const row of await deps.repo.sealedSecrets()) {
    if (sealedKeyId(row.sealed) === current.id) {
      result.alreadyCurrent += 1;
      continue;
    }
    try {
      const resealed = sealCredential(deps.masterKeys, row.id, openCredential(deps.masterKeys, row.id, row.sealed));
      if (await deps.repo.replaceSealed(row, resealed)) result.resealed += 1;
    } catch (error) {
      if (!isCodedError(error)) throw error;
      result.failed.push({ name: row.name, code: error.code });
    }
  }
  return result;
}
