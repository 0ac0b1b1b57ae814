import {
  EngineError,
  type PgTarget,
  type ToolResolver,
  createToolResolver,
  nodeProcessRunner,
  parsePgUrl,
  readTargetRole,
  sweepRestoreRoles,
  systemClock,
} from '@pgbs/engine';
import { and, eq, inArray, sql as rawSql } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { type AuditLog, databaseAuditLog } from './audit/audit-log.js';
import { AuthService } from './auth/auth-service.js';
import { createSharedCredentialEvents } from './auth/credential-events.js';
import { type LiveCredentials, liveCredentials } from './auth/live-credentials.js';
import { RateLimiter } from './auth/rate-limiter.js';
import { UrlSigner } from './auth/signed-urls.js';
import type { Config } from './config.js';
import { type MetadataDb, createMetadataDb, migrateMetadataDb } from './db/client.js';
import {
  type EmbeddedServer,
  ensureDatabase,
  ensureOwner,
  seedDemoDatabase,
  startEmbeddedPostgres,
} from './embedded/embedded-postgres.js';
import { jobs as jobsTable } from './db/schema.js';
import { type JobEvents, createSharedJobEvents } from './jobs/job-events.js';
import { ACTIVE_STATES, JobRunner } from './jobs/job-runner.js';
import { lockTarget } from './jobs/target-lock.js';
import type { Logger } from './logger.js';
import { type Retention, createRetention } from './modules/retention/retention.js';
import { jobsTableQueue } from './modules/schedules/jobs-table-queue.js';
import { type Schedules, createSchedules } from './modules/schedules/schedules.js';
import { BackupService } from './services/backup-service.js';
import { type BackupStorage, localStorage } from './storage/local-storage.js';
import { ConfigTransfer } from './modules/config/config-transfer.js';
import { readMetadataIdentity } from './modules/targets/metadata-identity.js';
import { startTargets } from './modules/targets/start-targets.js';
import { TargetRepository } from './modules/targets/target-repository.js';
import { targetsConfigSection } from './modules/targets/targets-config-section.js';
import { type TargetsModule, createTargetsModule } from './modules/targets/targets-module.js';

export const EMBEDDED_TARGET_DB = 'workload_tracker';
export const EMBEDDED_METADATA_DB = 'pgbs_metadata';

export interface App {
  config: Config;
  target: PgTarget;
  metadataDisplay: string;
  db: MetadataDb;
  storage: BackupStorage;
  events: JobEvents;
  jobs: JobRunner;
  audit: AuditLog;
  backups: BackupService;
  schedules: Schedules;
  retention: Retention;
  targets: TargetsModule;
  /** Configuration export and import; other domains register their sections (schedules, retention). */
  configTransfer: ConfigTransfer;
  auth: AuthService;
  /** The credentials of open WebSockets and SSE streams, cut when they end. */
  liveCredentials: LiveCredentials;
  rateLimiter: RateLimiter;
  urlSigner: UrlSigner;
  embedded: EmbeddedServer | null;
  close(): Promise<void>;
}

/** The composition root: every real side effect is chosen here and nowhere else. */
export async function createApp(config: Config, logger: Logger): Promise<App> {
  const { targetUrl, metadataUrl, embedded } = await resolveDatabases(config, logger);
  await migrateMetadataDb(metadataUrl);
  const metadata = createMetadataDb(metadataUrl);
  const target = targetUrl ? parsePgUrl(targetUrl) : NO_TARGET;
  const storage = localStorage(config.backupDir);
  const events = await createSharedJobEvents({ sql: metadata.sql, db: metadata.db, logger });
  const jobs = new JobRunner({
    db: metadata.db,
    connectForLock: metadata.connectSingle,
    clock: systemClock,
    events,
    logger,
    timeoutSeconds: config.jobTimeoutSeconds,
  });
  const audit = databaseAuditLog(metadata.db, logger);
  const tools = createToolResolver({ runner: nodeProcessRunner, clock: systemClock, pgBinDir: config.pgBinDir });
  const started = await startTargets({
    db: metadata.db,
    keySources: {
      masterKey: config.masterKey,
      masterKeyFile: config.masterKeyFile,
      // Embedded mode works without any setup (docs/operations.md, "Keys"): a key of its own in DATA_DIR.
      generatedKeyFile: embedded ? path.join(config.dataDir, 'master.key') : undefined,
    },
    envTargetUrl: targetUrl ?? null,
    logger,
  });
  const targetDeps = {
    repo: new TargetRepository(metadata.db),
    keys: started.keys,
    runner: nodeProcessRunner,
    tools,
    clock: systemClock,
    audit,
    envConnections: started.envConnections,
    metadataIdentity: () => readMetadataIdentity(metadata.db),
  };
  const targets = createTargetsModule(targetDeps);
  const configTransfer = new ConfigTransfer();
  configTransfer.register(targetsConfigSection(targetDeps));
  const backups = new BackupService({
    db: metadata.db,
    storage,
    jobs,
    audit,
    runner: nodeProcessRunner,
    clock: systemClock,
    tools: targetUrl ? tools : withoutTarget(tools),
    target,
    compressionLevel: config.compressionLevel,
    lockTimeoutSeconds: config.lockTimeoutSeconds,
    jobTimeoutSeconds: config.jobTimeoutSeconds,
  });
  const schedules = createSchedules({
    db: metadata.db,
    queue: jobsTableQueue(metadata.db),
    clock: systemClock,
    audit,
    logger,
  });
  const retention = createRetention({
    db: metadata.db,
    clock: systemClock,
    audit,
    logger,
    deleteBackup: async (id, { actor }) => void (await backups.delete(id, actor)),
  });

  const credentialEvents = await createSharedCredentialEvents({ sql: metadata.sql, logger });
  const auth = new AuthService({
    db: metadata.db,
    clock: systemClock,
    credentialEvents,
    sessionIdleTimeoutSeconds: config.sessionIdleTimeoutSeconds,
    sessionMaxAgeSeconds: config.sessionMaxAgeSeconds,
  });
  const live = liveCredentials({ auth, events: credentialEvents, clock: systemClock, logger });
  const rateLimiter = new RateLimiter(systemClock, {
    login: { max: config.rateLimits.loginPer15Minutes, windowSeconds: 15 * 60 },
    backup: { max: config.rateLimits.jobsPerHour, windowSeconds: 3600 },
    restore: { max: config.rateLimits.jobsPerHour, windowSeconds: 3600 },
    upload: { max: config.rateLimits.uploadsPerHour, windowSeconds: 3600 },
    'failed-auth': { max: config.http.failedAuthPer15Minutes, windowSeconds: 15 * 60 },
  });
  const urlSigner = new UrlSigner(config.signingSecret ? Buffer.from(config.signingSecret) : randomBytes(32));

  const recovered = await jobs.recoverInterrupted(storage, async (job) => {
    const lockName = job.kind === 'verify' ? `verify:${job.backupId}` : target.display;
    try {
      const lock = await lockTarget(metadata.connectSingle, lockName, 'exclusive');
      await lock.release();
      return true;
    } catch {
      return false;
    }
  });
  for (const job of recovered) logger.warn('marked an interrupted job as failed', { jobId: job.id, kind: job.kind });
  if (targetUrl) await sweepLeftoverRestoreRoles(target, metadata.db, tools, logger);

  return {
    config,
    target,
    metadataDisplay: parsePgUrl(metadataUrl).display,
    db: metadata.db,
    storage,
    events,
    jobs,
    audit,
    backups,
    schedules,
    retention,
    targets,
    configTransfer,
    auth,
    liveCredentials: live,
    rateLimiter,
    urlSigner,
    embedded,
    async close() {
      live.close();
      await metadata.close();
      await embedded?.stop();
    },
  };
}

// Until backups reach their target through TargetConnections (the integrator wires core's handlers
// to app.targets.connections), a service started with METADATA_DATABASE_URL alone has no target
// for them: they fail with target/none instead of trying a default server.
const NO_TARGET: PgTarget = { database: '', display: '(no default target)', env: {} };
function withoutTarget(tools: ToolResolver): ToolResolver {
  const none = () =>
    Promise.reject(new EngineError('target/none', 'No default target: DATABASE_URL is not set. Add a target first.'));
  return { ...tools, prepare: none, tableSizes: none };
}

async function resolveDatabases(config: Config, logger: Logger) {
  if (config.databases.mode === 'external') {
    return { targetUrl: config.databases.targetUrl, metadataUrl: config.databases.metadataUrl, embedded: null };
  }
  const embedded = await startEmbeddedPostgres(config.dataDir, config.databases.port, logger);
  await ensureDatabase(embedded.url('postgres'), EMBEDDED_METADATA_DB);
  // The service connects to the demo database as its owner, which is no superuser: the
  // recommended setup (docs/security.md).
  await ensureOwner(embedded, EMBEDDED_TARGET_DB);
  const created = await ensureDatabase(embedded.url('postgres'), EMBEDDED_TARGET_DB, embedded.owner.role);
  const ownerUrl = new URL(embedded.url(EMBEDDED_TARGET_DB));
  ownerUrl.username = embedded.owner.role;
  ownerUrl.password = embedded.owner.password;
  if (created) {
    logger.info('creating the Workload Tracker demo database', { database: EMBEDDED_TARGET_DB });
    await seedDemoDatabase(ownerUrl.toString());
  }
  return {
    targetUrl: ownerUrl.toString(),
    metadataUrl: embedded.url(EMBEDDED_METADATA_DB),
    embedded,
  };
}

/**
 * A superuser connection restores through short-lived login roles; a process killed during a
 * restore never dropped its own. Those whose job is no longer running (on any instance) go now.
 * Best effort: an unreachable target must not stop the service from starting.
 */
async function sweepLeftoverRestoreRoles(
  target: PgTarget,
  db: MetadataDb,
  tools: ReturnType<typeof createToolResolver>,
  logger: Logger,
): Promise<void> {
  try {
    const { tools: set } = await tools.prepare(target);
    const role = await readTargetRole(nodeProcessRunner, set.psql, target);
    if (!role.superuser) return;
    const dropped = await sweepRestoreRoles(
      { runner: nodeProcessRunner, psql: set.psql, admin: target, owner: role.owner },
      async (jobIdHex) => {
        const [running] = await db
          .select({ id: jobsTable.id })
          .from(jobsTable)
          .where(
            and(eq(rawSql`replace(${jobsTable.id}::text, '-', '')`, jobIdHex), inArray(jobsTable.state, ACTIVE_STATES)),
          );
        return running !== undefined;
      },
    );
    for (const name of dropped) logger.warn('dropped a restore role left by an interrupted restore', { role: name });
  } catch (error) {
    logger.warn('could not check for left-over restore roles', { error: String(error) });
  }
}
