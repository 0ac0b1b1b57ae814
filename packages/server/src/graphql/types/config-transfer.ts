import { builder } from '../builder.js';
import { actorOf, requireAdmin } from '../context.js';

builder.queryFields((t) => ({
  exportConfig: t.string({
    description:
      'The configuration as JSON: targets (no passwords), and the sections other domains register (schedules, policies).',
    resolve: async (_root, _args, context) => {
      requireAdmin(context);
      return JSON.stringify(await context.app.configTransfer.export(new Date(), actorOf(context)));
    },
  }),
}));

builder.mutationFields((t) => ({
  importConfig: t.string({
    description: 'Applies an export (JSON); returns what each section did as JSON. Passwords are set afterwards.',
    errors: {},
    args: { document: t.arg.string({ required: true }) },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      return JSON.stringify(await context.app.configTransfer.import(args.document, actorOf(context)));
    },
  }),
}));
