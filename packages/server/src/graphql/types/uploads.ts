import { GraphQLError } from 'graphql';
import { SpooledFile } from '../../storage/spooled-file.js';
import { builder } from '../builder.js';
import { actorOf, requireAdmin } from '../context.js';
import { BackupRef, RestoreOptionsInput, restoreOptions } from './backups.js';
import { JobRef } from './jobs.js';

builder.scalarType('File', {
  description:
    'A file in a multipart request (GraphQL multipart request spec: the fields "operations", "map", then the files). Input only.',
  serialize: () => {
    throw new GraphQLError('File is an input-only type.');
  },
  // Only the upload plugin puts SpooledFiles into variables; anything else (a JSON value) is refused.
  parseValue: (value) => {
    if (value instanceof SpooledFile) return value;
    throw new GraphQLError('Send the file as a multipart request (GraphQL multipart request spec).', {
      extensions: { code: 'upload/invalid' },
    });
  },
});

builder.mutationFields((t) => ({
  uploadBackup: t.field({
    type: BackupRef,
    description:
      "Stores an uploaded backup file (.dump, .tar, .sql or .sql.gz, also zstd-compressed and age-encrypted) after validating it completely: format, compression, table of contents, unsafe SQL. An age-encrypted file is validated decrypted with the identity given, and stored re-encrypted to the target's recipients (decrypted when it has none).",
    errors: {},
    args: {
      file: t.arg({ type: 'File', required: true }),
      description: t.arg.string({ required: false }),
      identity: t.arg.string({
        required: false,
        description:
          'An age-encrypted file (.age): the text of the age identity file that opens it. Used for this request only, never stored.',
      }),
    },
    resolve: (_root, args, context) => {
      requireAdmin(context);
      return context.app.backups.importUpload(
        args.file.path,
        {
          description: args.description ?? undefined,
          originalName: args.file.filename,
          ...(args.identity ? { identity: args.identity } : {}),
        },
        actorOf(context),
      );
    },
  }),
  restoreFromUpload: t.field({
    type: JobRef,
    description:
      "Validates an uploaded backup file (an age-encrypted one decrypted with the identity given), then replaces the target database's whole content with it, atomically, without storing it. Confirm with the target database's name.",
    errors: {},
    args: {
      file: t.arg({ type: 'File', required: true }),
      confirmation: t.arg.string({ required: true }),
      options: t.arg({ type: RestoreOptionsInput, required: false }),
      identity: t.arg.string({
        required: false,
        description:
          'An age-encrypted file (.age): the text of the age identity file that opens it. Held in memory for the restore job only, never stored.',
      }),
    },
    resolve: async (_root, args, context) => {
      const viewer = requireAdmin(context);
      context.app.rateLimiter.hit('restore', viewer.userId);
      const started = await context.app.backups.restoreUpload(
        args.file.path,
        {
          originalName: args.file.filename,
          confirmation: args.confirmation,
          options: restoreOptions(args.options),
          ...(args.identity ? { identity: args.identity } : {}),
        },
        actorOf(context),
      );
      // The job reads the file after this response: it is deleted when the job ends, not with the request.
      args.file.retainUntil(started.done);
      return started.job;
    },
  }),
}));
