import { randomUUID } from 'node:crypto';
import { and, eq, gt, isNull } from 'drizzle-orm';
import { type Clock, EngineError } from '@pgbs/engine';
import type { MetadataDb } from '../db/client.js';
import { type ApiTokenRow, type UserRow, apiTokens, sessions, users } from '../db/schema.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';
import { hashSecret, newSecret } from './tokens.js';

export type Role = 'admin' | 'viewer';

/** Who is asking, resolved once per request or WebSocket connection. */
export interface Viewer {
  userId: string;
  email: string;
  role: Role;
  via: 'session' | 'token';
}

export const SESSION_COOKIE = 'pgbs_session';
const MIN_PASSWORD = 12;

export class AuthService {
  constructor(private readonly deps: { db: MetadataDb; clock: Clock; sessionTtlSeconds: number }) {}

  async login(email: string, password: string): Promise<{ sessionToken: string; user: UserRow; expiresAt: Date }> {
    const [user] = await this.deps.db
      .select()
      .from(users)
      .where(eq(users.email, normalizeEmail(email)));
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) throw new EngineError('auth/invalid-credentials', 'The email or password is wrong.');
    const sessionToken = newSecret('s_');
    const expiresAt = new Date(this.deps.clock.now() + this.deps.sessionTtlSeconds * 1000);
    await this.deps.db.insert(sessions).values({ tokenHash: hashSecret(sessionToken), userId: user.id, expiresAt });
    return { sessionToken, user, expiresAt };
  }

  async logout(sessionToken: string): Promise<void> {
    await this.deps.db.delete(sessions).where(eq(sessions.tokenHash, hashSecret(sessionToken)));
  }

  async viewerFromSession(sessionToken: string): Promise<Viewer | null> {
    const [row] = await this.deps.db
      .select({ user: users })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(
        and(eq(sessions.tokenHash, hashSecret(sessionToken)), gt(sessions.expiresAt, new Date(this.deps.clock.now()))),
      );
    return row ? toViewer(row.user, 'session') : null;
  }

  async viewerFromApiToken(token: string): Promise<Viewer | null> {
    const [row] = await this.deps.db
      .update(apiTokens)
      .set({ lastUsedAt: new Date(this.deps.clock.now()) })
      .where(and(eq(apiTokens.tokenHash, hashSecret(token)), isNull(apiTokens.revokedAt)))
      .returning({ userId: apiTokens.userId });
    if (!row) return null;
    const [user] = await this.deps.db.select().from(users).where(eq(users.id, row.userId));
    return user ? toViewer(user, 'token') : null;
  }

  async createUser(email: string, password: string, role: Role): Promise<UserRow> {
    const normalized = normalizeEmail(email);
    if (!/^[^@\s]+@[^@\s]+$/.test(normalized)) throw new EngineError('input/invalid', 'Enter a valid email address.');
    if (password.length < MIN_PASSWORD) {
      throw new EngineError('input/invalid', `The password must be at least ${MIN_PASSWORD} characters.`);
    }
    if (role !== 'admin' && role !== 'viewer')
      throw new EngineError('input/invalid', 'The role must be admin or viewer.');
    const [existing] = await this.deps.db.select({ id: users.id }).from(users).where(eq(users.email, normalized));
    if (existing) throw new EngineError('auth/user-exists', `A user ${normalized} already exists.`);
    const [user] = (await this.deps.db
      .insert(users)
      .values({ id: randomUUID(), email: normalized, passwordHash: await hashPassword(password), role })
      .returning()) as [UserRow];
    return user;
  }

  async hasAdmin(): Promise<boolean> {
    const [row] = await this.deps.db.select({ id: users.id }).from(users).where(eq(users.role, 'admin')).limit(1);
    return row !== undefined;
  }

  async createApiToken(userId: string, name: string): Promise<{ token: string; row: ApiTokenRow }> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 100)
      throw new EngineError('input/invalid', 'Give the token a name of 1 to 100 characters.');
    const token = newSecret('pgbs_');
    const [row] = (await this.deps.db
      .insert(apiTokens)
      .values({ id: randomUUID(), userId, name: trimmed, tokenHash: hashSecret(token) })
      .returning()) as [ApiTokenRow];
    return { token, row };
  }

  async revokeApiToken(id: string): Promise<ApiTokenRow> {
    const [row] = await this.deps.db
      .update(apiTokens)
      .set({ revokedAt: new Date(this.deps.clock.now()) })
      .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
      .returning();
    if (!row) throw new EngineError('auth/token-not-found', 'No active API token with that id.');
    return row;
  }

  listApiTokens(): Promise<ApiTokenRow[]> {
    return this.deps.db.select().from(apiTokens).orderBy(apiTokens.createdAt);
  }
}

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function toViewer(user: UserRow, via: Viewer['via']): Viewer {
  return { userId: user.id, email: user.email, role: user.role as Role, via };
}
