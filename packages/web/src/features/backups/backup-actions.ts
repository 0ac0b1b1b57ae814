import { useClientHandle, useMutation } from '@urql/vue';
import { ref } from 'vue';
import { startDownload } from '@/api/navigation';
import { mutateKeepingNothing } from '@/api/secret-cache';
import { useConfirm } from '@/composables/useConfirm';
import { useMutationNotice } from '@/composables/useMutationNotice';
import { formatBytes, formatDateTime } from '@/format/format';
import {
  type BackupsQuery,
  CreateDownloadUrlMutation,
  DeleteBackupMutation,
  RestoreBackupMutation,
  VerifyBackupMutation,
} from '@/graphql/backups';
import type { ResultOf } from '@/graphql/graphql';
import type { TargetsQuery } from '@/graphql/targets';
import { type RestoreTarget, confirmRestore } from './restore-confirmation';
import type { Job } from './useJobList';

export type BackupRow = ResultOf<typeof BackupsQuery>['backups']['items'][number];
type TargetRow = ResultOf<typeof TargetsQuery>['targets'][number];

/** The targets a restore can go to, as the server resolves them: databases, enabled, under an enabled server. */
export function restorableTargets(targets: readonly TargetRow[]): RestoreTarget[] {
  const enabled = new Map(targets.map((target) => [target.id, target.enabled]));
  return targets
    .filter((target) => target.kind === 'database' && target.enabled)
    .filter((target) => !target.parentId || enabled.get(target.parentId) !== false)
    .map(({ id, name, database }) => ({ id, name, database }));
}

/** A backup as people tell them apart: its date, size and description (the file name last). */
export function backupName(backup: Pick<BackupRow, 'createdAt' | 'sizeBytes' | 'description' | 'fileName'>): string {
  const described = backup.description ? `, “${backup.description}”` : '';
  return `the backup of ${formatDateTime(backup.createdAt)} (${formatBytes(backup.sizeBytes)}${described}; file ${backup.fileName})`;
}

/** Download, verify, restore and delete for one backup row; the confirmations ask first. */
export function useBackupActions(options: {
  targetDatabase: () => string | undefined;
  /** The live targets (the Targets query's), offered as other places to restore into. */
  targets: () => readonly TargetRow[];
  onJobStarted: (job: Job) => void;
  onChanged: () => void;
}) {
  const { confirm } = useConfirm();
  const { notice, settle, succeed } = useMutationNotice();
  /** "<backup id>:<action>" while that request runs. */
  const busy = ref<string | null>(null);

  const downloadUrl = useMutation(CreateDownloadUrlMutation);
  const verify = useMutation(VerifyBackupMutation);
  const remove = useMutation(DeleteBackupMutation);
  // The restore may send an identity: not through useMutation, which would keep it.
  const { client } = useClientHandle();

  async function run<T>(backup: BackupRow, action: string, work: () => Promise<T | null>): Promise<T | null> {
    busy.value = `${backup.id}:${action}`;
    try {
      return await work();
    } finally {
      busy.value = null;
    }
  }

  return {
    notice,
    busy,
    async download(backup: BackupRow) {
      const link = await run(backup, 'download', () =>
        settle(downloadUrl.executeMutation({ id: backup.id }), (data) => data.createDownloadUrl),
      );
      if (link) startDownload(link.url);
    },
    async verify(backup: BackupRow) {
      const job = await run(backup, 'verify', () =>
        settle(verify.executeMutation({ id: backup.id }), (data) => data.verifyBackup),
      );
      if (job) options.onJobStarted(job);
    },
    async remove(backup: BackupRow) {
      const confirmed = await confirm({
        title: 'Delete this backup?',
        message: `The file ${backup.fileName} and its catalog entry will be deleted. This cannot be undone.`,
        typeToConfirm: backup.fileName,
        confirmLabel: 'Delete',
        danger: true,
      });
      if (!confirmed) return;
      const deleted = await run(backup, 'delete', () =>
        settle(remove.executeMutation({ id: backup.id, confirmation: backup.fileName }), (data) => data.deleteBackup),
      );
      if (deleted) {
        succeed(`Deleted ${backup.fileName}.`);
        options.onChanged();
      }
    },
    async restore(backup: BackupRow) {
      // A backup goes back to its own target unless another is chosen (always, once its own was
      // removed); the chosen target's database's name confirms it.
      const target = backup.target;
      const targetDatabase = target?.database ?? options.targetDatabase();
      if (!targetDatabase) return;
      const encrypted = backup.recipientFingerprints.length > 0;
      const choice = await confirmRestore(confirm, {
        source: backupName(backup),
        targetDatabase,
        targetName: target?.name,
        targetId: target?.id,
        ownRemoved: target?.removed,
        backupId: backup.id,
        targets: () => restorableTargets(options.targets()),
        encryption: encrypted
          ? {
              recipientNames: backup.recipients.map((recipient) => recipient.name),
              identityKept: backup.recipients.some((recipient) => recipient.identityKept),
            }
          : undefined,
      });
      if (!choice) return;
      const { identity, target: into, ...restoreOptions } = choice;
      const job = await run(backup, 'restore', () =>
        settle(
          mutateKeepingNothing(client, RestoreBackupMutation, {
            id: backup.id,
            targetId: into?.id ?? target?.id ?? null,
            confirmation: into?.database ?? targetDatabase,
            options: restoreOptions,
            identity: identity ?? null,
          }),
          (data) => data.restoreBackup,
        ),
      );
      if (job) options.onJobStarted(job);
    },
  };
}
