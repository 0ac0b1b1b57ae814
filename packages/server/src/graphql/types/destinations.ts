import { ServiceError } from '../../errors/service-error.js';
import type { DestinationTestResult } from '../../modules/destinations/test-destination.js';
import type { DestinationView } from '../../modules/destinations/destination-view.js';
import { S3_CREDENTIAL_SOURCES } from '../../storage/s3-storage.js';
import { builder } from '../builder.js';
import { actorOf, requireAdmin } from '../context.js';

// Answers are built from DestinationView, which has no credentials and no sealed value: nothing here can add one.
const DestinationTestRef = builder.objectRef<DestinationTestResult>('DestinationTest').implement({
  description: 'What a destination test found (a probe written, read back and removed); also its lastTest.',
  fields: (t) => ({
    ok: t.exposeBoolean('ok'),
    at: t.exposeString('at'),
    errorCode: t.string({ nullable: true, resolve: (test) => test.error?.code ?? null }),
    errorMessage: t.string({ nullable: true, resolve: (test) => test.error?.message ?? null }),
  }),
});

const setting = (destination: DestinationView, name: string): string | null => {
  const value = destination.settings[name];
  return typeof value === 'string' && value !== '' ? value : null;
};

const S3CredentialSourceEnum = builder.enumType('S3CredentialSource', {
  description:
    "stored: the sealed credentials given with the destination (required); environment: the service's own (AWS_* variables, an instance or task role), by explicit choice.",
  values: S3_CREDENTIAL_SOURCES,
});

const DestinationRef = builder.objectRef<DestinationView>('Destination').implement({
  description: 'Where backups are stored: a local directory or an S3-compatible bucket.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    kind: t.exposeString('kind', { description: 'local or s3' }),
    location: t.exposeString('location', { description: 'A directory, or s3://bucket/prefix and where.' }),
    directory: t.string({ nullable: true, resolve: (d) => setting(d, 'directory') }),
    endpoint: t.string({ nullable: true, resolve: (d) => setting(d, 'endpoint') }),
    region: t.string({ nullable: true, resolve: (d) => setting(d, 'region') }),
    bucket: t.string({ nullable: true, resolve: (d) => setting(d, 'bucket') }),
    prefix: t.string({ nullable: true, resolve: (d) => setting(d, 'prefix') }),
    pathStyle: t.boolean({ resolve: (d) => d.settings.pathStyle === true }),
    hasCredentials: t.exposeBoolean('hasCredentials', {
      description: 'Whether sealed S3 credentials are stored (never shown).',
    }),
    credentialSource: t.field({
      type: S3CredentialSourceEnum,
      nullable: true,
      description: 's3: where its credentials come from (null: a local destination).',
      resolve: (d) =>
        d.kind === 's3' ? (d.settings.credentialSource === 'environment' ? 'environment' : 'stored') : null,
    }),
    enabled: t.exposeBoolean('enabled'),
    managedBy: t.exposeString('managedBy', { nullable: true, description: '"env": BACKUP_DIR, read-only here.' }),
    copies: t.int({ description: 'Complete backup copies stored there.', resolve: (d) => d.usage.copies }),
    usedBytes: t.field({
      type: 'Bytes',
      description: 'Their bytes, counted from the catalog (S3 has no free-space call).',
      resolve: (d) => d.usage.bytes,
    }),
    lastTest: t.field({
      type: DestinationTestRef,
      nullable: true,
      resolve: (d) => (d.lastTest && 'ok' in d.lastTest ? (d.lastTest as unknown as DestinationTestResult) : null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const DestinationKind = builder.enumType('DestinationKind', { values: ['local', 's3'] as const });

const S3CredentialsInput = builder.inputType('S3CredentialsInput', {
  description: 'Sealed with the master key on arrival; never returned, logged or audited.',
  fields: (t) => ({
    accessKeyId: t.string({ required: true }),
    secretAccessKey: t.string({ required: true }),
  }),
});

const AddDestinationInput = builder.inputType('AddDestinationInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    kind: t.field({ type: DestinationKind, required: true }),
    directory: t.string({ required: false, description: 'local: an absolute directory.' }),
    endpoint: t.string({ required: false, description: 's3: an S3-compatible service URL (or a region).' }),
    region: t.string({ required: false }),
    bucket: t.string({ required: false }),
    prefix: t.string({ required: false }),
    pathStyle: t.boolean({ required: false }),
    credentials: t.field({ type: S3CredentialsInput, required: false }),
    credentialSource: t.field({ type: S3CredentialSourceEnum, required: false, description: 's3: default stored.' }),
  }),
});

const UpdateDestinationInput = builder.inputType('UpdateDestinationInput', {
  fields: (t) => ({
    enabled: t.boolean({ required: false }),
    directory: t.string({ required: false }),
    endpoint: t.string({ required: false }),
    region: t.string({ required: false }),
    bucket: t.string({ required: false }),
    prefix: t.string({ required: false }),
    pathStyle: t.boolean({ required: false }),
    credentials: t.field({ type: S3CredentialsInput, required: false }),
    clearCredentials: t.boolean({ required: false, description: 'Remove the stored credentials.' }),
    credentialSource: t.field({ type: S3CredentialSourceEnum, required: false }),
  }),
});

const AddDestinationResult = builder
  .objectRef<{ destination: DestinationView; test: DestinationTestResult }>('AddDestinationResult')
  .implement({
    fields: (t) => ({
      destination: t.field({ type: DestinationRef, resolve: (result) => result.destination }),
      test: t.field({ type: DestinationTestRef, resolve: (result) => result.test }),
    }),
  });

const orUndefined = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

builder.queryFields((t) => ({
  destinations: t.field({
    type: [DestinationRef],
    description: 'Live destinations, by name.',
    resolve: (_root, _args, context) => {
      requireAdmin(context);
      return context.app.destinations.list();
    },
  }),
  destination: t.field({
    type: DestinationRef,
    errors: {},
    args: { id: t.arg.id({ required: true, description: 'An id or a name.' }) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.destinations.get(String(args.id));
    },
  }),
  targetDestinations: t.field({
    type: [DestinationRef],
    description: "A target's destinations in order (the first is written, the others get copies); empty: local.",
    errors: {},
    args: { target: t.arg.id({ required: true, description: 'An id or a name.' }) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.destinations.ofTarget(String(args.target));
    },
  }),
}));

builder.mutationFields((t) => ({
  addDestination: t.field({
    type: AddDestinationResult,
    description: 'Adds a destination and tests it (a failed test is in the answer; the destination stays).',
    errors: {},
    args: { input: t.arg({ type: AddDestinationInput, required: true }) },
    resolve: (_root, { input }, context) => {
      requireAdmin(context);
      return context.app.destinations.add(
        {
          name: input.name,
          kind: input.kind,
          directory: input.directory,
          endpoint: input.endpoint,
          region: input.region,
          bucket: input.bucket,
          prefix: input.prefix,
          pathStyle: orUndefined(input.pathStyle),
          credentials: input.credentials ?? null,
          credentialSource: input.credentialSource,
        },
        actorOf(context),
      );
    },
  }),
  updateDestination: t.field({
    type: DestinationRef,
    errors: {},
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateDestinationInput, required: true }) },
    resolve: (_root, { id, input }, context) => {
      requireAdmin(context);
      if (input.clearCredentials && input.credentials) {
        throw new ServiceError('input/invalid', 'Give credentials or clearCredentials, not both. Nothing was changed.');
      }
      return context.app.destinations.update(
        String(id),
        {
          enabled: orUndefined(input.enabled),
          directory: orUndefined(input.directory),
          endpoint: orUndefined(input.endpoint),
          region: orUndefined(input.region),
          bucket: orUndefined(input.bucket),
          prefix: orUndefined(input.prefix),
          pathStyle: orUndefined(input.pathStyle),
          credentials: input.clearCredentials ? null : orUndefined(input.credentials),
          credentialSource: orUndefined(input.credentialSource),
        },
        actorOf(context),
      );
    },
  }),
  testDestination: t.field({
    type: DestinationTestRef,
    description: 'Writes, reads back and removes a probe object; a refusal is a result with ok false.',
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.destinations.test(String(args.id), actorOf(context));
    },
  }),
  removeDestination: t.field({
    type: DestinationRef,
    description:
      'Removes a destination (confirm with its name); refused while targets use it, or while it holds copies unless force. Stored objects stay.',
    errors: {},
    args: {
      id: t.arg.id({ required: true }),
      confirmation: t.arg.string({ required: true }),
      force: t.arg.boolean({ required: false }),
    },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      const destination = await context.app.destinations.get(String(args.id));
      if (args.confirmation !== destination.name) {
        throw new ServiceError(
          'input/invalid',
          `Type the destination's name ("${destination.name}") to confirm. Nothing was changed.`,
        );
      }
      return context.app.destinations.remove(destination.id, { force: args.force ?? false }, actorOf(context));
    },
  }),
  setTargetDestinations: t.field({
    type: [DestinationRef],
    description: "Where a target's backups go, in order; an empty list returns it to the default (local).",
    errors: {},
    args: { target: t.arg.id({ required: true }), destinations: t.arg.stringList({ required: true }) },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.destinations.setForTarget(String(args.target), args.destinations, actorOf(context));
    },
  }),
}));
