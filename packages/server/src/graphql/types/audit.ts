import { type SQL, and, desc, eq, gte, ilike, like, lt, or } from 'drizzle-orm';
import { type AuditEventRow, auditEvents } from '../../db/schema.js';
import { builder } from '../builder.js';
import { requireAdmin } from '../context.js';
import { page } from '../pagination.js';
import { likeLiteral } from '../../db/like.js';

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
    },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      const filters: (SQL | undefined)[] = [];
      if (args.action) filters.push(eq(auditEvents.action, args.action));
      const prefix = args.actionPrefix?.trim();
      if (prefix) {
        const start = likeLiteral(prefix);
        filters.push(or(like(auditEvents.action, `${start}%`), like(auditEvents.action, `%.${start}%`)));
      }
      if (args.actor) filters.push(eq(auditEvents.actor, args.actor));
      const actor = args.actorContains?.trim();
      if (actor) filters.push(ilike(auditEvents.actor, `%${likeLiteral(actor)}%`));
      if (args.since) filters.push(gte(auditEvents.at, args.since));
      if (args.before) filters.push(lt(auditEvents.at, args.before));
      return context.app.db
        .select()
        .from(auditEvents)
        .where(and(...filters))
        .orderBy(desc(auditEvents.at), desc(auditEvents.id))
        .limit(page(args).limit)
        .offset(page(args).offset);
    },
  }),
}));
