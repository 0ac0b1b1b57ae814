import type { TableSize } from '@pgbs/engine';
import { ServiceError } from '../../errors/service-error.js';
import type { BackupRow } from '../../db/schema.js';
import type { ArchiveContents } from '../../modules/backups/index.js';
import type { BackupCopyView } from '../../modules/backups/copy-view.js';
import { builder } from '../builder.js';
import { actorOf, requireAdmin } from '../context.js';
import { idOrNull, page } from '../pagination.js';
import { JobRef } from './jobs.js';
import { TargetLabelRef, targetLabel } from './target-label.js';

const ArchiveContentsRef = builder.objectRef<ArchiveContents>('ArchiveContents').implement({
  description: 'What an archive holds, read from its table of contents (pg_restore --list).',
  fields: (t) => ({
    archiveVersion: t.exposeString('archiveVersion', { nullable: true }),
    sourceServerVersion: t.exposeString('sourceServerVersion', { nullable: true }),
    pgDumpVersion: t.exposeString('pgDumpVersion', { nullable: true }),
    databaseName: t.exposeString('databaseName', { nullable: true }),
    entryCount: t.exposeInt('entryCount'),
    schemas: t.exposeStringList('schemas'),
    tables: t.exposeStringList('tables'),
    largeObjects: t.exposeInt('largeObjects'),
  }),
});

const BackupTableRef = builder.objectRef<TableSize>('BackupTable').implement({
  description: 'A table as it was when the backup was made (read from the catalog before pg_dump ran).',
  fields: (t) => ({
    schema: t.exposeString('schema'),
    name: t.exposeString('name'),
    bytes: t.expose('bytes', { type: 'Bytes', description: 'pg_table_size, TOAST included.' }),
    rows: t.float({
      nullable: true,
      description: "The planner's estimate (pg_class.reltuples); null if the table was never analyzed.",
      resolve: (table) => (table.rows === undefined || table.rows === null || table.rows < 0 ? null : table.rows),
    }),
  }),
});

const BackupCopyRef = builder.objectRef<BackupCopyView>('BackupCopy').implement({
  description: 'A backup on one of its destinations.',
  fields: (t) => ({
    destination: t.field({
      type: builder.objectRef<BackupCopyView['destination']>('BackupCopyDestination').implement({
        fields: (d) => ({ id: d.exposeID('id'), name: d.exposeString('name'), kind: d.exposeString('kind') }),
      }),
      resolve: (copy) => copy.destination,
    }),
    state: t.exposeString('state', {
      description: 'pending, copying, complete or failed (a failed copy is retried a few times).',
    }),
    sizeBytes: t.expose('sizeBytes', { type: 'Bytes', nullable: true }),
    storedSha256: t.exposeString('storedSha256', { nullable: true }),
    attempts: t.exposeInt('attempts'),
    errorCode: t.exposeString('errorCode', { nullable: true }),
    errorMessage: t.exposeString('errorMessage', { nullable: true }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
  }),
});

/** One read per backup object and request (copies, copiesComplete and copiesTotal share it). */
const copiesRead = new WeakMap<BackupRow, Promise<BackupCopyView[]>>();
function copiesOf(backup: BackupRow, app: { backups: { copies(b: BackupRow): Promise<BackupCopyView[]> } }) {
  let read = copiesRead.get(backup);
  if (!read) {
    read = app.backups.copies(backup);
    copiesRead.set(backup, read);
  }
  return read;
}

export const BackupRef = builder.objectRef<BackupRow>('Backup').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    fileName: t.exposeString('fileName', { description: 'Also the name to type to confirm a delete.' }),
    description: t.exposeString('description'),
    format: t.exposeString('format', { description: 'custom, tar, plain or plain-gzip' }),
    sizeBytes: t.expose('sizeBytes', { type: 'Bytes' }),
    sha256: t.exposeString('sha256'),
    serverVersion: t.exposeString('serverVersion', { nullable: true }),
    clientVersion: t.exposeString('clientVersion', { nullable: true }),
    databaseName: t.exposeString('databaseName', { nullable: true }),
    durationMs: t.exposeInt('durationMs', { nullable: true }),
    tableCount: t.exposeInt('tableCount', { nullable: true }),
    origin: t.exposeString('origin', { description: 'manual, scheduled, upload or pre-restore-snapshot' }),
    createdBy: t.exposeString('createdBy', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    verifiedAt: t.expose('verifiedAt', { type: 'DateTime', nullable: true }),
    pinned: t.exposeBoolean('pinned', { description: 'Kept by retention forever (until unpinned).' }),
    verifyStatus: t.exposeString('verifyStatus', {
      nullable: true,
      description: 'ok, failed, or null if never verified',
    }),
    target: t.field({
      type: TargetLabelRef,
      nullable: true,
      description:
        'The target it was taken of (uploads: the one it was uploaded for); removed targets keep their name.',
      resolve: (backup, _args, context) => targetLabel(context, backup.targetId),
    }),
    globalsFileName: t.exposeString('globalsFileName', {
      nullable: true,
      description:
        "The server's roles and grants (pg_dumpall --globals-only) stored beside it when the target keeps them; never restored by the service.",
    }),
    tables: t.field({
      type: [BackupTableRef],
      description: 'Empty for uploads, whose source database was not read.',
      resolve: (backup) => backup.tableSizes,
    }),
    job: t.field({
      type: JobRef,
      nullable: true,
      description: 'The job that wrote it (for a safety snapshot, the restore); null for uploads.',
      resolve: (backup, _args, context) => context.app.backups.madeBy(backup),
    }),
    copies: t.field({
      type: [BackupCopyRef],
      description: "In its target's destination order; empty for a backup made before destinations (on local only).",
      resolve: (backup, _args, context) => copiesOf(backup, context.app),
    }),
    copiesComplete: t.int({
      description: 'Copies that can be read (a backup made before destinations: its one local copy).',
      resolve: async (backup, _args, context) => {
        const copies = await copiesOf(backup, context.app);
        return copies.length === 0 ? 1 : copies.filter((copy) => copy.state === 'complete').length;
      },
    }),
    copiesTotal: t.int({
      resolve: async (backup, _args, context) => Math.max(1, (await copiesOf(backup, context.app)).length),
    }),
    contents: t.field({
      type: ArchiveContentsRef,
      nullable: true,
      description: 'Null for plain SQL, which has no table of contents.',
      resolve: (backup, _args, context) => context.app.backups.contents(backup),
    }),
  }),
});

const BackupPage = builder.objectRef<{ items: BackupRow[]; total: number }>('BackupPage').implement({
  fields: (t) => ({
    items: t.field({ type: [BackupRef], resolve: (page) => page.items }),
    total: t.exposeInt('total'),
  }),
});

const FormatEnum = builder.enumType('BackupFormat', { values: ['custom', 'plain'] as const });

const RestoreOptionsInput = builder.inputType('RestoreOptions', {
  fields: (t) => ({
    noOwner: t.boolean({ defaultValue: false, description: 'Skip ownership: for targets lacking the roles.' }),
    noPrivileges: t.boolean({ defaultValue: false, description: 'Skip GRANT/REVOKE.' }),
    safetySnapshot: t.boolean({ defaultValue: true, description: 'Back up the current state first.' }),
    skipUnrestorable: t.boolean({
      defaultValue: false,
      description:
        "Leave out what the owner's rights cannot create (event triggers, untrusted extensions...) and leave in place what they cannot drop; see restoreCheck.",
    }),
    acceptSourceMismatch: t.boolean({
      defaultValue: false,
      description: 'The backup is of another database: restore it into this one all the same.',
    }),
    terminateBlockers: t.boolean({
      defaultValue: false,
      description:
        'Terminate the sessions that hold locks the restore needs instead of failing with restore/target-busy (needs pg_signal_backend; audited).',
    }),
  }),
});

type Flag = boolean | null | undefined;

export function restoreOptions(
  input:
    | {
        noOwner?: Flag;
        noPrivileges?: Flag;
        safetySnapshot?: Flag;
        skipUnrestorable?: Flag;
        acceptSourceMismatch?: Flag;
        terminateBlockers?: Flag;
      }
    | null
    | undefined,
) {
  return {
    noOwner: input?.noOwner ?? false,
    noPrivileges: input?.noPrivileges ?? false,
    safetySnapshot: input?.safetySnapshot ?? true,
    skipUnrestorable: input?.skipUnrestorable ?? false,
    acceptSourceMismatch: input?.acceptSourceMismatch ?? false,
    terminateBlockers: input?.terminateBlockers ?? false,
  };
}
export { RestoreOptionsInput };

builder.queryFields((t) => ({
  backups: t.field({
    type: BackupPage,
    description: 'Newest first; total counts the backups that match the filters.',
    args: {
      limit: t.arg.int({ defaultValue: 50 }),
      offset: t.arg.int({ defaultValue: 0 }),
      search: t.arg.string({ required: false, description: 'Part of the file name or description, any case.' }),
      origin: t.arg.string({ required: false, description: 'manual, upload or pre-restore-snapshot' }),
      createdAfter: t.arg({ type: 'DateTime', required: false, description: 'Made at or after this instant.' }),
      createdBefore: t.arg({ type: 'DateTime', required: false, description: 'Made before this instant.' }),
      targetId: t.arg.id({ required: false, description: 'Only the backups of this target.' }),
    },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      const filter = {
        search: args.search,
        origin: args.origin,
        createdAfter: args.createdAfter,
        createdBefore: args.createdBefore,
        targetId: idOrNull(args.targetId),
      };
      const [items, total] = await Promise.all([
        context.app.backups.list({ ...page(args), ...filter }),
        context.app.backups.count(filter),
      ]);
      return { items, total };
    },
  }),
  backup: t.field({
    type: BackupRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.backups.get(String(args.id));
    },
  }),
}));

builder.mutationFields((t) => ({
  createBackup: t.field({
    type: JobRef,
    description: 'Starts a backup job; follow it with the jobProgress subscription.',
    errors: {},
    args: {
      description: t.arg.string({ required: false }),
      format: t.arg({ type: FormatEnum, required: false }),
      targetId: t.arg.id({ required: false, description: 'The target to back up; the default target when omitted.' }),
    },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      context.app.rateLimiter.hit('backup', context.viewer!.userId);
      const started = await context.app.backups.createBackup(
        {
          description: args.description ?? undefined,
          format: args.format ?? undefined,
          targetId: idOrNull(args.targetId),
        },
        actorOf(context),
      );
      return started.job;
    },
  }),
  restoreBackup: t.field({
    type: JobRef,
    description:
      "Replaces a target database's whole content with the backup, atomically. Confirm with the name of that target's database.",
    errors: {},
    args: {
      id: t.arg.id({ required: true }),
      targetId: t.arg.id({
        required: false,
        description: "The target to restore into; the backup's own target when omitted.",
      }),
      confirmation: t.arg.string({ required: true }),
      options: t.arg({ type: RestoreOptionsInput, required: false }),
      identity: t.arg.string({
        required: false,
        description:
          'An encrypted backup: the text of the age identity file that opens it. Held in memory for this job only, never stored.',
      }),
    },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      context.app.rateLimiter.hit('restore', context.viewer!.userId);
      const started = await context.app.backups.restore(
        {
          source: { backupId: String(args.id) },
          confirmation: args.confirmation,
          options: restoreOptions(args.options),
          targetId: idOrNull(args.targetId),
          ...(args.identity ? { identity: args.identity } : {}),
        },
        actorOf(context),
      );
      return started.job;
    },
  }),
  verifyBackup: t.field({
    type: JobRef,
    errors: {},
    args: {
      id: t.arg.id({ required: true }),
      deep: t.arg.boolean({
        required: false,
        description: 'An encrypted backup: decrypt it and check its content and archive, not only its stored digest.',
      }),
      identity: t.arg.string({
        required: false,
        description: 'With deep: the text of the age identity file. Held in memory for this job only, never stored.',
      }),
    },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      const options = { deep: args.deep ?? false, ...(args.identity ? { identity: args.identity } : {}) };
      return (await context.app.backups.verify(String(args.id), actorOf(context), options)).job;
    },
  }),
  reencryptBackup: t.field({
    type: JobRef,
    description:
      "Re-encrypts a backup to its target's current recipients: new objects are written and verified on every destination holding a complete copy, then the catalog switches to them and the old objects are removed.",
    errors: {},
    args: {
      id: t.arg.id({ required: true }),
      identity: t.arg.string({
        required: false,
        description:
          'An encrypted backup: the text of the age identity file that opens it (not needed when the service keeps one). Held in memory for this job only, never stored.',
      }),
    },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      const options = args.identity ? { identity: args.identity } : {};
      return (await context.app.backups.reencrypt(String(args.id), actorOf(context), options)).job;
    },
  }),
  pinBackup: t.field({
    type: BackupRef,
    description: 'Pins (retention keeps it forever) or unpins a backup.',
    errors: {},
    args: { id: t.arg.id({ required: true }), pinned: t.arg.boolean({ required: true }) },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      return context.app.backups.pin(String(args.id), args.pinned, actorOf(context));
    },
  }),
  deleteBackup: t.field({
    type: BackupRef,
    description: "Deletes the file and its catalog entry. Confirm with the backup's file name.",
    errors: {},
    args: { id: t.arg.id({ required: true }), confirmation: t.arg.string({ required: true }) },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      const backup = await context.app.backups.get(String(args.id));
      if (args.confirmation !== backup.fileName) {
        throw new ServiceError(
          'backup/confirmation-mismatch',
          `Type the backup's file name ("${backup.fileName}") to confirm the delete. Nothing was deleted.`,
        );
      }
      return context.app.backups.delete(backup.id, actorOf(context));
    },
  }),
}));
