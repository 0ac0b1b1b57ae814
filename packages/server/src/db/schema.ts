import { sql } from 'drizzle-orm';
import type { TableSize } from '@pgbs/engine';
import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const backups = pgTable(
  'backups',
  {
    id: uuid('id').primaryKey(),
    fileName: text('file_name').notNull().unique(),
    description: text('description').notNull().default(''),
    /** custom | tar | plain | plain-gzip: what the bytes are. */
    format: text('format').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    serverVersion: text('server_version'),
    clientVersion: text('client_version'),
    databaseName: text('database_name'),
    durationMs: integer('duration_ms'),
    tableCount: integer('table_count'),
    /** Per-table sizes at dump time: they weight a later restore's progress. */
    tableSizes: jsonb('table_sizes').$type<TableSize[]>().notNull().default([]),
    /** manual | upload | pre-restore-snapshot */
    origin: text('origin').notNull(),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    verifiedAt: timestamp('verified_at', { withTimezone: true }),
    /** ok | failed | null (never verified) */
    verifyStatus: text('verify_status'),
  },
  (t) => [index('backups_created_at_idx').on(t.createdAt)],
);

export const jobs = pgTable(
  'jobs',
  {
    id: uuid('id').primaryKey(),
    /** backup | restore | verify */
    kind: text('kind').notNull(),
    /** queued | running | succeeded | failed | cancelled */
    state: text('state').notNull(),
    backupId: uuid('backup_id').references(() => backups.id, { onDelete: 'set null' }),
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    progress: jsonb('progress').$type<Record<string, unknown> | null>(),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    /** The archive entry a failed restore was running ("Name: people; Type: TABLE DATA; ..."). */
    errorEntry: text('error_entry'),
    /** Files this job is writing; removed if the process dies mid-way. */
    partialPath: text('partial_path'),
    /** Set by any process; the process running the job polls it (cancel across CLI and server). */
    cancelRequested: boolean('cancel_requested').notNull().default(false),
    requestedBy: text('requested_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    index('jobs_created_at_idx').on(t.createdAt),
    index('jobs_active_idx')
      .on(t.state)
      .where(sql`state in ('queued', 'running')`),
  ],
);

export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actor: text('actor'),
    action: text('action').notNull(),
    /** succeeded | failed | cancelled (a job stopped by a user) */
    outcome: text('outcome').notNull(),
    address: text('address'),
    subjectId: text('subject_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('audit_events_at_idx').on(t.at), index('audit_events_action_idx').on(t.action)],
);

export type BackupRow = typeof backups.$inferSelect;
export type JobRow = typeof jobs.$inferSelect;
export type AuditEventRow = typeof auditEvents.$inferSelect;

export const users = pgTable('users', {
  id: uuid('id').primaryKey(),
  email: text('email').notNull().unique(),
  /** scrypt$N$r$p$salt$hash (base64) */
  passwordHash: text('password_hash').notNull(),
  /** admin | viewer: only admins may do anything; viewers exist so refusals can be tested and audited. */
  role: text('role').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const sessions = pgTable('sessions', {
  /** sha256 of the cookie value: a database leak does not leak live sessions. */
  tokenHash: text('token_hash').primaryKey(),
  userId: uuid('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /** The absolute end (SESSION_MAX_AGE_SECONDS after login), whatever the activity. */
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  /** Last request or open subscription, written at most once a minute: SESSION_IDLE_TIMEOUT_SECONDS counts from here. */
  lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
});

export const apiTokens = pgTable('api_tokens', {
  id: uuid('id').primaryKey(),
  userId: uuid('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  /** sha256 of the token; the token itself is shown once. */
  tokenHash: text('token_hash').notNull().unique(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

export type UserRow = typeof users.$inferSelect;
export type ApiTokenRow = typeof apiTokens.$inferSelect;
