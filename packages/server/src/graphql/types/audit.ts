import { and, desc, eq, type SQL } from 'drizzle-orm';
import { type AuditEventRow, auditEvents } from '../../db/schema.js';
import { builder } from '../builder.js';
import { requireAdmin } from '../context.js';
import { page } from '../pagination.js';

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
    description: 'Newest first; filter by action (e.g. "backup.restore") and by actor (an email).',
    args: {
      limit: t.arg.int({ defaultValue: 50 }),
      offset: t.arg.int({ defaultValue: 0 }),
      action: t.arg.string({ required: false }),
      actor: t.arg.string({ required: false }),
    },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      const filters: SQL[] = [];
      if (args.action) filters.push(eq(auditEvents.action, args.action));
      if (args.actor) filters.push(eq(auditEvents.actor, args.actor));
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
