import { type ServiceError, isCodedError } from '../../errors/service-error.js';
import { type Viewer, normalizeEmail } from '../../auth/auth-service.js';
import { hashSecret } from '../../auth/tokens.js';
import type { ApiTokenRow, UserRow } from '../../db/schema.js';
import { builder } from '../builder.js';
import { type GraphQLContext, requireAdmin } from '../context.js';

const RoleEnum = builder.enumType('Role', { values: ['admin', 'viewer'] as const });

const ViewerRef = builder.objectRef<Viewer>('Viewer').implement({
  fields: (t) => ({
    id: t.exposeID('userId'),
    email: t.exposeString('email'),
    role: t.field({ type: RoleEnum, resolve: (viewer) => viewer.role }),
    via: t.exposeString('via', { description: 'session or token' }),
  }),
});

const UserRef = builder.objectRef<UserRow>('User').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    role: t.field({ type: RoleEnum, resolve: (user) => user.role as 'admin' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const ApiTokenRef = builder.objectRef<ApiTokenRow>('ApiToken').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreatedApiToken = builder.objectRef<{ token: string; apiToken: ApiTokenRow }>('CreatedApiToken').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Shown once: send it as "Authorization: Bearer <token>".' }),
    apiToken: t.field({ type: ApiTokenRef, resolve: (created) => created.apiToken }),
  }),
});

async function audit(
  context: GraphQLContext,
  action: string,
  outcome: 'succeeded' | 'failed',
  details: Record<string, unknown> = {},
  actor?: string | null,
) {
  await context.app.audit.record({
    actor: actor ?? context.viewer?.email ?? null,
    address: context.address,
    action,
    outcome,
    details,
  });
}

builder.queryFields((t) => ({
  me: t.field({
    type: ViewerRef,
    nullable: true,
    description: 'Who is logged in; null when nobody is (the only query open to anyone).',
    resolve: (_root, _args, context) => context.viewer,
  }),
  apiTokens: t.field({
    type: [ApiTokenRef],
    resolve: (_root, _args, context) => {
      requireAdmin(context);
      return context.app.auth.listApiTokens();
    },
  }),
}));

builder.mutationFields((t) => ({
  login: t.field({
    type: ViewerRef,
    description: 'Sets an HttpOnly session cookie.',
    errors: {},
    args: { email: t.arg.string({ required: true }), password: t.arg.string({ required: true }) },
    resolve: async (_root, args, context) => {
      // Per account and address: a guesser elsewhere cannot lock the admin out, and a correct password is never
      // counted. Hashed, so that a huge "email" costs no memory.
      const limitKey = `${context.address ?? 'unknown'} ${hashSecret(normalizeEmail(args.email))}`;
      try {
        context.app.rateLimiter.check('login', limitKey);
        const { sessionToken, user, viewer } = await context.app.auth.login(args.email, args.password);
        context.setSessionCookie({ token: sessionToken, expiresAt: viewer.expiresAt! });
        await audit(context, 'auth.login', 'succeeded', {}, user.email);
        return viewer;
      } catch (error) {
        if (isCodedError(error, 'auth/invalid-credentials')) context.app.rateLimiter.count('login', limitKey);
        await audit(context, 'auth.login', 'failed', { code: (error as ServiceError).code }, args.email);
        throw error;
      }
    },
  }),
  logout: t.boolean({
    description: 'Ends the session server-side and clears the cookie.',
    resolve: async (_root, _args, context) => {
      if (context.sessionToken) await context.app.auth.logout(context.sessionToken);
      context.setSessionCookie(null);
      if (context.viewer) await audit(context, 'auth.logout', 'succeeded');
      return true;
    },
  }),
  createApiToken: t.field({
    type: CreatedApiToken,
    errors: {},
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_root, args, context) => {
      const viewer = requireAdmin(context);
      const { token, row } = await context.app.auth.createApiToken(viewer.userId, args.name);
      await audit(context, 'token.create', 'succeeded', { tokenId: row.id, name: row.name });
      return { token, apiToken: row };
    },
  }),
  revokeApiToken: t.field({
    type: ApiTokenRef,
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      const row = await context.app.auth.revokeApiToken(String(args.id));
      await audit(context, 'token.revoke', 'succeeded', { tokenId: row.id, name: row.name });
      return row;
    },
  }),
  deleteUser: t.field({
    type: UserRef,
    description: 'Removes a user with their sessions and API tokens; their open subscriptions are closed.',
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      const user = await context.app.auth.deleteUser(String(args.id));
      await audit(context, 'user.delete', 'succeeded', { userId: user.id, email: user.email });
      return user;
    },
  }),
  createUser: t.field({
    type: UserRef,
    errors: {},
    args: {
      email: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
      role: t.arg({ type: RoleEnum, required: true }),
    },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      const user = await context.app.auth.createUser(args.email, args.password, args.role);
      await audit(context, 'user.create', 'succeeded', { userId: user.id, email: user.email, role: user.role });
      return user;
    },
  }),
}));
