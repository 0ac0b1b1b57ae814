import { type PgTarget, createToolResolver, nodeProcessRunner, parsePgUrl, systemClock } from '@pgbs/engine';
import { randomBytes } from 'node:crypto';
import { type AuditLog, databaseAuditLog } from './audit/audit-log.js';
import { AuthService } from './auth/auth-service.js';
import { RateLimiter } from './auth/rate-limiter.js';
import { UrlSigner } from './auth/signed-urls.js';
import type { Config } from './config.js';
import { type MetadataDb, createMetadataDb, migrateMetadataDb } from './db/client.js';
import {
  type EmbeddedServer,
  ensureDatabase,
  seedDemoDatabase,
  startEmbeddedPostgres,
} from './embedded/embedded-postgres.js';
import { type JobEvents, createSharedJobEvents } from './jobs/job-events.js';
import { JobRunner } from './jobs/job-runner.js';
import { lockTarget } from './jobs/target-lock.js';
import type { Logger } from './logger.js';
import { BackupService } from './services/backup-service.js';
import { type BackupStorage, localStorage } from './storage/local-storage.js';

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
  auth: AuthService;
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
  const target = parsePgUrl(targetUrl);
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
  const backups = new BackupService({
    db: metadata.db,
    storage,
    jobs,
    audit,
    runner: nodeProcessRunner,
    clock: systemClock,
    tools: createToolResolver({ runner: nodeProcessRunner, clock: systemClock, pgBinDir: config.pgBinDir }),
    target,
    compressionLevel: config.compressionLevel,
    lockTimeoutSeconds: config.lockTimeoutSeconds,
  });

  const auth = new AuthService({ db: metadata.db, clock: systemClock, sessionTtlSeconds: config.sessionTtlSeconds });
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
    auth,
    rateLimiter,
    urlSigner,
    embedded,
    async close() {
      await metadata.close();
      await embedded?.stop();
    },
  };
}

async function resolveDatabases(config: Config, logger: Logger) {
  if (config.databases.mode === 'external') {
    return { targetUrl: config.databases.targetUrl, metadataUrl: config.databases.metadataUrl, embedded: null };
  }
  const embedded = await startEmbeddedPostgres(config.dataDir, config.databases.port, logger);
  await ensureDatabase(embedded.url('postgres'), EMBEDDED_METADATA_DB);
  if (await ensureDatabase(embedded.url('postgres'), EMBEDDED_TARGET_DB)) {
    logger.info('creating the Workload Tracker demo database', { database: EMBEDDED_TARGET_DB });
    await seedDemoDatabase(embedded.url(EMBEDDED_TARGET_DB));
  }
  return {
    targetUrl: embedded.url(EMBEDDED_TARGET_DB),
    metadataUrl: embedded.url(EMBEDDED_METADATA_DB),
    embedded,
  };
}
