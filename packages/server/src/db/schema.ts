import { sql } from 'drizzle-orm';
import type { ProgressPhase, ProgressSnapshot, TableSize } from '@pgbs/engine';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** The engine's snapshot as it travels to the API; a restore adds "snapshot" for its safety backup. */
export type JobProgress = Omit<ProgressSnapshot, 'phase'> & { phase: ProgressPhase | 'snapshot' };

/**
 * A database the service protects ("database"), or a server whose databases each get a child
 * target ("server"). Removed targets stay (deletedAt set) so their backups keep their name.
 */
export const targets = pgTable(
  'targets',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    /** database | server */
    kind: text('kind').notNull(),
    /** The server target a child database target belongs to. */
    parentId: uuid('parent_id'),
    /** postgres:// URL without a password (a server target's names its maintenance database). */
    url: text('url').notNull(),
    /** AES-256-GCM sealed password (modules/targets/credential-box.ts); null: none stored. */
    passwordSealed: text('password_sealed'),
    enabled: boolean('enabled').notNull().default(true),
    /** "env": DATABASE_URL's target, refreshed at each start and read-only through the API. */
    managedBy: text('managed_by'),
    /** Server targets: databases never backed up (templates and the metadata database always are not). */
    excludeDatabases: text('exclude_databases').array().notNull().default([]),
    /** Keep pg_dumpall --globals-only beside each run's backups; with role passwords only when asked. */
    keepGlobals: boolean('keep_globals').notNull().default(false),
    globalsWithPasswords: boolean('globals_with_passwords').notNull().default(false),
    /** The last connection test: versions, role, superuser, size, or the error. */
    lastTest: jsonb('last_test').$type<Record<string, unknown> | null>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('targets_name_live_idx')
      .on(t.name)
      .where(sql`deleted_at is null`),
    index('targets_parent_idx').on(t.parentId),
  ],
);

/** One cron schedule per target (a server target's runs every child). */
export const schedules = pgTable('schedules', {
  targetId: uuid('target_id')
    .primaryKey()
    .references(() => targets.id, { onDelete: 'cascade' }),
  cron: text('cron').notNull(),
  timeZone: text('time_zone').notNull().default('UTC'),
  /** run-once | skip: what to do at start for slots missed while every instance was down. */
  missedPolicy: text('missed_policy').notNull().default('run-once'),
  paused: boolean('paused').notNull().default(false),
  /** Retries of a failed scheduled backup (modules/schedules/retry-runs.ts), 0: none. */
  retryLimit: integer('retry_limit').notNull().default(1),
  /** The last slot that has its record: slots after it are due. */
  lastSlotAt: timestamp('last_slot_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Exactly one record per due slot and target: ran (with its job), skipped for overlap, or missed. */
export const scheduleRuns = pgTable(
  'schedule_runs',
  {
    id: uuid('id').primaryKey(),
    /** The target whose schedule it is (a server target for its children's runs). */
    scheduleTargetId: uuid('schedule_target_id').notNull(),
    targetId: uuid('target_id').notNull(),
    slotAt: timestamp('slot_at', { withTimezone: true }).notNull(),
    /** ran | skipped-overlap | missed | failed (could not be queued) */
    outcome: text('outcome').notNull(),
    /** The slot's current attempt's job (a retry replaces the failed one's). */
    jobId: uuid('job_id'),
    /** The slot's current attempt: 1, then 2 for its first retry, and so on. */
    attempt: integer('attempt').notNull().default(1),
    /** When the next attempt is due (its last one failed and schedules.retry_limit allows one); null: none. */
    retryAt: timestamp('retry_at', { withTimezone: true }),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('schedule_runs_slot_idx').on(t.targetId, t.slotAt),
    index('schedule_runs_retry_idx')
      .on(t.retryAt)
      .where(sql`retry_at is not null`),
  ],
);

/** Keep-last and GFS counts per target; null: that rule keeps nothing. */
export const retentionPolicies = pgTable('retention_policies', {
  targetId: uuid('target_id')
    .primaryKey()
    .references(() => targets.id, { onDelete: 'cascade' }),
  keepLast: integer('keep_last'),
  keepHourly: integer('keep_hourly'),
  keepDaily: integer('keep_daily'),
  keepWeekly: integer('keep_weekly'),
  keepMonthly: integer('keep_monthly'),
  keepYearly: integer('keep_yearly'),
  /** Every successful backup younger than this many days ("7 days locally"); null: no such rule. */
  keepWithinDays: integer('keep_within_days'),
  /** Safety snapshots and uploads are pruned after this many days (their own rule); null: kept. */
  snapshotKeepDays: integer('snapshot_keep_days').default(7),
  uploadKeepDays: integer('upload_keep_days').default(7),
  /** No pruning while this many last scheduled runs all failed. */
  failedRunsGuard: integer('failed_runs_guard').notNull().default(3),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Running service processes (server or worker), for the dashboard and for who holds what. */
export const instances = pgTable('instances', {
  id: uuid('id').primaryKey(),
  hostname: text('hostname').notNull(),
  pid: integer('pid').notNull(),
  /** server | worker | cli */
  role: text('role').notNull(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  seenAt: timestamp('seen_at', { withTimezone: true }).notNull().defaultNow(),
});

export const backups = pgTable(
  'backups',
  {
    id: uuid('id').primaryKey(),
    fileName: text('file_name').notNull().unique(),
    description: text('description').notNull().default(''),
    /** custom | tar | plain | plain-gzip: what the bytes are. */
    format: text('format').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    /** sha256 of the bytes at rest (storedSha256: what `backup verify` checks without a key). */
    sha256: text('sha256').notNull(),
    serverVersion: text('server_version'),
    clientVersion: text('client_version'),
    databaseName: text('database_name'),
    durationMs: integer('duration_ms'),
    tableCount: integer('table_count'),
    /** Per-table sizes at dump time: they weight a later restore's progress. */
    tableSizes: jsonb('table_sizes').$type<TableSize[]>().notNull().default([]),
    /** manual | scheduled | upload | pre-restore-snapshot */
    origin: text('origin').notNull(),
    /** The target it was taken of (uploads: the one it was uploaded for). Removed targets keep theirs. */
    targetId: uuid('target_id'),
    /** Kept forever by retention. */
    pinned: boolean('pinned').notNull().default(false),
    /** pg_dumpall --globals-only stored beside it (a file in the same storage), when the target keeps roles. */
    globalsFileName: text('globals_file_name'),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    verifiedAt: timestamp('verified_at', { withTimezone: true }),
    /** ok | failed | null (never verified) */
    verifyStatus: text('verify_status'),
    /** The outer stream around pg_dump's output: zstd | gzip (plain-gzip's own) | none. First-stage rows: none. */
    codec: text('codec').notNull().default('none'),
    /** sha256 of pg_dump's own output (before the codec and encryption); null: not known (first stage, uploads in clear). */
    contentSha256: text('content_sha256'),
    /** Fingerprints of the age recipients it is encrypted to; empty: in clear. */
    recipientFingerprints: text('recipient_fingerprints').array().notNull().default([]),
    /** The manifest carried a valid service signature; false: foreign, validated before any restore. */
    signed: boolean('signed').notNull().default(false),
  },
  (t) => [index('backups_created_at_idx').on(t.createdAt), index('backups_target_idx').on(t.targetId, t.createdAt)],
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
    /** The target it runs on (verify: the backup's). */
    targetId: uuid('target_id'),
    /** The schedule slot it runs for; null: asked by a person. */
    scheduleRunId: uuid('schedule_run_id'),
    /** The instance running it (instances.id), for recovery after a crash. */
    instanceId: uuid('instance_id'),
    /** Last time its bytes moved or the target showed activity for it (stall detection). */
    activityAt: timestamp('activity_at', { withTimezone: true }),
    attempt: integer('attempt').notNull().default(1),
    /**
     * What the job holds while it runs: "<server identity>/<database>" (the server's
     * system_identifier, so two targets naming one database share it); null: nothing.
     */
    lockKey: text('lock_key'),
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    progress: jsonb('progress').$type<JobProgress | null>(),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    /** The archive entry a failed restore was running ("Name: people; Type: TABLE DATA; ..."). */
    errorEntry: text('error_entry'),
    /** The storage writer's partial ref (ObjectWriter.partialRef); discarded if the process dies mid-way. */
    partialRef: text('partial_ref'),
    /** Set by any process; the process running the job polls it (cancel across CLI and server). */
    cancelRequested: boolean('cancel_requested').notNull().default(false),
    requestedBy: text('requested_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    index('jobs_created_at_idx').on(t.createdAt),
    index('jobs_target_idx').on(t.targetId, t.createdAt),
    index('jobs_active_idx')
      .on(t.state)
      .where(sql`state in ('queued', 'running')`),
    // One job per attempt of a slot, whichever instances queue it.
    uniqueIndex('jobs_schedule_attempt_idx')
      .on(t.scheduleRunId, t.attempt)
      .where(sql`schedule_run_id is not null`),
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
    targetId: uuid('target_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('audit_events_at_idx').on(t.at), index('audit_events_action_idx').on(t.action)],
);

/**
 * Where backups are stored (issue #12): a local directory or an S3-compatible bucket. The local
 * BACKUP_DIR is the destination named "local", created at start.
 */
export const destinations = pgTable(
  'destinations',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    /** local | s3 */
    kind: text('kind').notNull(),
    /** local: { directory }; s3: { endpoint?, region?, bucket, prefix, pathStyle }. Never a secret. */
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
    /** S3 access key id + secret, sealed like target passwords (credential-box.ts); null: none or from the environment. */
    credentialsSealed: text('credentials_sealed'),
    enabled: boolean('enabled').notNull().default(true),
    /** "env": created from BACKUP_DIR at each start, read-only through the API. */
    managedBy: text('managed_by'),
    /** The last connection test (ok, error code and message, when). */
    lastTest: jsonb('last_test').$type<Record<string, unknown> | null>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('destinations_name_live_idx')
      .on(t.name)
      .where(sql`deleted_at is null`),
  ],
);

/** The destinations a target's backups go to; the lowest position is written first, the others get copies. */
export const targetDestinations = pgTable(
  'target_destinations',
  {
    targetId: uuid('target_id')
      .notNull()
      .references(() => targets.id, { onDelete: 'cascade' }),
    destinationId: uuid('destination_id')
      .notNull()
      .references(() => destinations.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
  },
  (t) => [uniqueIndex('target_destinations_pk').on(t.targetId, t.destinationId)],
);

/** One stored copy of a backup on one destination, with its own state and checksum. */
export const backupCopies = pgTable(
  'backup_copies',
  {
    backupId: uuid('backup_id')
      .notNull()
      .references(() => backups.id, { onDelete: 'cascade' }),
    destinationId: uuid('destination_id').notNull(),
    /** pending | copying | complete | failed | deleting (claimed by a delete) | deleted (pruned: the backup lives on elsewhere) */
    state: text('state').notNull(),
    /** The object's name on the destination (the backup's file name). */
    objectName: text('object_name').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    /** sha256 of the bytes at rest on this destination, checked after the copy. */
    storedSha256: text('stored_sha256'),
    attempts: integer('attempts').notNull().default(0),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    /** The copy job working on it. */
    jobId: uuid('job_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('backup_copies_pk').on(t.backupId, t.destinationId),
    index('backup_copies_destination_idx').on(t.destinationId, t.state),
  ],
);

/**
 * age recipients (X25519 public keys) backups are encrypted to. The service holds no identity
 * unless an administrator opts in (identitySealed, for automatic test-restores).
 */
export const recipients = pgTable(
  'recipients',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    /** age1… */
    recipient: text('recipient').notNull(),
    /** Short public fingerprint recorded in manifests (sha256 of the recipient string, hex, 16 chars). */
    fingerprint: text('fingerprint').notNull(),
    /** AGE-SECRET-KEY-1…, sealed with the master key; null (the default): the service cannot decrypt. */
    identitySealed: text('identity_sealed'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    retiredAt: timestamp('retired_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('recipients_name_idx').on(t.name), uniqueIndex('recipients_fingerprint_idx').on(t.fingerprint)],
);

/** The recipients a target's new backups are encrypted to; none: not encrypted. */
export const targetRecipients = pgTable(
  'target_recipients',
  {
    targetId: uuid('target_id')
      .notNull()
      .references(() => targets.id, { onDelete: 'cascade' }),
    recipientId: uuid('recipient_id')
      .notNull()
      .references(() => recipients.id, { onDelete: 'restrict' }),
  },
  (t) => [uniqueIndex('target_recipients_pk').on(t.targetId, t.recipientId)],
);

/** Keys the service signs manifests with (Ed25519); the newest unretired one signs, all verify. */
export const signingKeys = pgTable('signing_keys', {
  id: text('id').primaryKey(),
  /** SPKI DER, base64. */
  publicKey: text('public_key').notNull(),
  /** PKCS#8 DER, sealed with the master key. */
  privateKeySealed: text('private_key_sealed').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  retiredAt: timestamp('retired_at', { withTimezone: true }),
});

/** Per-destination retention (for example 7 days locally, 12 months in S3); absent: the target's policy. */
export const destinationRetentionPolicies = pgTable(
  'destination_retention_policies',
  {
    targetId: uuid('target_id')
      .notNull()
      .references(() => targets.id, { onDelete: 'cascade' }),
    destinationId: uuid('destination_id')
      .notNull()
      .references(() => destinations.id, { onDelete: 'cascade' }),
    keepLast: integer('keep_last'),
    keepHourly: integer('keep_hourly'),
    keepDaily: integer('keep_daily'),
    keepWeekly: integer('keep_weekly'),
    keepMonthly: integer('keep_monthly'),
    keepYearly: integer('keep_yearly'),
    keepWithinDays: integer('keep_within_days'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('destination_retention_pk').on(t.targetId, t.destinationId)],
);

/**
 * A copy being read outside a job (a download) by an instance, until `expiresAt` (renewed while
 * reading): retention and deletes on any instance leave that copy alone. An instance that dies
 * stops renewing, and its leases stop counting when they expire.
 */
export const readLeases = pgTable(
  'read_leases',
  {
    id: uuid('id').primaryKey(),
    backupId: uuid('backup_id')
      .notNull()
      .references(() => backups.id, { onDelete: 'cascade' }),
    destinationId: uuid('destination_id').notNull(),
    instanceId: uuid('instance_id').notNull(),
    /** download | … (shown when a delete is refused) */
    purpose: text('purpose').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('read_leases_copy_idx').on(t.backupId, t.destinationId, t.expiresAt)],
);

export type BackupRow = typeof backups.$inferSelect;
export type JobRow = typeof jobs.$inferSelect;
export type AuditEventRow = typeof auditEvents.$inferSelect;
export type TargetRow = typeof targets.$inferSelect;
export type ScheduleRow = typeof schedules.$inferSelect;
export type ScheduleRunRow = typeof scheduleRuns.$inferSelect;
export type RetentionPolicyRow = typeof retentionPolicies.$inferSelect;
export type InstanceRow = typeof instances.$inferSelect;
export type DestinationRow = typeof destinations.$inferSelect;
export type BackupCopyRow = typeof backupCopies.$inferSelect;
export type RecipientRow = typeof recipients.$inferSelect;
export type SigningKeyRow = typeof signingKeys.$inferSelect;
export type DestinationRetentionPolicyRow = typeof destinationRetentionPolicies.$inferSelect;
export type ReadLeaseRow = typeof readLeases.$inferSelect;

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
