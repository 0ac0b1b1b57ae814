import type { AuditEventRow } from '../../db/schema.js';
import { listAuditEvents } from '../../audit/audit-query.js';
import { builder } from '../builder.js';
import { requireAdmin } from '../context.js';
import { idOrNull, page } from '../pagination.js';
import { TargetLabelRef, targetLabel } from './target-label.js';

const AuditEventRef = builder.objectRef<AuditEventRow>('AuditEvent').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    at: t.expose('at', { type: 'DateTime' }),
    actor: t.exposeString('actor', { nullable: true }),
    action: t.exposeString('action'),
    outcome: t.exposeString('outcome'),
    address: t.exposeString('address', { nullable: true }),
    subjectId: t.exposeString('subjectId', { nullable: true }),
    details: t.string({ description: 'JSON', resolve: (event) => JSON.stringify(event.details) }),
    target: t.field({
      type: TargetLabelRef,
      nullable: true,
      description: 'The target it concerns, if any.',
      resolve: (event, _args, context) => targetLabel(context, event.targetId),
    }),
  }),
});

builder.queryFields((t) => ({
  auditEvents: t.field({
    type: [AuditEventRef],
    description: 'Newest first; the filters combine.',
    args: {
      limit: t.arg.int({ defaultValue: 50 }),
      offset: t.arg.int({ defaultValue: 0 }),
      action: t.arg.string({ required: false, description: 'Exactly this action, e.g. "backup.restore".' }),
      actionPrefix: t.arg.string({
        required: false,
        description: 'The start of the action or of one of its dot-separated parts: "backup", "restore", "job.c".',
      }),
      actor: t.arg.string({ required: false, description: 'Exactly this actor (an email).' }),
      actorContains: t.arg.string({ required: false, description: 'Part of the actor, any case.' }),
      since: t.arg({ type: 'DateTime', required: false, description: 'At or after this instant.' }),
      before: t.arg({ type: 'DateTime', required: false, description: 'Before this instant.' }),
      targetId: t.arg.id({ required: false, description: 'Only the entries about this target.' }),
    },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return listAuditEvents(context.app.db, {
        ...args,
        targetId: idOrNull(args.targetId),
        ...page(args),
      });
    },
  }),
}));
