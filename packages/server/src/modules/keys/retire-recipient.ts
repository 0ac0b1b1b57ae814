import { ServiceError } from '../../errors/service-error.js';
import type { RecipientRow } from '../../db/schema.js';
import { auditedKey } from './audit-key.js';
import type { Actor, KeysDeps } from './keys-deps.js';

export interface RetireInput {
  /**
   * The full ids of the backups that only this recipient opens, as the refusal listed them: the
   * confirmation must name exactly those (a backup made since then refuses again).
   */
  confirmBackups?: readonly string[];
}

const SHOWN = 10;

/**
 * Stops encrypting new backups to a recipient. Its row stays: manifests keep naming its
 * fingerprint, and its identity still opens the backups made before. Refused while a target (or
 * ENCRYPT_TO) encrypts to it, and, unless confirmed, while it is the last unretired recipient
 * some backups can be opened with.
 */
export function retireRecipient(
  deps: KeysDeps & { defaultRecipients: () => Promise<RecipientRow[]> },
  ref: string,
  input: RetireInput,
  actor: Actor,
): Promise<RecipientRow> {
  return auditedKey(
    deps,
    actor,
    'key.retire',
    { ref, confirmed: (input.confirmBackups ?? []).length },
    async () => {
      const row = await deps.repo.find(ref);
      if (row.retiredAt)
        throw new ServiceError('key/retired', `"${row.name}" is retired already. Nothing was changed.`);
      const users = await deps.repo.targetsUsing(row.id);
      if ((await deps.defaultRecipients()).some((r) => r.id === row.id)) users.push('ENCRYPT_TO (the default)');
      if (users.length > 0) {
        throw new ServiceError(
          'key/in-use',
          `New backups of ${users.join(', ')} are encrypted to "${row.name}": give them other recipients first (pnpm cli target set <target> --encrypt-to <key>). Nothing was changed.`,
          { targets: users },
        );
      }
      const dependents = await deps.repo.dependentBackups(row.fingerprint);
      const ids = dependents.map((backup) => backup.id);
      const confirmed = new Set(input.confirmBackups ?? []);
      if (ids.length > 0 && (confirmed.size !== ids.length || ids.some((id) => !confirmed.has(id)))) {
        const listed = dependents
          .slice(0, SHOWN)
          .map((backup) => `${backup.id} (${backup.fileName})`)
          .join(', ');
        const more = ids.length > SHOWN ? ` and ${ids.length - SHOWN} more` : '';
        throw new ServiceError(
          'key/last-recipient',
          `"${row.name}" is the last unretired recipient of ${ids.length} backup(s): ${listed}${more}. Once retired, only its identity opens them: keep it safe. To retire it anyway, name them all: --confirm ${ids.join(',')}. Nothing was changed.`,
          { backupIds: ids },
        );
      }
      return deps.repo.retire(row.id, new Date(deps.clock.now()));
    },
    (row) => ({ subjectId: row.id, details: { name: row.name, fingerprint: row.fingerprint } }),
  );
}
