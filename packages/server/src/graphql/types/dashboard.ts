import type { DashboardEntry } from '../../modules/dashboard/dashboard.js';
import { builder } from '../builder.js';
import { requireAdmin } from '../context.js';

const DashboardFailuresRef = builder.objectRef<DashboardEntry['failures']>('DashboardFailures').implement({
  description: 'Failed backup jobs since the last successful backup.',
  fields: (t) => ({
    count: t.exposeInt('count'),
    lastAt: t.expose('lastAt', { type: 'DateTime', nullable: true }),
    lastCode: t.exposeString('lastCode', { nullable: true, description: "The newest failure's error code." }),
  }),
});

const DashboardTargetRef = builder.objectRef<DashboardEntry>('DashboardTarget').implement({
  description: 'One target at a glance.',
  fields: (t) => ({
    targetId: t.id({ resolve: (entry) => entry.target.id }),
    name: t.string({ resolve: (entry) => entry.target.name }),
    kind: t.string({ resolve: (entry) => entry.target.kind }),
    parentId: t.id({ nullable: true, resolve: (entry) => entry.target.parentId }),
    enabled: t.boolean({ resolve: (entry) => entry.target.enabled }),
    managedBy: t.string({ nullable: true, resolve: (entry) => entry.target.managedBy }),
    lastSuccessAt: t.field({ type: 'DateTime', nullable: true, resolve: (entry) => entry.lastSuccess?.at ?? null }),
    lastSuccessSizeBytes: t.field({
      type: 'Bytes',
      nullable: true,
      resolve: (entry) => entry.lastSuccess?.sizeBytes ?? null,
    }),
    nextRunAt: t.expose('nextRunAt', {
      type: 'DateTime',
      nullable: true,
      description: "The next scheduled slot (its own schedule, else its server's); null: none or paused.",
    }),
    schedulePaused: t.exposeBoolean('schedulePaused'),
    failures: t.field({ type: DashboardFailuresRef, resolve: (entry) => entry.failures }),
    pruningPaused: t.boolean({
      description: 'The retention guard holds pruning back: the last scheduled runs all failed.',
      resolve: (entry) => entry.guard.blocked,
    }),
    failedRunsInARow: t.int({ resolve: (entry) => entry.guard.failedRuns }),
    failedRunsGuard: t.int({
      description: 'How many failed runs in a row pause pruning (0: off).',
      resolve: (entry) => entry.guard.threshold,
    }),
    sizeTrend: t.field({
      type: ['Bytes'],
      description: 'Sizes of the newest successful backups (up to 20), oldest first.',
      resolve: (entry) => entry.sizeTrend,
    }),
  }),
});

builder.queryFields((t) => ({
  dashboard: t.field({
    type: [DashboardTargetRef],
    description: 'Every live target with its last success, next run, failures and size trend, by name.',
    resolve: (_root, _args, context) => {
      requireAdmin(context);
      return context.app.dashboard();
    },
  }),
}));
