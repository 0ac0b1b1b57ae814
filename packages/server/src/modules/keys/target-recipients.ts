import { ServiceError } from '../../errors/service-error.js';
import type { RecipientRow } from '../../db/schema.js';
import { auditedKey } from './audit-key.js';
import type { Actor, KeysDeps } from './keys-deps.js';

/** The value of --encrypt-to that turns a target's encryption off. */
export const NO_ENCRYPTION = 'none';

/**
 * Recipients by reference (name, fingerprint or age1… of a registered recipient), unretired,
 * without duplicates. An unknown age1… is refused, not registered on the fly: registering is its
 * own audited step (key add-recipient).
 */
export async function resolveRecipients(
  deps: Pick<KeysDeps, 'repo'>,
  refs: readonly string[],
): Promise<RecipientRow[]> {
  const rows = new Map<string, RecipientRow>();
  for (const ref of refs.map((r) => r.trim()).filter(Boolean)) {
    const row = await deps.repo.find(ref);
    if (row.retiredAt) {
      throw new ServiceError(
        'key/retired',
        `"${row.name}" is retired: new backups cannot be encrypted to it. Nothing was changed.`,
      );
    }
    rows.set(row.id, row);
  }
  return [...rows.values()];
}

/**
 * What a target's new backups are encrypted to (`target set <t> --encrypt-to a,b`); none or
 * ["none"]: stored in clear (or to ENCRYPT_TO, the default, when that is set). A whole server's
 * databases follow the server target.
 */
export async function setTargetRecipients(
  deps: KeysDeps,
  targetRef: string,
  refs: readonly string[],
  actor: Actor,
): Promise<RecipientRow[]> {
  const target = await deps.targets.find(targetRef);
  return auditedKey(
    deps,
    actor,
    'target.set-recipients',
    { name: target.name },
    async () => {
      if (target.parentId) {
        throw new ServiceError(
          'target/child-of-server',
          `"${target.name}" belongs to a whole-server target: set the server target's recipients. Nothing was changed.`,
        );
      }
      const off = refs.length === 1 && refs[0]!.trim() === NO_ENCRYPTION;
      const rows = off ? [] : await resolveRecipients(deps, refs);
      await deps.repo.setTargetRecipients(
        target.id,
        rows.map((row) => row.id),
      );
      return rows;
    },
    (rows) => ({
      subjectId: target.id,
      targetId: target.id,
      details: { recipients: rows.map((row) => row.fingerprint) },
    }),
  );
}
