import type { RecipientView } from '../../modules/keys/recipient-view.js';
import { recoveryKit } from '../../modules/keys/recovery-kit.js';
import { builder } from '../builder.js';
import { type GraphQLContext, actorOf, requireAdmin } from '../context.js';
import { BackupRef } from './backups.js';

// Answers are built from RecipientView, which has no identity (only whether one is kept). The one
// answer with an identity is GeneratedKey, made once by generateKey.
const RecipientRef = builder.objectRef<RecipientView>('Recipient').implement({
  description: 'An age recipient (public key) backups can be encrypted to.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    recipient: t.exposeString('recipient', { description: 'age1… (public).' }),
    fingerprint: t.exposeString('fingerprint', {
      description: "sha256 of the recipient, 16 hex characters: what manifests and backups' recipient lists hold.",
    }),
    identityKept: t.exposeBoolean('identityKept', {
      description: 'The server keeps the identity (sealed), for automatic test-restores. Never returned.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    retiredAt: t.expose('retiredAt', { type: 'DateTime', nullable: true }),
    backupCount: t.exposeInt('backupCount', { description: 'Backups encrypted to it.' }),
    dependentBackupIds: t.idList({
      description:
        'Backups that no other unretired recipient opens: retiring this one must name exactly these (confirmBackupIds).',
      resolve: async (recipient, _args, context) =>
        (await context.app.keys.dependentBackups(recipient.id)).map((backup) => backup.id),
    }),
  }),
});

/** One read of the recipients per request, however many backups ask for theirs. */
const recipientsRead = new WeakMap<GraphQLContext, Promise<RecipientView[]>>();
function knownRecipients(context: GraphQLContext): Promise<RecipientView[]> {
  let read = recipientsRead.get(context);
  if (!read) {
    read = context.app.keys.list();
    recipientsRead.set(context, read);
  }
  return read;
}

builder.objectFields(BackupRef, (t) => ({
  recipientFingerprints: t.exposeStringList('recipientFingerprints', {
    description:
      'The fingerprints of the recipients it is encrypted to; empty for a backup in clear. An encrypted backup needs an identity to restore (restoreCheck and restoreBackup take it).',
  }),
  recipients: t.field({
    type: [RecipientRef],
    description:
      'The registered recipients it is encrypted to (a fingerprint from elsewhere, e.g. a rescan, has none).',
    resolve: async (backup, _args, context) => {
      if (backup.recipientFingerprints.length === 0) return [];
      const known = await knownRecipients(context);
      return known.filter((recipient) => backup.recipientFingerprints.includes(recipient.fingerprint));
    },
  }),
}));

const GeneratedKeyRef = builder
  .objectRef<{ recipient: RecipientView; identity: string; recoveryKit: string }>('GeneratedKey')
  .implement({
    description: 'A new key. Its identity is in this answer only: the API never returns it again.',
    fields: (t) => ({
      recipient: t.field({ type: RecipientRef, resolve: (key) => key.recipient }),
      identity: t.exposeString('identity', {
        description: 'AGE-SECRET-KEY-1…: save it now (age -d -i takes it as a file). Losing it loses the backups.',
      }),
      recoveryKit: t.exposeString('recoveryKit', { description: 'The steps to decrypt by hand, with the identity.' }),
    }),
  });

builder.queryFields((t) => ({
  recipients: t.field({
    type: [RecipientRef],
    description: 'Every recipient, retired ones too, oldest first.',
    resolve: (_root, _args, context) => {
      requireAdmin(context);
      return context.app.keys.list();
    },
  }),
  targetRecipients: t.field({
    type: [RecipientRef],
    description: "A target's recipients (empty: its backups follow ENCRYPT_TO, or are stored in clear).",
    errors: {},
    args: { target: t.arg.id({ required: true, description: 'An id or a name.' }) },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      return context.app.keys.targetRecipients((await context.app.targets.get(String(args.target))).id);
    },
  }),
  recoveryKit: t.field({
    type: 'String',
    description:
      "The steps to decrypt a recipient's backups by hand (without its identity, which the service does not have).",
    errors: {},
    args: { id: t.arg.id({ required: true, description: 'An id, name or fingerprint.' }) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.keys.recoveryKit(String(args.id));
    },
  }),
}));

builder.mutationFields((t) => ({
  generateKey: t.field({
    type: GeneratedKeyRef,
    description: 'Makes an age identity and registers its recipient; the answer holds the identity, once.',
    errors: {},
    args: {
      name: t.arg.string({ required: false }),
      keepOnServer: t.arg.boolean({
        required: false,
        description: 'Also keep the identity, sealed with the master key (automatic test-restores need it).',
      }),
    },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      const key = await context.app.keys.generate(
        { name: args.name ?? undefined, keepOnServer: args.keepOnServer ?? false },
        actorOf(context),
      );
      return { ...key, recoveryKit: recoveryKit(key.recipient, key.identity) };
    },
  }),
  addRecipient: t.field({
    type: RecipientRef,
    errors: {},
    args: {
      recipient: t.arg.string({ required: true, description: 'age1…' }),
      name: t.arg.string({ required: false }),
    },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.keys.addRecipient(
        { recipient: args.recipient, name: args.name ?? undefined },
        actorOf(context),
      );
    },
  }),
  retireRecipient: t.field({
    type: RecipientRef,
    description:
      'Stops encrypting new backups to it. Refused while a target uses it (key/in-use), and while it is the last recipient some backups can be opened with, unless confirmBackupIds names exactly those (key/last-recipient; see dependentBackupIds).',
    errors: {},
    args: { id: t.arg.id({ required: true }), confirmBackupIds: t.arg.idList({ required: false }) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.keys.retire(
        String(args.id),
        { confirmBackups: (args.confirmBackupIds ?? []).map(String) },
        actorOf(context),
      );
    },
  }),
  setTargetRecipients: t.field({
    type: [RecipientRef],
    description: "Replaces what a target's new backups are encrypted to; an empty list: none of its own.",
    errors: {},
    args: {
      target: t.arg.id({ required: true, description: 'An id or a name.' }),
      recipients: t.arg.stringList({
        required: true,
        description: 'Names, fingerprints or registered age1… recipients.',
      }),
    },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.keys.setTargetRecipients(String(args.target), args.recipients, actorOf(context));
    },
  }),
}));
