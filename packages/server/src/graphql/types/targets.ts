import { parsePgUrl } from '@pgbs/engine';
import { ServiceError } from '../../errors/service-error.js';
import type { TargetTestResult } from '../../modules/targets/test-target.js';
import type { TargetView } from '../../modules/targets/target-view.js';
import { builder } from '../builder.js';
import { actorOf, requireAdmin } from '../context.js';

// Answers are built from TargetView, which has no password and no sealed value: nothing here can add one.
const TargetTestRef = builder.objectRef<TargetTestResult>('TargetTest').implement({
  description: "What a connection test found (also stored as the target's lastTest).",
  fields: (t) => ({
    ok: t.exposeBoolean('ok'),
    at: t.exposeString('at'),
    serverVersion: t.exposeString('serverVersion', { nullable: true }),
    clientVersion: t.exposeString('clientVersion', { nullable: true }),
    clientDirectory: t.exposeString('clientDirectory', { nullable: true }),
    role: t.exposeString('role', { nullable: true, description: 'The role the service connects as.' }),
    superuser: t.exposeBoolean('superuser', { nullable: true }),
    owner: t.exposeString('owner', { nullable: true, description: "The database's owner." }),
    actsAsOwner: t.exposeBoolean('actsAsOwner', { nullable: true }),
    restore: t.exposeString('restore', {
      nullable: true,
      description: 'How a restore would run (owner, superuser) or the code that would refuse it.',
    }),
    sizeBytes: t.expose('sizeBytes', { type: 'Bytes', nullable: true }),
    syncedDatabases: t.stringList({
      nullable: true,
      description: 'Whole-server targets: the databases kept as child targets.',
      resolve: (test) => test.sync?.databases ?? null,
    }),
    errorCode: t.string({ nullable: true, resolve: (test) => test.error?.code ?? null }),
    errorMessage: t.string({ nullable: true, resolve: (test) => test.error?.message ?? null }),
  }),
});

const TargetRef = builder.objectRef<TargetView>('Target').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    kind: t.exposeString('kind', { description: 'database, or server (a whole server: one child per database)' }),
    parentId: t.exposeID('parentId', { nullable: true }),
    url: t.exposeString('url', { description: 'postgres:// without a password.' }),
    database: t.string({
      description: "Its URL's database: the name that confirms a restore into it.",
      resolve: (target) => parsePgUrl(target.url).database,
    }),
    hasPassword: t.exposeBoolean('hasPassword', { description: 'Whether a sealed password is stored (never shown).' }),
    enabled: t.exposeBoolean('enabled'),
    managedBy: t.exposeString('managedBy', {
      nullable: true,
      description: '"env": from DATABASE_URL or the embedded demo, read-only here.',
    }),
    excludeDatabases: t.exposeStringList('excludeDatabases'),
    keepGlobals: t.exposeBoolean('keepGlobals'),
    globalsWithPasswords: t.exposeBoolean('globalsWithPasswords'),
    lastTest: t.field({
      type: TargetTestRef,
      nullable: true,
      resolve: (target) =>
        target.lastTest && 'ok' in target.lastTest ? (target.lastTest as unknown as TargetTestResult) : null,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const TargetKind = builder.enumType('TargetKind', { values: ['database', 'server'] as const });

const AddTargetInput = builder.inputType('AddTargetInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    url: t.string({
      required: true,
      description: 'postgres:// without a password (refused with target/password-in-url).',
    }),
    password: t.string({ required: false }),
    kind: t.field({ type: TargetKind, required: false }),
    excludeDatabases: t.stringList({ required: false }),
    keepGlobals: t.boolean({ required: false }),
    globalsWithPasswords: t.boolean({ required: false }),
  }),
});

const UpdateTargetInput = builder.inputType('UpdateTargetInput', {
  fields: (t) => ({
    url: t.string({ required: false }),
    password: t.string({ required: false, description: 'A new password; an empty string removes the stored one.' }),
    enabled: t.boolean({ required: false }),
    excludeDatabases: t.stringList({ required: false }),
    keepGlobals: t.boolean({ required: false }),
    globalsWithPasswords: t.boolean({ required: false }),
  }),
});

const orUndefined = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

builder.queryFields((t) => ({
  targets: t.field({
    type: [TargetRef],
    description: 'Live targets (removed ones are kept for their backups but not listed), by name.',
    resolve: (_root, _args, context) => {
      requireAdmin(context);
      return context.app.targets.list();
    },
  }),
  target: t.field({
    type: TargetRef,
    errors: {},
    args: { id: t.arg.id({ required: true, description: 'An id or a name.' }) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.targets.get(String(args.id));
    },
  }),
}));

builder.mutationFields((t) => ({
  addTarget: t.field({
    type: TargetRef,
    description: 'Registers a target; a whole-server target is tested and its databases listed right away.',
    errors: {},
    args: { input: t.arg({ type: AddTargetInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      requireAdmin(context);
      const added = await context.app.targets.add(
        {
          name: input.name,
          url: input.url,
          password: input.password || null,
          kind: orUndefined(input.kind),
          excludeDatabases: orUndefined(input.excludeDatabases),
          keepGlobals: orUndefined(input.keepGlobals),
          globalsWithPasswords: orUndefined(input.globalsWithPasswords),
        },
        actorOf(context),
      );
      return added.target;
    },
  }),
  updateTarget: t.field({
    type: TargetRef,
    errors: {},
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateTargetInput, required: true }) },
    resolve: (_root, { id, input }, context) => {
      requireAdmin(context);
      return context.app.targets.update(
        String(id),
        {
          url: orUndefined(input.url),
          password: input.password === '' ? null : orUndefined(input.password),
          enabled: orUndefined(input.enabled),
          excludeDatabases: orUndefined(input.excludeDatabases),
          keepGlobals: orUndefined(input.keepGlobals),
          globalsWithPasswords: orUndefined(input.globalsWithPasswords),
        },
        actorOf(context),
      );
    },
  }),
  testTarget: t.field({
    type: TargetTestRef,
    description: 'Connects as the service would; an unreachable target is a result with ok false.',
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.targets.test(String(args.id), actorOf(context));
    },
  }),
  removeTarget: t.field({
    type: TargetRef,
    description: "Removes a target; its backups are kept and keep its name. Confirm with the target's name.",
    errors: {},
    args: { id: t.arg.id({ required: true }), confirmation: t.arg.string({ required: true }) },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      const target = await context.app.targets.get(String(args.id));
      if (args.confirmation !== target.name) {
        throw new ServiceError(
          'input/invalid',
          `Type the target's name ("${target.name}") to confirm. Nothing was changed.`,
        );
      }
      return context.app.targets.remove(target.id, actorOf(context));
    },
  }),
}));
