import { randomUUID } from 'node:crypto';
import { and, eq, gt, inArray, isNull, ne } from 'drizzle-orm';
import type { Clock } from '@pgbs/engine';
import { ServiceError } from '../errors/service-error.js';
import type { MetadataDb } from '../db/client.js';
import { isUuid } from '../ids.js';
import { type ApiTokenRow, type UserRow, apiTokens, sessions, users } from '../db/schema.js';
import type { CredentialEvents } from './credential-events.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';
import { hashSecret, newSecret } from './tokens.js';

export type Role = 'admin' | 'viewer';

/** Who is asking, resolved once per request or WebSocket connection. */
export interface Viewer {
  userId: string;
  email: string;
  role: Role;
  via: 'session' | 'token';
  /** The session's hash or the API token's id: what a "credential ended" event names. */
  credentialId: string;
  /** A session's absolute end; API tokens last until revoked. */
  expiresAt: Date | null;
}

export const SESSION_COOKIE = 'pgbs_session';
const MIN_PASSWORD = 12;

export class AuthService {
  /** How often a session's activity is written: at most once a minute, and often enough for short idle timeouts. */
  readonly activityIntervalMs: number;

  constructor(
    private readonly deps: {
      db: MetadataDb;
      clock: Clock;
      credentialEvents: CredentialEvents;
      sessionIdleTimeoutSeconds: number;
      sessionMaxAgeSeconds: number;
    },
  ) {
    this.activityIntervalMs = Math.min(60_000, (deps.sessionIdleTimeoutSeconds * 1000) / 2);
  }

  async login(email: string, password: string): Promise<{ sessionToken: string; user: UserRow; viewer: Viewer }> {
    const [user] = await this.deps.db
      .select()
      .from(users)
      .where(eq(users.email, normalizeEmail(email)));
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) throw new ServiceError('auth/invalid-credentials', 'The email or password is wrong.');
    const sessionToken = newSecret('s_');
    const now = this.deps.clock.now();
    const tokenHash = hashSecret(sessionToken);
    const expiresAt = new Date(now + this.deps.sessionMaxAgeSeconds * 1000);
    await this.deps.db.insert(sessions).values({ tokenHash, userId: user.id, expiresAt, lastSeenAt: new Date(now) });
    return { sessionToken, user, viewer: { ...toViewer(user, 'session', tokenHash), expiresAt } };
  }

  async logout(sessionToken: string): Promise<void> {
    const tokenHash = hashSecret(sessionToken);
    await this.deps.db.delete(sessions).where(eq(sessions.tokenHash, tokenHash));
    this.deps.credentialEvents.ended({ kind: 'session', id: tokenHash });
  }

  /** A live session counts as activity: written when the last write is older than activityIntervalMs. */
  async viewerFromSession(sessionToken: string): Promise<Viewer | null> {
    const tokenHash = hashSecret(sessionToken);
    const [row] = await this.deps.db
      .select({ user: users, expiresAt: sessions.expiresAt, lastSeenAt: sessions.lastSeenAt })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.tokenHash, tokenHash), this.sessionIsLive()));
    if (!row) return null;
    const now = this.deps.clock.now();
    if (now - row.lastSeenAt.getTime() >= this.activityIntervalMs) {
      await this.deps.db
        .update(sessions)
        .set({ lastSeenAt: new Date(now) })
        .where(eq(sessions.tokenHash, tokenHash));
    }
    return { ...toViewer(row.user, 'session', tokenHash), expiresAt: row.expiresAt };
  }

  async viewerFromApiToken(token: string): Promise<Viewer | null> {
    const [row] = await this.deps.db
      .update(apiTokens)
      .set({ lastUsedAt: new Date(this.deps.clock.now()) })
      .where(and(eq(apiTokens.tokenHash, hashSecret(token)), isNull(apiTokens.revokedAt)))
      .returning({ id: apiTokens.id, userId: apiTokens.userId });
    if (!row) return null;
    const [user] = await this.deps.db.select().from(users).where(eq(users.id, row.userId));
    return user ? toViewer(user, 'token', row.id) : null;
  }

  /**
   * For open connections, in two queries however many there are: marks the sessions as active and
   * returns which of the sessions (by hash) and API tokens (by id) are still valid.
   */
  async keepAlive(credentials: { sessions: string[]; tokens: string[] }): Promise<Set<string>> {
    const live = new Set<string>();
    if (credentials.sessions.length > 0) {
      const touched = await this.deps.db
        .update(sessions)
        .set({ lastSeenAt: new Date(this.deps.clock.now()) })
        .where(and(inArray(sessions.tokenHash, credentials.sessions), this.sessionIsLive()))
        .returning({ id: sessions.tokenHash });
      for (const { id } of touched) live.add(id);
    }
    if (credentials.tokens.length > 0) {
      const valid = await this.deps.db
        .select({ id: apiTokens.id })
        .from(apiTokens)
        .where(and(inArray(apiTokens.id, credentials.tokens), isNull(apiTokens.revokedAt)));
      for (const { id } of valid) live.add(id);
    }
    return live;
  }

  private sessionIsLive() {
    const now = this.deps.clock.now();
    return and(
      gt(sessions.expiresAt, new Date(now)),
      gt(sessions.lastSeenAt, new Date(now - this.deps.sessionIdleTimeoutSeconds * 1000)),
    );
  }

  async createUser(email: string, password: string, role: Role): Promise<UserRow> {
    const normalized = normalizeEmail(email);
    if (!/^[^@\s]+@[^@\s]+$/.test(normalized)) throw new ServiceError('input/invalid', 'Enter a valid email address.');
    if (password.length < MIN_PASSWORD) {
      throw new ServiceError('input/invalid', `The password must be at least ${MIN_PASSWORD} characters.`);
    }
    if (role !== 'admin' && role !== 'viewer')
      throw new ServiceError('input/invalid', 'The role must be admin or viewer.');
    const [existing] = await this.deps.db.select({ id: users.id }).from(users).where(eq(users.email, normalized));
    if (existing) throw new ServiceError('auth/user-exists', `A user ${normalized} already exists.`);
    // onConflictDoNothing: a second process creating the same user at the same moment (two
    // instances bootstrapping one admin) gets the coded error, not a unique violation.
    const [user] = await this.deps.db
      .insert(users)
      .values({ id: randomUUID(), email: normalized, passwordHash: await hashPassword(password), role })
      .onConflictDoNothing({ target: users.email })
      .returning();
    if (!user) throw new ServiceError('auth/user-exists', `A user ${normalized} already exists.`);
    return user;
  }

  async hasAdmin(): Promise<boolean> {
    const [row] = await this.deps.db.select({ id: users.id }).from(users).where(eq(users.role, 'admin')).limit(1);
    return row !== undefined;
  }

  async createApiToken(userId: string, name: string): Promise<{ token: string; row: ApiTokenRow }> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 100)
      throw new ServiceError('input/invalid', 'Give the token a name of 1 to 100 characters.');
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
    if (!row) throw new ServiceError('auth/token-not-found', 'No active API token with that id.');
    this.deps.credentialEvents.ended({ kind: 'token', id: row.id });
    return row;
  }

  /** Removes a user with their sessions and API tokens (cascade); the last admin stays, or nobody could log in. */
  async deleteUser(id: string): Promise<UserRow> {
    const [user] = isUuid(id) ? await this.deps.db.select().from(users).where(eq(users.id, id)) : [];
    if (!user) throw new ServiceError('auth/user-not-found', 'No user with that id.');
    const [otherAdmin] = await this.deps.db
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.role, 'admin'), ne(users.id, id)))
      .limit(1);
    if (user.role === 'admin' && !otherAdmin) {
      throw new ServiceError('auth/last-admin', 'This is the last administrator: create another one first.');
    }
    await this.deps.db.delete(users).where(eq(users.id, id));
    this.deps.credentialEvents.ended({ kind: 'user', id });
    return user;
  }

  async findUserByEmail(email: string): Promise<UserRow | null> {
    const [user] = await this.deps.db
      .select()
      .from(users)
      .where(eq(users.email, normalizeEmail(email)));
    return user ?? null;
  }

  listApiTokens(): Promise<ApiTokenRow[]> {
    return this.deps.db.select().from(apiTokens).orderBy(apiTokens.createdAt);
  }
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function toViewer(user: UserRow, via: Viewer['via'], credentialId: string): Viewer {
  return { userId: user.id, email: user.email, role: user.role as Role, via, credentialId, expiresAt: null };
}
