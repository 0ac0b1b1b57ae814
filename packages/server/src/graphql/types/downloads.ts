import { systemClock } from '@pgbs/engine';
import { builder } from '../builder.js';
import { actorOf, requireAdmin } from '../context.js';

interface DownloadUrl {
  url: string;
  expiresAt: Date;
}

const DownloadUrlRef = builder.objectRef<DownloadUrl>('DownloadUrl').implement({
  description: 'A link that downloads one backup without credentials until it expires.',
  fields: (t) => ({
    url: t.exposeString('url', {
      description: 'A path on this server (relative, so it works behind a proxy); GET it, with Range to resume.',
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

builder.mutationFields((t) => ({
  createDownloadUrl: t.field({
    type: DownloadUrlRef,
    description: 'Signs a short-lived download link for a backup (for browsers, curl and integrations).',
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      const { app } = context;
      const backup = await app.backups.get(String(args.id));
      const expiresAt = new Date(systemClock.now() + app.config.downloadUrlTtlSeconds * 1000);
      const signature = app.urlSigner.sign(backup.id, expiresAt.getTime());
      const actor = actorOf(context);
      await app.audit.record({
        actor: actor.name,
        address: actor.address,
        action: 'backup.download-url',
        outcome: 'succeeded',
        subjectId: backup.id,
        details: { expiresAt: expiresAt.toISOString() },
      });
      return { url: `/downloads/${backup.id}?signature=${encodeURIComponent(signature)}`, expiresAt };
    },
  }),
}));
