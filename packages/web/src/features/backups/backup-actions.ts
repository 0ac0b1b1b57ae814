import { type CombinedError, useMutation } from '@urql/vue';
import { ref } from 'vue';
import { startDownload } from '@/api/navigation';
import { useConfirm } from '@/composables/useConfirm';
import { describeRefusal, describeRequestError } from '@/errors/messages';
import { formatBytes, formatDateTime } from '@/format/format';
import {
  type BackupsQuery,
  CreateDownloadUrlMutation,
  DeleteBackupMutation,
  RestoreBackupMutation,
  VerifyBackupMutation,
} from '@/graphql/backups';
import type { ResultOf } from '@/graphql/graphql';
import { confirmRestore } from './restore-confirmation';
import type { Job } from './useJobList';

export type BackupRow = ResultOf<typeof BackupsQuery>['backups']['items'][number];

export interface Notice {
  tone: 'success' | 'error';
  text: string;
}

/** A backup as people tell them apart: its date, size and description (the file name last). */
export function backupName(backup: Pick<BackupRow, 'createdAt' | 'sizeBytes' | 'description' | 'fileName'>): string {
  const described = backup.description ? `, “${backup.description}”` : '';
  return `the backup of ${formatDateTime(backup.createdAt)} (${formatBytes(backup.sizeBytes)}${described}; file ${backup.fileName})`;
}

/** A mutation's outcome: its data, or a message (typed CodedError, top-level error, network). */
type Outcome<T> = { ok: true; data: T } | { ok: false; message: string };

function outcomeOf<T>(
  result: { error?: CombinedError | undefined },
  field: { __typename: string; code?: string; message?: string; data?: T } | undefined,
): Outcome<T> {
  if (result.error) return { ok: false, message: describeRequestError(result.error) };
  if (!field || field.__typename === 'CodedError' || field.data === undefined) {
    return { ok: false, message: describeRefusal(field) };
  }
  return { ok: true, data: field.data };
}

/** Download, verify, restore and delete for one backup row; the confirmations ask first. */
export function useBackupActions(options: {
  targetDatabase: () => string | undefined;
  onJobStarted: (job: Job) => void;
  onChanged: () => void;
}) {
  const { confirm } = useConfirm();
  const notice = ref<Notice | null>(null);
  /** "<backup id>:<action>" while that request runs. */
  const busy = ref<string | null>(null);

  const downloadUrl = useMutation(CreateDownloadUrlMutation);
  const verify = useMutation(VerifyBackupMutation);
  const remove = useMutation(DeleteBackupMutation);
  const restore = useMutation(RestoreBackupMutation);

  async function run<T>(backup: BackupRow, action: string, work: () => Promise<Outcome<T>>): Promise<T | null> {
    busy.value = `${backup.id}:${action}`;
    notice.value = null;
    try {
      const outcome = await work();
      if (outcome.ok) return outcome.data;
      notice.value = { tone: 'error', text: outcome.message };
      return null;
    } finally {
      busy.value = null;
    }
  }

  return {
    notice,
    busy,
    async download(backup: BackupRow) {
      const link = await run(backup, 'download', async () => {
        const result = await downloadUrl.executeMutation({ id: backup.id });
        return outcomeOf(result, result.data?.createDownloadUrl);
      });
      if (link) startDownload(link.url);
    },
    async verify(backup: BackupRow) {
      const job = await run(backup, 'verify', async () => {
        const result = await verify.executeMutation({ id: backup.id });
        return outcomeOf(result, result.data?.verifyBackup);
      });
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
      const deleted = await run(backup, 'delete', async () => {
        const result = await remove.executeMutation({ id: backup.id, confirmation: backup.fileName });
        return outcomeOf(result, result.data?.deleteBackup);
      });
      if (deleted) {
        notice.value = { tone: 'success', text: `Deleted ${backup.fileName}.` };
        options.onChanged();
      }
    },
    async restore(backup: BackupRow) {
      // A backup goes back to its own target, whose database's name confirms it.
      const target = backup.target;
      if (target?.removed) {
        notice.value = {
          tone: 'error',
          text: `The target ${target.name} of this backup was removed: restore it into another target with the CLI (pnpm cli backup restore <id> --target <name>).`,
        };
        return;
      }
      const targetDatabase = target?.database ?? options.targetDatabase();
      if (!targetDatabase) return;
      const encrypted = backup.recipientFingerprints.length > 0;
      const choice = await confirmRestore(confirm, {
        source: backupName(backup),
        targetDatabase,
        targetName: target?.name,
        targetId: target?.id,
        backupId: backup.id,
        encryption: encrypted
          ? {
              recipientNames: backup.recipients.map((recipient) => recipient.name),
              identityKept: backup.recipients.some((recipient) => recipient.identityKept),
            }
          : undefined,
      });
      if (!choice) return;
      const { identity, ...restoreOptions } = choice;
      const job = await run(backup, 'restore', async () => {
        const result = await restore.executeMutation({
          id: backup.id,
          targetId: target?.id ?? null,
          confirmation: targetDatabase,
          options: restoreOptions,
          identity: identity ?? null,
        });
        return outcomeOf(result, result.data?.restoreBackup);
      });
      if (job) options.onJobStarted(job);
    },
  };
}
