import { DEFAULT_EXPANSION_LIMIT, createToolResolver, nodeProcessRunner, parsePgUrl, systemClock } from '@pgbs/engine';
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
import { targetActivityProbe } from './jobs/activity-probe.js';
import { HandlerRegistry } from './jobs/handler-registry.js';
import { type InstanceRole, isInstanceGone, registerInstance } from './jobs/instances.js';
import { sweepUploadSpools, uploadSpoolDir } from './http/upload-spool-dirs.js';
import { type JobEvents, createSharedJobEvents } from './jobs/job-events.js';
import { JobWorker } from './jobs/job-worker.js';
import { countQuery, enableJobTrace } from './jobs/job-trace.js';
import { SHARED_QUEUE, instanceQueue, startJobQueue } from './jobs/queue.js';
import { recoverInterrupted, startRecovery } from './jobs/recovery.js';
import { reusedLockSessions } from './jobs/target-lock.js';
import type { Logger } from './logger.js';
import type { BackupsDeps } from './modules/backups/backups-deps.js';
import { type BackupsModule, backupsModule, registerBackupHandlers } from './modules/backups/index.js';
import { backupsRepository } from './modules/backups/backups-repository.js';
import { type DashboardEntry, dashboard } from './modules/dashboard/dashboard.js';
import { type JobsModule, jobsModule } from './modules/jobs/index.js';
import { jobsRepository } from './jobs/jobs-repository.js';
import { pruneRequest, registerPruneHandler } from './modules/retention/prune-job.js';
import { type Retention, createRetention } from './modules/retention/retention.js';
import { queueBackups } from './modules/schedules/queue-backups.js';
import { type Schedules, createSchedules } from './modules/schedules/schedules.js';
import { startScheduleTicker } from './modules/schedules/schedule-ticker.js';
import { planRetryOfEndedJob } from './modules/schedules/retry-runs.js';
import { readServerIdentity } from './modules/targets/server-identity.js';
import type { ResolvedTarget } from './modules/targets/target-connections.js';
import { checkLocalDirectory, localObjectStorage } from './storage/local-storage.js';
import { localRestoreSpool } from './storage/restore-spool.js';
import { ensurePrivateDirectory } from './storage/private-files.js';
import { ConfigTransfer } from './modules/config/config-transfer.js';
import { readMetadataIdentity } from './modules/targets/metadata-identity.js';
import { startTargets } from './modules/targets/start-targets.js';
import { TargetRepository } from './modules/targets/target-repository.js';
import { targetsConfigSection } from './modules/targets/targets-config-section.js';
import { schedulesConfigSection } from './modules/schedules/schedules-config-section.js';
import {
  destinationRetentionConfigSection,
  retentionConfigSection,
} from './modules/retention/retention-config-section.js';
import type { Actor } from './modules/schedules/ports.js';
import { type TargetsModule, createTargetsModule } from './modules/targets/targets-module.js';
import { type KeysModule, createKeysModule } from './modules/keys/keys-module.js';
import { KeysRepository } from './modules/keys/keys-repository.js';
import { startKeys } from './modules/keys/start-keys.js';
import { IdentityVault } from './modules/backups/identity-vault.js';
import { type DestinationsModule, createDestinationsModule } from './modules/destinations/destinations-module.js';
import { DestinationRepository } from './modules/destinations/destination-repository.js';
import { ensureEnvDestination } from './modules/destinations/ensure-env-destination.js';
import { s3Storage } from './storage/s3-storage.js';
import { type BackupPlacement, cachedPlacement, splitRef } from './modules/backups/backup-placement.js';
import { copiesRepository } from './modules/backups/copies-repository.js';
import { sweepLeftoverRestoreRoles } from './modules/backups/sweep-restore-roles.js';
import { copyLeases } from './modules/backups/copy-leases.js';

export const EMBEDDED_TARGET_DB = 'workload_tracker';
export const EMBEDDED_METADATA_DB = 'pgbs_metadata';

export interface App {
  config: Config;
  /** server (HTTP and workers), worker (workers only), cli (runs only the jobs it asked for). */
  role: InstanceRole;
  instanceId: string;
  metadataDisplay: string;
  db: MetadataDb;
  /** One storage per destination; the env-managed "local" one (BACKUP_DIR) is `placement.localId`. */
  placement: BackupPlacement;
  events: JobEvents;
  jobs: JobsModule;
  audit: AuditLog;
  backups: BackupsModule;
  schedules: Schedules;
  retention: Retention;
  targets: TargetsModule;
  /** age recipients, target encryption, manifest signatures. */
  keys: KeysModule;
  /** Where backups are stored: BACKUP_DIR ("local") and S3-compatible buckets. */
  destinations: DestinationsModule;
  /** Per target: last success, next run, failures, guard, size trend (the panel's home). */
  dashboard(): Promise<DashboardEntry[]>;
  /** Configuration export and import; other domains register their sections (schedules, retention). */
  configTransfer: ConfigTransfer;
  auth: AuthService;
  /** The credentials of open WebSockets and SSE streams, cut when they end. */
  liveCredentials: LiveCredentials;
  rateLimiter: RateLimiter;
  urlSigner: UrlSigner;
  embedded: EmbeddedServer | null;
  /** Where this instance spools uploads (UPLOAD_TEMP_DIR/<instance id>). */
  uploadSpoolDir: string;
  close(): Promise<void>;
}

/** The composition root: every real side effect is chosen here and nowhere else. */
export async function createApp(
  config: Config,
  logger: Logger,
  // scheduleTicker false: for tests that tick with a clock of their own, which the real one would race.
  // copyRetryDelaysSeconds: for tests, which cannot wait minutes for a copy's retry.
  options: { role?: InstanceRole; scheduleTicker?: boolean; copyRetryDelaysSeconds?: readonly number[] } = {},
): Promise<App> {
  const role = options.role ?? 'server';
  const { targetUrl, metadataUrl, embedded } = await resolveDatabases(config, logger);
  await migrateMetadataDb(metadataUrl);
  if (config.traceJobs) enableJobTrace(logger);
  const metadata = createMetadataDb(metadataUrl, config.traceJobs ? { onQuery: countQuery } : {});
  const events = await createSharedJobEvents({ sql: metadata.sql, db: metadata.db, logger });
  const audit = databaseAuditLog(metadata.db, logger);
  const tools = createToolResolver({ runner: nodeProcessRunner, clock: systemClock, pgBinDir: config.pgBinDir });
  // Before anything reaches a target: the key ring, rotation, and the env-managed target (to which
  // first-stage backups and jobs are attached).
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
  const keyDeps = {
    repo: new KeysRepository(metadata.db),
    targets: targetDeps.repo,
    masterKeys: started.keys,
    clock: systemClock,
    audit,
  };
  // Refuses to start when encryption is on with nothing to encrypt to; the CLI only warns (it is the fix).
  await startKeys(keyDeps, config.encryptTo, logger, { strict: role !== 'cli' });
  // The service says it once at its start; a CLI command's output stays its own (built-cli test).
  if (!started.keys.current && role !== 'cli') {
    logger.warn('no master key is configured: manifests are written unsigned');
  }
  const keys = createKeysModule(keyDeps, config.encryptTo);
  const localDestination = await ensureEnvDestination(metadata.db, config.backupDir);
  const destinations = createDestinationsModule({
    repo: new DestinationRepository(metadata.db),
    keys: started.keys,
    clock: systemClock,
    audit,
    storage: {
      local: (directory) => localObjectStorage(directory),
      checkLocal: checkLocalDirectory,
      s3: (settings, credentials) =>
        s3Storage(settings, credentials, { environmentEndpoints: config.s3EnvironmentCredentialEndpoints }),
    },
    environmentEndpoints: config.s3EnvironmentCredentialEndpoints,
    findTarget: (idOrName) => targetDeps.repo.find(idOrName),
  });
  const resealed = await destinations.rotateKeys();
  if (resealed.resealed > 0) {
    logger.info('re-sealed stored destination credentials with the current key', { count: resealed.resealed });
  }
  for (const failed of resealed.failed) {
    logger.warn('stored destination credentials cannot be opened with the configured keys', failed);
  }
  const placement = cachedPlacement({
    // A disabled destination gets no new backups or copies.
    ofTarget: async (targetId) => (await destinations.ofTarget(targetId)).filter((destination) => destination.enabled),
    get: (id) => destinations.get(id),
    enabled: async () => (await destinations.list()).filter((destination) => destination.enabled),
    storage: (id) => destinations.storage(id),
    localId: localDestination.id,
  });
  const configTransfer = new ConfigTransfer(audit);
  configTransfer.register(targetsConfigSection(targetDeps));
  const backupRows = backupsRepository(metadata.db);
  const jobRows = jobsRepository(metadata.db);

  const instance = await registerInstance({
    db: metadata.db,
    connect: metadata.connectSingle,
    clock: systemClock,
    logger,
    role,
  });
  const queue = await startJobQueue({
    url: metadataUrl,
    logger,
    jobTimeoutSeconds: config.jobTimeoutSeconds,
    supervise: role !== 'cli',
  });
  const registry = new HandlerRegistry();
  const lockSessions = reusedLockSessions(metadata.connectSingle, config.workerConcurrency);
  const worker = new JobWorker({
    jobs: jobRows,
    registry,
    targets: targets.connections,
    lockSessions,
    clock: systemClock,
    events,
    audit,
    logger,
    instanceId: instance.id,
    // The tools are looked up when a stall check needs them (bytes stood still), not for every
    // job: most jobs end before their first check, and a lookup is a psql run.
    activityProbe: (target) => async (applicationName) => {
      const prepared = await tools.prepare(target.connection);
      return targetActivityProbe(nodeProcessRunner, prepared.tools.psql, target.connection)(applicationName);
    },
    limits: {
      timeoutSeconds: config.jobTimeoutSeconds,
      stallSeconds: config.stallTimeoutSeconds,
      maxConcurrentJobs: config.maxConcurrentJobs,
      maxJobsPerServer: config.maxJobsPerServer,
    },
    stallCheckMs: Math.min(30_000, (config.stallTimeoutSeconds * 1000) / 4),
    // A failed scheduled backup's retry is planned with its end, once, whichever instance ends it.
    onEnd: planRetryOfEndedJob,
  });
  const jobs = jobsModule({
    db: metadata.db,
    jobs: jobRows,
    registry,
    queue,
    worker,
    events,
    clock: systemClock,
    instanceId: instance.id,
  });
  const identities = new Map<string, Promise<string>>();
  const backupDeps: BackupsDeps = {
    backups: backupRows,
    jobs: jobRows,
    placement,
    copies: copiesRepository(metadata.db),
    leases: copyLeases(metadata.db, instance.id),
    ...(options.copyRetryDelaysSeconds ? { copyRetryDelaysSeconds: options.copyRetryDelaysSeconds } : {}),
    audit,
    runner: nodeProcessRunner,
    clock: systemClock,
    tools,
    targets: targets.connections,
    // The CLI runs the jobs it asks for itself: with no server running (the embedded default)
    // nobody else would, and working the shared queue could make it wait for others' jobs.
    // Scheduled backups say where they run ("any").
    startJob: (request) =>
      jobs.start({ ...request, placement: request.placement ?? (role === 'cli' ? 'here' : 'any') }),
    serverIdentity: (target: ResolvedTarget) => {
      let identity = identities.get(target.id);
      if (!identity) {
        identity = tools
          .prepare(target.connection)
          .then((prepared) => readServerIdentity(nodeProcessRunner, prepared.tools.psql, target.connection));
        identity.catch(() => identities.delete(target.id));
        identities.set(target.id, identity);
      }
      return identity;
    },
    dumpGlobals: (targetId, sink) => targets.dumpGlobals(targetId, sink),
    codec: config.codec,
    compressionLevel: config.compressionLevel,
    expansionLimit: { ...DEFAULT_EXPANSION_LIMIT, ratio: config.maxExpansionRatio },
    restoreSpool: localRestoreSpool(uploadSpoolDir(config.uploadTempDir, instance.id)),
    lockTimeoutSeconds: config.lockTimeoutSeconds,
    jobTimeoutSeconds: config.jobTimeoutSeconds,
    keys,
    // Held no longer than a job may run (plus its wait in the queue).
    identityVault: new IdentityVault((config.jobTimeoutSeconds + 3600) * 1000),
  };
  registerBackupHandlers(registry, backupDeps);
  const backups = backupsModule(backupDeps);
  const scheduleDeps = {
    db: metadata.db,
    queue: queueBackups(metadata.db, backups),
    clock: systemClock,
    audit,
    logger,
  };
  const schedules = createSchedules(scheduleDeps);
  const retentionDeps = {
    db: metadata.db,
    clock: systemClock,
    audit,
    logger,
    deleteCopy: (id: string, destinationId: string, { actor, wholeBackup }: { actor: Actor; wholeBackup: boolean }) =>
      backups.deleteCopy(id, destinationId, actor, { lastCopy: wholeBackup ? 'delete-backup' : 'keep' }),
    localDestinationId: placement.localId,
  };
  const retention = createRetention(retentionDeps);
  // After the targets section: schedules and policies name their targets.
  configTransfer.register(schedulesConfigSection(scheduleDeps));
  configTransfer.register(retentionConfigSection(retentionDeps));
  configTransfer.register(destinationRetentionConfigSection(retentionDeps));
  registerPruneHandler(registry, retention);
  backupDeps.afterBackup = async (targetId) => {
    if (await retention.hasPolicy(targetId)) await jobs.start(pruneRequest(targetId));
  };

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

  const roleSweep = {
    runner: nodeProcessRunner,
    tools,
    targets: targets.connections,
    isJobActive: (jobIdHex: string) => jobRows.isActive(jobIdHex),
    logger,
  };
  const recoveryDeps = {
    db: metadata.db,
    jobs: jobRows,
    worker,
    storageOf: async (partialRef: string) => {
      const { destinationId, ref } = splitRef(partialRef, placement.localId);
      return { storage: await placement.storage(destinationId), ref };
    },
    sweepRestoreRoles: (targetId: string) => sweepLeftoverRestoreRoles(roleSweep, targetId),
    queue,
    clock: systemClock,
    logger,
    instanceId: instance.id,
  };
  for (const job of await recoverInterrupted(recoveryDeps)) {
    logger.warn('marked an interrupted job as failed', { jobId: job.id, kind: job.kind });
  }
  const recovery = startRecovery(recoveryDeps);
  // Uploads spooled by instances that died: no request or job can own them any more.
  await sweepUploadSpools(config.uploadTempDir, (id) => isInstanceGone(metadata.db, id));
  // Owner only, like each instance's spool in it: uploads hold database contents.
  if (role === 'server') await ensurePrivateDirectory(config.uploadTempDir);
  // What restores killed before this start left there (recovery sweeps the targets of those it fails).
  if (started.envTargetId) await sweepLeftoverRestoreRoles(roleSweep, started.envTargetId);
  const run = (jobId: string) => worker.run(jobId);
  await queue.work(instanceQueue(instance.id), config.workerConcurrency, run);
  if (role !== 'cli') await queue.work(SHARED_QUEUE, config.workerConcurrency, run);
  // Every server and worker ticks: a slot is claimed once in the database, whoever ticks first.
  const ticker =
    role === 'cli' || options.scheduleTicker === false
      ? null
      : startScheduleTicker({ db: metadata.db, schedules, targets, clock: systemClock, logger });

  return {
    config,
    role,
    instanceId: instance.id,
    metadataDisplay: parsePgUrl(metadataUrl).display,
    db: metadata.db,
    placement,
    events,
    jobs,
    audit,
    backups,
    schedules,
    retention,
    targets,
    keys,
    destinations,
    configTransfer,
    dashboard: () => dashboard({ db: metadata.db, clock: systemClock }),
    auth,
    liveCredentials: live,
    rateLimiter,
    urlSigner,
    embedded,
    uploadSpoolDir: uploadSpoolDir(config.uploadTempDir, instance.id),
    async close() {
      await ticker?.stop();
      await recovery.stop();
      await worker.stop();
      await queue.stop().catch((error: unknown) => logger.warn('job queue stop', { error: String(error) }));
      await lockSessions.end();
      await instance.stop();
      live.close();
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
