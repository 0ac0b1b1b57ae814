import type { DestinationPlan, RetentionPlan } from '../../modules/retention/plan-for-target.js';
import type { CountRules } from '../../modules/retention/plan-retention.js';
import type { PolicyInput } from '../../modules/retention/policy-input.js';
import type { RetentionGuard } from '../../modules/retention/retention-guard.js';
import type { PolicyValues } from '../../modules/retention/retention-repository.js';
import { builder } from '../builder.js';
import { actorOf, requireAdmin } from '../context.js';
import { BackupRef } from './backups.js';

type SchemaTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
type InputFields = PothosSchemaTypes.InputFieldBuilder<SchemaTypes, 'InputObject'>;
type ObjectFields<Parent> = PothosSchemaTypes.ObjectFieldBuilder<SchemaTypes, Parent>;

/**
 * The count rules as a target's policy and a destination's own show them, read from `rulesOf`;
 * only the policy's keepWithinDays is described in the schema.
 */
function countRuleOutputs<Parent>(
  t: ObjectFields<Parent>,
  rulesOf: (parent: Parent) => CountRules,
  withinDaysDescription?: string,
) {
  const rule = (key: keyof CountRules, description?: string) =>
    t.int({ nullable: true, description, resolve: (parent) => rulesOf(parent)[key] });
  return {
    keepLast: rule('keepLast'),
    keepHourly: rule('keepHourly'),
    keepDaily: rule('keepDaily'),
    keepWeekly: rule('keepWeekly'),
    keepMonthly: rule('keepMonthly'),
    keepYearly: rule('keepYearly'),
    keepWithinDays: rule('keepWithinDays', withinDaysDescription),
  };
}

const RetentionPolicyRef = builder.objectRef<PolicyValues>('RetentionPolicy').implement({
  description: 'Null counts: that rule keeps nothing. With no count rule every manual and scheduled backup is kept.',
  fields: (t) => ({
    ...countRuleOutputs(t, (policy) => policy, 'Every successful backup younger than this many days.'),
    snapshotKeepDays: t.exposeInt('snapshotKeepDays', { nullable: true, description: 'Safety snapshots; null: kept.' }),
    uploadKeepDays: t.exposeInt('uploadKeepDays', { nullable: true, description: 'Uploads; null: kept.' }),
    failedRunsGuard: t.exposeInt('failedRunsGuard', {
      description: 'No pruning while this many last scheduled runs all failed (0: off).',
    }),
  }),
});

const RetentionGuardRef = builder.objectRef<RetentionGuard>('RetentionGuard').implement({
  fields: (t) => ({
    blocked: t.exposeBoolean('blocked', { description: 'Pruning is held back: the last scheduled runs all failed.' }),
    failedRuns: t.exposeInt('failedRuns', { description: 'Failed scheduled runs in a row, newest first.' }),
    threshold: t.exposeInt('threshold'),
  }),
});

type Decision = RetentionPlan['decisions'][number];

const RetentionDecisionRef = builder.objectRef<Decision>('RetentionDecision').implement({
  fields: (t) => ({
    backupId: t.id({ resolve: (decision) => decision.backup.id }),
    backup: t.field({
      type: BackupRef,
      resolve: (decision, _args, context) => context.app.backups.get(decision.backup.id),
    }),
    action: t.string({ description: 'keep or delete', resolve: (decision) => decision.action }),
    reasons: t.stringList({
      description: 'What keeps it ("last", "daily 2026-03-29", "pinned", "newest successful", …).',
      resolve: (decision) => (decision.action === 'keep' ? decision.reasons : []),
    }),
    rule: t.string({
      nullable: true,
      description: 'The rule that deletes it ("keep-last 3, keep-daily 7", "snapshot-keep-days 7").',
      resolve: (decision) => (decision.action === 'delete' ? decision.rule : null),
    }),
  }),
});

const DestinationRetentionPolicyRef = builder
  .objectRef<{ destination: string; rules: CountRules }>('DestinationRetentionPolicy')
  .implement({
    description:
      "A destination's own count rules for a target's copies there; they replace the target's count rules (all null: every copy kept there).",
    fields: (t) => ({
      destination: t.exposeString('destination', { description: "The destination's name." }),
      ...countRuleOutputs(t, (p) => p.rules),
    }),
  });

const DestinationRetentionPlanRef = builder.objectRef<DestinationPlan>('DestinationRetentionPlan').implement({
  description: "One destination's part of a preview: what happens to the complete copies it holds.",
  fields: (t) => ({
    destinationId: t.id({ resolve: (plan) => plan.destination.id }),
    destinationName: t.string({ resolve: (plan) => plan.destination.name }),
    source: t.string({
      description: "Whose rules apply: destination (its own), target (the target's or its server's), none (all kept).",
      resolve: (plan) => plan.source,
    }),
    rules: t.exposeString('rules', { description: 'The count rules as the CLI spells them; empty: none.' }),
    freedBytes: t.expose('freedBytes', { type: 'Bytes' }),
    decisions: t.field({
      type: [RetentionDecisionRef],
      description: 'Newest first, for the backups with a complete copy there.',
      resolve: (plan) => plan.decisions,
    }),
  }),
});

const RetentionPreviewRef = builder
  .objectRef<RetentionPlan & { guard: RetentionGuard; hasPolicy: boolean }>('RetentionPreview')
  .implement({
    fields: (t) => ({
      timeZone: t.exposeString('timeZone', { description: 'Periods are calendar periods in this zone.' }),
      hasPolicy: t.exposeBoolean('hasPolicy'),
      guard: t.field({ type: RetentionGuardRef, resolve: (preview) => preview.guard }),
      freedBytes: t.expose('freedBytes', { type: 'Bytes' }),
      decisions: t.field({
        type: [RetentionDecisionRef],
        description: 'Newest first; a backup is deleted when every destination holding it deletes its copy.',
        resolve: (p) => p.decisions,
      }),
      destinations: t.field({ type: [DestinationRetentionPlanRef], resolve: (p) => p.destinations }),
    }),
  });

/** The count rules, the same in a target's policy and a destination's own. */
const countRuleFields = (t: InputFields) => ({
  keepLast: t.int({ required: false }),
  keepHourly: t.int({ required: false }),
  keepDaily: t.int({ required: false }),
  keepWeekly: t.int({ required: false }),
  keepMonthly: t.int({ required: false }),
  keepYearly: t.int({ required: false }),
  keepWithinDays: t.int({ required: false }),
});

const RetentionPolicyInput = builder.inputType('RetentionPolicyInput', {
  description: 'Count rules left out are unset; the day counts and the guard keep their value when left out.',
  fields: (t) => ({
    ...countRuleFields(t),
    snapshotKeepDays: t.int({ required: false }),
    uploadKeepDays: t.int({ required: false }),
    failedRunsGuard: t.int({ required: false }),
  }),
});

const DestinationRetentionPolicyInput = builder.inputType('DestinationRetentionPolicyInput', {
  description: 'Count rules left out are unset.',
  fields: countRuleFields,
});

builder.queryFields((t) => ({
  destinationRetentionPolicies: t.field({
    type: [DestinationRetentionPolicyRef],
    description: "A target's own per-destination rules; a destination not listed follows the target's policy.",
    errors: {},
    args: { target: t.arg.string({ required: true }) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.retention.destinationPolicies(args.target);
    },
  }),
  retentionPolicy: t.field({
    type: RetentionPolicyRef,
    nullable: true,
    description: "The policy that applies to a target (its own, else its server's); null: nothing is pruned.",
    errors: {},
    args: { target: t.arg.string({ required: true }) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.retention.policy(args.target);
    },
  }),
  retentionGuard: t.field({
    type: RetentionGuardRef,
    description: 'Whether pruning of a target is held back by failed scheduled runs (for the dashboard).',
    args: { targetId: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.retention.guard(String(args.targetId));
    },
  }),
  previewRetention: t.field({
    type: RetentionPreviewRef,
    description: 'Exactly what a prune would delete now: with `policy` (not saved), or with the saved policy.',
    errors: {},
    args: {
      target: t.arg.string({ required: true }),
      policy: t.arg({ type: RetentionPolicyInput, required: false }),
    },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.retention.preview(args.target, args.policy ? (args.policy as PolicyInput) : undefined);
    },
  }),
}));

builder.mutationFields((t) => ({
  setDestinationRetentionPolicy: t.field({
    type: DestinationRetentionPolicyRef,
    description: "Sets a destination's own count rules for a target's copies there.",
    errors: {},
    args: {
      target: t.arg.string({ required: true }),
      destination: t.arg.string({ required: true }),
      policy: t.arg({ type: DestinationRetentionPolicyInput, required: true }),
    },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      const rules = await context.app.retention.setDestinationPolicy(
        args.target,
        args.destination,
        args.policy as Partial<CountRules>,
        actorOf(context),
      );
      return { destination: args.destination, rules };
    },
  }),
  clearDestinationRetentionPolicy: t.field({
    type: 'Boolean',
    description: "Drops a destination's own rules (its copies follow the target's policy again); false: it had none.",
    errors: {},
    args: { target: t.arg.string({ required: true }), destination: t.arg.string({ required: true }) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.retention.clearDestinationPolicy(args.target, args.destination, actorOf(context));
    },
  }),
  setRetentionPolicy: t.field({
    type: RetentionPolicyRef,
    errors: {},
    args: {
      target: t.arg.string({ required: true }),
      policy: t.arg({ type: RetentionPolicyInput, required: true }),
    },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.retention.setPolicy(args.target, args.policy as PolicyInput, actorOf(context));
    },
  }),
}));
