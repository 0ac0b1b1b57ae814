import { ServiceError } from '../../errors/service-error.js';
import { builder } from '../builder.js';
import { actorOf, requireAdmin } from '../context.js';

builder.queryFields((t) => ({
  exportConfig: t.string({
    description:
      'The configuration as JSON: targets (no passwords), and the sections other domains register (schedules, policies).',
    resolve: async (_root, _args, context) => {
      requireAdmin(context);
      const document = await context.app.configTransfer.export(new Date());
      await context.app.audit.record({
        actor: context.viewer!.email,
        address: context.address,
        action: 'config.export',
        outcome: 'succeeded',
      });
      return JSON.stringify(document);
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
      let document: unknown;
      try {
        document = JSON.parse(args.document);
      } catch {
        throw new ServiceError('config/import-invalid', 'The document is not JSON. Nothing was imported.');
      }
      const report = await context.app.configTransfer.import(document, actorOf(context));
      await context.app.audit.record({
        actor: context.viewer!.email,
        address: context.address,
        action: 'config.import',
        outcome: 'succeeded',
        details: report,
      });
      return JSON.stringify(report);
    },
  }),
}));
