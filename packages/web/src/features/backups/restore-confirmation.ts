import { computed, h, ref } from 'vue';
import type { ConfirmToggle, useConfirm } from '@/composables/useConfirm';
import type { VariablesOf } from '@/graphql/graphql';
import type { RestoreBackupMutation } from '@/graphql/backups';
import RestoreIdentity from './RestoreIdentity.vue';
import RestorePreflight from './RestorePreflight.vue';
import RestoreTargetChoice from './RestoreTargetChoice.vue';

export type RestoreOptions = NonNullable<VariablesOf<typeof RestoreBackupMutation>['options']>;

/** A target a stored backup can be restored into: its database's name confirms the restore. */
export interface RestoreTarget {
  id: string;
  name: string;
  database: string;
}

/**
 * What the dialog answers: the options, an encrypted backup's identity when one was given, and
 * the target chosen when the dialog offered a choice.
 */
export type RestoreChoice = RestoreOptions & { identity?: string; target?: RestoreTarget };

/** An encrypted backup's recipients, as the Backup type lists them. */
export interface RestoreEncryption {
  recipientNames: string[];
  /** The server keeps an identity of one of them: giving one is optional. */
  identityKept: boolean;
}

/** What a retry after a refusal has already agreed to (uploads have no pre-flight to ask first). */
export type RestoreAgreements = Pick<RestoreOptions, 'acceptSourceMismatch' | 'skipUnrestorable'>;

/** Where a restore goes, as the dialog names it: "target shop (database “shop_db”)". */
export function restoreDestination(database: string, targetName?: string): string {
  return targetName ? `target ${targetName} (database “${database}”)` : `the database “${database}”`;
}

/**
 * The one restore question, for stored backups and uploaded files alike: a warning, a checkbox,
 * the database name typed, and the restore options. A stored backup (backupId) is checked by the
 * server first, and the dialog asks for what that check finds. null when the user backs out.
 */
export async function confirmRestore(
  confirm: ReturnType<typeof useConfirm>['confirm'],
  {
    source,
    targetDatabase,
    targetName,
    targetId,
    ownRemoved = false,
    backupId,
    encryption,
    targets,
    agreed = {},
  }: {
    source: string;
    targetDatabase: string;
    /** The target restored into, when the restore names one (a stored backup: its own). */
    targetName?: string;
    targetId?: string;
    /** The backup's own target was removed: it goes into one of `targets`, the first unless another is chosen. */
    ownRemoved?: boolean;
    backupId?: string;
    /** A stored backup that is encrypted: the dialog asks for its identity. */
    encryption?: RestoreEncryption;
    /**
     * A stored backup with a target of its own: the targets it may go to instead (its own among
     * them), read reactively (the list may still be loading when the dialog opens).
     */
    targets?: () => readonly RestoreTarget[];
    agreed?: RestoreAgreements;
  },
): Promise<RestoreChoice | null> {
  const safetySnapshot = ref(true);
  const noOwner = ref(false);
  const noPrivileges = ref(false);
  const terminateBlockers = ref(false);
  const acceptSourceMismatch = ref(agreed.acceptSourceMismatch ?? false);
  const skipUnrestorable = ref(agreed.skipUnrestorable ?? false);
  const blocked = ref<string | null>(null);
  // In this dialog's memory only, and emptied once read (below).
  const identity = ref('');
  // The backup's own target unless the user picks another; its database is the one replaced.
  const own = targetId && targetName ? { id: targetId, name: targetName, database: targetDatabase } : undefined;
  const others = computed(() => (own && targets ? targets().filter((target) => target.id !== own.id) : undefined));
  // Its own target first, unless it was removed: then only the others.
  const offered = computed(() => (ownRemoved || !own || !others.value ? others.value : [own, ...others.value]));
  const chosenId = ref(ownRemoved ? undefined : targetId);
  const into = computed(
    () => offered.value?.find((target) => target.id === chosenId.value) ?? (ownRemoved ? offered.value?.[0] : own),
  );
  const database = () => into.value?.database ?? targetDatabase;
  // A removed target's backup with no live target to go to (none, or the list still loading):
  // nothing is checked or sent, and the dialog says why.
  const nowhere = () => ownRemoved && !into.value;

  const toggles: ConfirmToggle[] = [
    {
      label: 'Take a safety snapshot first',
      hint: 'a backup of the current data, to undo this restore',
      model: safetySnapshot,
    },
    { label: 'Skip ownership (no-owner)', hint: 'when this server lacks the backup’s roles', model: noOwner },
    { label: 'Skip privileges (no-privileges)', hint: 'do not restore GRANT and REVOKE', model: noPrivileges },
    {
      label: 'Terminate sessions that block the restore',
      hint: 'their open transactions are rolled back and their connections closed',
      model: terminateBlockers,
    },
  ];
  // A retry keeps what the user agreed to after the refusal, visibly and still optional.
  if (agreed.acceptSourceMismatch) {
    toggles.push({ label: 'Restore although the file is of another database', model: acceptSourceMismatch });
  }
  if (agreed.skipUnrestorable) {
    toggles.push({ label: 'Leave out what the owner’s rights cannot restore', model: skipUnrestorable });
  }

  const confirmed = await confirm({
    title: 'Restore the database?',
    warning: () =>
      nowhere()
        ? `The target ${targetName} of this backup was removed: it can be restored into another target only.`
        : `All current data in ${restoreDestination(database(), into.value?.name ?? targetName)} will be replaced by the content of ${source}.`,
    message:
      'The restore runs as one transaction: if anything fails, the database stays exactly as it is now. Roles and database settings are not touched. Once the restore holds its locks, the application’s queries wait until it finishes.',
    details: backupId
      ? () => [
          own && offered.value && others.value?.length
            ? h(RestoreTargetChoice, {
                own,
                ownRemoved,
                targets: offered.value,
                modelValue: into.value?.id ?? own.id,
                'onUpdate:modelValue': (value: string) => {
                  chosenId.value = value;
                  // What was agreed to for one database does not hold for another.
                  acceptSourceMismatch.value = agreed.acceptSourceMismatch ?? false;
                  skipUnrestorable.value = agreed.skipUnrestorable ?? false;
                },
              })
            : null,
          encryption
            ? h(RestoreIdentity, {
                ...encryption,
                modelValue: identity.value,
                'onUpdate:modelValue': (value: string) => (identity.value = value),
              })
            : null,
          nowhere()
            ? null
            : h(RestorePreflight, {
                backupId,
                targetId: into.value?.id ?? targetId,
                identity: identity.value,
                needsIdentity: encryption !== undefined && !encryption.identityKept,
                noOwner: noOwner.value,
                acceptSourceMismatch: acceptSourceMismatch.value,
                'onUpdate:acceptSourceMismatch': (value: boolean) => (acceptSourceMismatch.value = value),
                skipUnrestorable: skipUnrestorable.value,
                'onUpdate:skipUnrestorable': (value: boolean) => (skipUnrestorable.value = value),
                onBlocked: (reason: string | null) => (blocked.value = reason),
              }),
        ]
      : undefined,
    blockedReason: () =>
      nowhere()
        ? 'No live target can take this backup: add one under Targets (or wait for the list to load).'
        : blocked.value,
    toggles,
    acknowledgement: 'I understand that the current data will be replaced.',
    typeToConfirm: database,
    confirmLabel: 'Replace the data',
    danger: true,
  });
  const given = identity.value;
  identity.value = '';
  if (!confirmed) return null;
  return {
    ...(given ? { identity: given } : {}),
    ...(offered.value && into.value ? { target: into.value } : {}),
    safetySnapshot: safetySnapshot.value,
    noOwner: noOwner.value,
    noPrivileges: noPrivileges.value,
    terminateBlockers: terminateBlockers.value,
    acceptSourceMismatch: acceptSourceMismatch.value,
    skipUnrestorable: skipUnrestorable.value,
  };
}
