import { ref } from 'vue';
import type { useConfirm } from '@/composables/useConfirm';
import type { VariablesOf } from '@/graphql/graphql';
import type { RestoreBackupMutation } from '@/graphql/backups';

export type RestoreOptions = NonNullable<VariablesOf<typeof RestoreBackupMutation>['options']>;

/**
 * The one restore question, for stored backups and uploaded files alike: a warning, a checkbox,
 * the database name typed, and the restore options. null when the user backs out.
 */
export async function confirmRestore(
  confirm: ReturnType<typeof useConfirm>['confirm'],
  { source, targetDatabase }: { source: string; targetDatabase: string },
): Promise<RestoreOptions | null> {
  const safetySnapshot = ref(true);
  const noOwner = ref(false);
  const noPrivileges = ref(false);
  const confirmed = await confirm({
    title: 'Restore the database?',
    warning: `All current data in the database “${targetDatabase}” will be replaced by the content of ${source}.`,
    message:
      'The restore runs as one transaction: if anything fails, the database stays exactly as it is now. Roles and database settings are not touched.',
    toggles: [
      {
        label: 'Take a safety snapshot first',
        hint: 'a backup of the current data, to undo this restore',
        model: safetySnapshot,
      },
      { label: 'Skip ownership (no-owner)', hint: 'when this server lacks the backup’s roles', model: noOwner },
      { label: 'Skip privileges (no-privileges)', hint: 'do not restore GRANT and REVOKE', model: noPrivileges },
    ],
    acknowledgement: 'I understand that the current data will be replaced.',
    typeToConfirm: targetDatabase,
    confirmLabel: 'Replace the data',
    danger: true,
  });
  if (!confirmed) return null;
  return { safetySnapshot: safetySnapshot.value, noOwner: noOwner.value, noPrivileges: noPrivileges.value };
}
