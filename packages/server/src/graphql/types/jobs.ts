import type { JobRow } from '../../db/schema.js';
import type { JobAttempts } from '../../modules/schedules/job-attempts.js';
import type { JobKind, JobProgress, JobState } from '../../jobs/job-types.js';
import { builder } from '../builder.js';
import { requireAdmin } from '../context.js';
import { followJob, jobStateChanges } from '../job-streams.js';
import { idOrNull, page } from '../pagination.js';
import { TargetLabelRef, targetLabel } from './target-label.js';

export const JobProgressRef = builder.objectRef<JobProgress>('JobProgress').implement({
  description: 'The latest progress snapshot of a job.',
  fields: (t) => ({
    phase: t.exposeString('phase', { description: 'starting, snapshot, schema, data, post-data, finishing or done' }),
    percent: t.exposeFloat('percent', { description: '0 to 100; 100 only when the job succeeded.' }),
    currentTable: t.exposeString('currentTable', { nullable: true }),
    tablesDone: t.exposeInt('tablesDone'),
    tablesTotal: t.exposeInt('tablesTotal'),
    bytes: t.expose('bytes', { type: 'Bytes' }),
    etaSeconds: t.exposeFloat('etaSeconds', { nullable: true }),
    updatedAt: t.exposeString('updatedAt'),
  }),
});

const JobStateEnum = builder.enumType('JobState', {
  values: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const,
});

const JOB_KINDS = ['backup', 'restore', 'verify', 'prune', 'copy', 'reencrypt'] as const satisfies readonly JobKind[];
const JobKindEnum = builder.enumType('JobKind', { values: JOB_KINDS });

const JobAttemptsRef = builder.objectRef<JobAttempts>('JobAttempts').implement({
  description: "A scheduled backup's place among its slot's attempts.",
  fields: (t) => ({
    attempt: t.exposeInt('attempt'),
    maxAttempts: t.exposeInt('maxAttempts', {
      nullable: true,
      description: "1 + its schedule's retries (at least the attempts made); null: the schedule was removed.",
    }),
    nextRetryAt: t.expose('nextRetryAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the next attempt is due: this one failed and retries are left.',
    }),
    retryOf: t.exposeID('retryOf', { nullable: true, description: 'The failed attempt this one retries.' }),
  }),
});

export const JobRef = builder.objectRef<JobRow>('Job').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.field({ type: JobKindEnum, resolve: (job) => job.kind as (typeof JOB_KINDS)[number] }),
    state: t.field({ type: JobStateEnum, resolve: (job) => job.state as JobState }),
    backupId: t.exposeID('backupId', { nullable: true }),
    attempt: t.exposeInt('attempt', { description: 'Its attempt at its schedule slot (1 for any other job).' }),
    attempts: t.field({
      type: JobAttemptsRef,
      nullable: true,
      description: 'For a scheduled backup: its attempt of how many, and the retry it retries or is followed by.',
      resolve: (job, _args, context) => context.app.schedules.attemptsOf(job),
    }),
    target: t.field({
      type: TargetLabelRef,
      nullable: true,
      description: "The target it runs on (verify: the backup's).",
      resolve: (job, _args, context) => targetLabel(context, job.targetId),
    }),
    warnings: t.stringList({
      description: 'What went wrong without failing the job, e.g. the roles (globals) that could not be kept.',
      resolve: (job) => {
        const warnings = (job.params as { warnings?: unknown }).warnings;
        return Array.isArray(warnings) ? warnings.filter((w): w is string => typeof w === 'string') : [];
      },
    }),
    progress: t.field({
      type: JobProgressRef,
      nullable: true,
      resolve: (job) => job.progress ?? null,
    }),
    errorCode: t.exposeString('errorCode', { nullable: true }),
    errorMessage: t.exposeString('errorMessage', { nullable: true }),
    errorEntry: t.exposeString('errorEntry', {
      nullable: true,
      description:
        'The archive entry a failed restore was running, e.g. "Name: people; Type: TABLE DATA; Schema: public".',
    }),
    requestedBy: t.exposeString('requestedBy', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.queryFields((t) => ({
  jobs: t.field({
    type: [JobRef],
    description: 'Newest first.',
    args: {
      limit: t.arg.int({ defaultValue: 50 }),
      offset: t.arg.int({ defaultValue: 0 }),
      targetId: t.arg.id({ required: false, description: "Only this target's jobs." }),
    },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.jobs.list({ ...page(args), targetId: idOrNull(args.targetId) });
    },
  }),
  job: t.field({
    type: JobRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.jobs.get(String(args.id));
    },
  }),
}));

builder.mutationFields((t) => ({
  cancelJob: t.field({
    type: JobRef,
    description: 'Stops a running job; a restore rolls back. Returns the job (its state changes when it has stopped).',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const viewer = requireAdmin(context);
      const job = await context.app.jobs.cancel(String(args.id));
      await context.app.audit.record({
        actor: viewer.email,
        address: context.address,
        action: 'job.cancel',
        outcome: 'succeeded',
        subjectId: job.id,
        details: { jobId: job.id, kind: job.kind, backupId: job.backupId, state: job.state },
      });
      return job;
    },
  }),
}));

builder.subscriptionFields((t) => ({
  jobProgress: t.field({
    type: JobRef,
    description: 'The job now, then on every progress update and state change until it ends.',
    args: { jobId: t.arg.id({ required: true }) },
    subscribe: (_root, args, context) => {
      requireAdmin(context);
      return followJob(context.app, String(args.jobId));
    },
    resolve: (job) => job,
  }),
  jobEvents: t.field({
    type: JobRef,
    description: 'Every job state change (created, finished), for list views.',
    subscribe: (_root, _args, context) => {
      requireAdmin(context);
      return jobStateChanges(context.app);
    },
    resolve: (job) => job,
  }),
}));
