import type { ScheduleRunView } from '../../modules/schedules/list-schedules.js';
import type { ScheduleView } from '../../modules/schedules/schedule-view.js';
import { builder } from '../builder.js';
import { actorOf, requireAdmin } from '../context.js';

/** A count argument within 1 … max (default when not given). */
const bounded = (value: number | null | undefined, fallback: number, max: number) =>
  Math.min(Math.max(value ?? fallback, 1), max);

const ScheduleRunRef = builder.objectRef<ScheduleRunView>('ScheduleRun').implement({
  description: 'The one record of a due slot for one database target.',
  fields: (t) => ({
    id: t.exposeID('id'),
    targetId: t.exposeID('targetId', {
      description: "The database backed up (a server target's: one of its databases).",
    }),
    slotAt: t.expose('slotAt', { type: 'DateTime' }),
    outcome: t.exposeString('outcome', {
      description:
        'ran, skipped-overlap (the previous backup was still going), missed, failed (could not be queued), or pending (being queued); a retry replaces it with its own',
    }),
    jobId: t.exposeID('jobId', { nullable: true, description: "The current attempt's job." }),
    jobState: t.exposeString('jobState', { nullable: true, description: "The backup job's state, when it ran." }),
    attempt: t.exposeInt('attempt', { description: "The slot's current attempt: 1, then 2 for its first retry, ..." }),
    retryAt: t.expose('retryAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the next attempt is due (the last one failed and the schedule allows a retry).',
    }),
  }),
});

const ScheduleRef = builder.objectRef<ScheduleView>('Schedule').implement({
  fields: (t) => ({
    targetId: t.exposeID('targetId'),
    targetName: t.exposeString('targetName'),
    cron: t.exposeString('cron'),
    timeZone: t.exposeString('timeZone', { description: 'IANA zone the cron expression is read in.' }),
    missedPolicy: t.exposeString('missedPolicy', {
      description: 'run-once or skip: what happens to slots missed while every instance was down.',
    }),
    paused: t.exposeBoolean('paused'),
    retries: t.exposeInt('retryLimit', {
      description: 'How often a failed scheduled backup is tried again (after 1, 5, then 15 minutes); 0: never.',
    }),
    lastSlotAt: t.expose('lastSlotAt', { type: 'DateTime', nullable: true }),
    nextRuns: t.expose('nextRuns', { type: ['DateTime'], description: 'The next slots; empty while paused.' }),
    recentRuns: t.field({
      type: [ScheduleRunRef],
      description: 'The newest slot records, newest first.',
      args: { limit: t.arg.int({ defaultValue: 10 }) },
      resolve: (schedule, args, context) =>
        context.app.schedules.recentRuns(schedule.targetId, bounded(args.limit, 10, 100)),
    }),
  }),
});

const QueuedBackupRef = builder.objectRef<{ targetId: string; jobId: string }>('QueuedBackup').implement({
  fields: (t) => ({ targetId: t.exposeID('targetId'), jobId: t.exposeID('jobId') }),
});

const MissedPolicyEnum = builder.enumType('MissedPolicy', {
  values: { RUN_ONCE: { value: 'run-once' }, SKIP: { value: 'skip' } },
});

builder.queryFields((t) => ({
  schedules: t.field({
    type: [ScheduleRef],
    description: 'Every schedule, by target name.',
    args: { nextRuns: t.arg.int({ defaultValue: 5, description: 'How many next slots (1 to 50).' }) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.schedules.list(bounded(args.nextRuns, 5, 50));
    },
  }),
}));

const targetArg = (t: Parameters<Parameters<typeof builder.mutationFields>[0]>[0]) =>
  t.arg.string({ required: true, description: "The target's name." });

builder.mutationFields((t) => ({
  setSchedule: t.field({
    type: ScheduleRef,
    description: "Creates or replaces a target's schedule; slots count from now.",
    errors: {},
    args: {
      target: targetArg(t),
      cron: t.arg.string({
        required: true,
        description: 'Five fields, or @hourly, @daily, @weekly, @monthly, @yearly.',
      }),
      timeZone: t.arg.string({ required: false, description: 'IANA zone (default UTC).' }),
      missedPolicy: t.arg({ type: MissedPolicyEnum, required: false, description: 'Default run-once.' }),
      retries: t.arg.int({
        required: false,
        description: 'Retries of a failed scheduled backup, 0 to 10 (default: kept; 1 for a new schedule).',
      }),
    },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.schedules.set(
        {
          target: args.target,
          cron: args.cron,
          timeZone: args.timeZone,
          missedPolicy: args.missedPolicy,
          retries: args.retries,
        },
        actorOf(context),
      );
    },
  }),
  pauseSchedule: t.field({
    type: ScheduleRef,
    errors: {},
    args: { target: targetArg(t) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.schedules.pause(args.target, actorOf(context));
    },
  }),
  resumeSchedule: t.field({
    type: ScheduleRef,
    description: 'Slots passed while paused are neither run nor recorded.',
    errors: {},
    args: { target: targetArg(t) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.schedules.resume(args.target, actorOf(context));
    },
  }),
  runScheduleNow: t.field({
    type: [QueuedBackupRef],
    description:
      "Queues the schedule's backups now (manual backups: a person asked); one per database of a server target.",
    errors: {},
    args: { target: targetArg(t) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      context.app.rateLimiter.hit('backup', context.viewer!.userId);
      return context.app.schedules.runNow(args.target, actorOf(context));
    },
  }),
  deleteSchedule: t.field({
    type: 'ID',
    description: "Removes a target's schedule (its records stay); the target's id.",
    errors: {},
    args: { target: targetArg(t) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.schedules.remove(args.target, actorOf(context));
    },
  }),
}));
