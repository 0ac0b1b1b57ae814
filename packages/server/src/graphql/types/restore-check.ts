import type { TargetRole, UnrestorableItem } from '@pgbs/engine';
import { builder } from '../builder.js';
import { requireAdmin } from '../context.js';
import { idOrNull } from '../pagination.js';

export const RestoreModeEnum = builder.enumType('RestoreMode', {
  description:
    'owner: the service connects as the database owner and restores as itself. superuser: each restore logs in as a short-lived member of the owner.',
  values: ['owner', 'superuser'] as const,
});

export const TargetRoleRef = builder.objectRef<TargetRole>('TargetRole').implement({
  description: 'The role the service connects to the target as, and the owner whose rights restored content gets.',
  fields: (t) => ({
    role: t.exposeString('role'),
    superuser: t.exposeBoolean('superuser'),
    owner: t.exposeString('owner'),
    ownerRisks: t.exposeStringList('ownerRisks', {
      description: 'What would let the owner reach outside its database (a restore is refused while there is any).',
    }),
  }),
});

const UnrestorableItemRef = builder.objectRef<UnrestorableItem>('UnrestorableItem').implement({
  fields: (t) => ({
    where: t.exposeString('where', { description: 'archive (cannot be created) or target (cannot be dropped)' }),
    kind: t.exposeString('kind'),
    name: t.exposeString('name'),
    reason: t.exposeString('reason'),
    skippable: t.exposeBoolean('skippable', { description: 'skipUnrestorable can leave it out (or in place).' }),
  }),
});

interface RestoreCheck {
  mode: 'owner' | 'superuser';
  role: TargetRole;
  sourceDatabase: string | null;
  targetId: string;
  targetName: string;
  targetDatabase: string;
  unrestorable: UnrestorableItem[];
}

const RestoreCheckRef = builder.objectRef<RestoreCheck>('RestoreCheck').implement({
  description: 'What a restore of a backup would do here, before anything runs.',
  fields: (t) => ({
    mode: t.field({ type: RestoreModeEnum, resolve: (check) => check.mode }),
    role: t.field({ type: TargetRoleRef, resolve: (check) => check.role }),
    sourceDatabase: t.exposeString('sourceDatabase', { nullable: true }),
    targetId: t.exposeID('targetId', { description: 'The target the restore would go to.' }),
    targetName: t.exposeString('targetName'),
    targetDatabase: t.exposeString('targetDatabase', {
      description: "The target's database: its name is what confirms the restore.",
    }),
    sourceMismatch: t.boolean({
      description: 'The backup is of another database: the restore needs acceptSourceMismatch.',
      resolve: (check) => check.sourceDatabase !== null && check.sourceDatabase !== check.targetDatabase,
    }),
    unrestorable: t.field({ type: [UnrestorableItemRef], resolve: (check) => check.unrestorable }),
  }),
});

builder.queryFields((t) => ({
  restoreCheck: t.field({
    type: RestoreCheckRef,
    description: 'The pre-flight of restoring a stored backup: source mismatch and what the owner cannot do.',
    args: {
      id: t.arg.id({ required: true }),
      noOwner: t.arg.boolean({ defaultValue: false }),
      targetId: t.arg.id({
        required: false,
        description: "The target to restore into; the backup's own when omitted.",
      }),
      identity: t.arg.string({
        required: false,
        description:
          'An encrypted backup (recipientFingerprints not empty): the text of the age identity file that opens it, unless the service keeps one. Used for this check only, never stored or returned; key/wrong-identity when it does not open the backup.',
      }),
    },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.backups.restoreCheck(
        String(args.id),
        { noOwner: args.noOwner ?? false },
        idOrNull(args.targetId),
        args.identity ?? undefined,
      );
    },
  }),
}));
