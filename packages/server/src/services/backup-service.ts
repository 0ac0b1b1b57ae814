import { randomUUID } from 'node:crypto';
import { type SQL, and, desc, eq, gte, ilike, inArray, lt, or, sql as rawSql } from 'drizzle-orm';
import {
  type ArchiveFormat,
  type BackupFormat,
  type Clock,
  EngineError,
  type PgTarget,
  type Prepared,
  type ProcessRunner,
  type ProgressSnapshot,
  type RestoreOptions,
  type TargetRole,
  type ToolResolver,
  checkRestore,
  extensionFor,
  inspectRestore,
  inspectArchive,
  readArchiveSummary,
  readPostDataItems,
  readTargetRole,
  isArchive,
  isEngineError,
  restoreDatabase,
  runBackup,
} from '@pgbs/engine';
import type { AuditLog } from '../audit/audit-log.js';
import type { MetadataDb } from '../db/client.js';
import { isUuid } from '../ids.js';
import { type BackupRow, type JobRow, backups, jobs } from '../db/schema.js';
import { ACTIVE_STATES, type JobContext, type JobRunner, type StartedJob } from '../jobs/job-runner.js';
import type { BackupStorage } from '../storage/local-storage.js';
import type { BackupManifest } from '../storage/manifest.js';

export type BackupOrigin = 'manual' | 'upload' | 'pre-restore-snapshot';

export interface BackupServiceDeps {
  db: MetadataDb;
  storage: BackupStorage;
  jobs: JobRunner;
  audit: AuditLog;
  runner: ProcessRunner;
  clock: Clock;
  tools: ToolResolver;
  target: PgTarget;
  compressionLevel?: number;
  lockTimeoutSeconds: number;
  jobTimeoutSeconds: number;
}

export interface Actor {
  /** Who asked (an email, "cli:<user>"); null for the system. */
  name: string | null;
  address?: string | null;
}

export interface RestoreRequestInput {
  /** A stored backup, or a file on this machine (validated first); `label` names it in descriptions and the audit log. */
  source: { backupId: string } | { filePath: string; label?: string };
  /** Must equal the target database's name. */
  confirmation: string;
  options: RestoreChoices;
}

export interface RestoreChoices extends RestoreOptions {
  safetySnapshot: boolean;
  /** Leave out what the owner's rights cannot create, and leave in place what they cannot drop. */
  skipUnrestorable?: boolean;
  /** The backup is of another database: restore it here all the same. */
  acceptSourceMismatch?: boolean;
  /** Terminate the sessions that hold locks the restore needs, instead of failing target-busy. */
  terminateBlockers?: boolean;
}

export type ArchiveContents = Awaited<ReturnType<typeof readArchiveSummary>>;

export interface BackupFilter {
  /** Part of the file name or the description, any case. */
  search?: string | null;
  origin?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

/** LIKE's wildcards and escape taken literally. */
export const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

function backupFilter(filter: BackupFilter): SQL | undefined {
  const conditions: (SQL | undefined)[] = [];
  const search = filter.search?.trim();
  if (search) {
    const pattern = `%${likeLiteral(search)}%`;
    conditions.push(or(ilike(backups.fileName, pattern), ilike(backups.description, pattern)));
  }
  if (filter.origin) conditions.push(eq(backups.origin, filter.origin));
  if (filter.createdAfter) conditions.push(gte(backups.createdAt, filter.createdAfter));
  if (filter.createdBefore) conditions.push(lt(backups.createdAt, filter.createdBefore));
  return and(...conditions);
}

const MAX_DESCRIPTION = 500;
/** Share of a restore job's progress bar taken by its safety snapshot. */
const SNAPSHOT_SHARE = 0.3;
/** How long one attempt at the restore's locks may make application queries wait behind it. */
const LOCK_ATTEMPT_MS = 1000;

export class BackupService {
  constructor(private readonly deps: BackupServiceDeps) {}

  get targetDatabase(): string {
    return this.deps.target.database;
  }

  async list(options: { limit?: number; offset?: number } & BackupFilter = {}): Promise<BackupRow[]> {
    return this.deps.db
      .select()
      .from(backups)
      .where(backupFilter(options))
      .orderBy(desc(backups.createdAt))
      .limit(Math.min(options.limit ?? 50, 500))
      .offset(options.offset ?? 0);
  }

  async count(filter: BackupFilter = {}): Promise<number> {
    const [row] = await this.deps.db
      .select({ n: rawSql<number>`count(*)::int` })
      .from(backups)
      .where(backupFilter(filter));
    return row?.n ?? 0;
  }

  /** The job that wrote the backup: its backup job, or the restore it is the safety snapshot of. */
  async madeBy(backup: BackupRow): Promise<JobRow | null> {
    const [job] = await this.deps.db
      .select()
      .from(jobs)
      .where(
        backup.origin === 'pre-restore-snapshot'
          ? rawSql`${jobs.params}->>'safetySnapshotId' = ${backup.id}`
          : and(eq(jobs.kind, 'backup'), eq(jobs.backupId, backup.id)),
      )
      .limit(1);
    return job ?? null;
  }

  async get(id: string): Promise<BackupRow> {
    const row = isUuid(id) ? (await this.deps.db.select().from(backups).where(eq(backups.id, id)))[0] : undefined;
    if (!row) throw new EngineError('backup/not-found', `No backup with id ${id}.`);
    return row;
  }

  /** The target's server version and the client tools that would be used (a coded error if none fits). */
  versions(): Promise<Prepared> {
    return this.deps.tools.prepare(this.deps.target);
  }

  /** What an archive holds (from its TOC); null for plain SQL, which has no TOC. */
  async contents(backup: BackupRow): Promise<ArchiveContents | null> {
    if (!isArchive(backup.format as ArchiveFormat)) return null;
    await this.requireFile(backup);
    const prepared = await this.deps.tools.prepare(this.deps.target);
    return readArchiveSummary(
      this.inspectRequest(this.deps.storage.pathOf(backup.fileName), prepared, AbortSignal.timeout(60_000)),
    );
  }

  async createBackup(input: { description?: string; format?: BackupFormat }, actor: Actor): Promise<StartedJob> {
    const description = validDescription(input.description);
    const format = input.format ?? 'custom';
    const prepared = await this.deps.tools.prepare(this.deps.target);
    return this.deps.jobs.start(
      {
        kind: 'backup',
        params: { format, description, target: this.deps.target.display },
        requestedBy: actor.name,
        target: this.deps.target.display,
        lock: 'shared',
        onFinished: (job) => this.auditJob(actor, 'backup.create', job, job.backupId, { format }),
      },
      async (context) => {
        await this.dumpToStorage(context, prepared, { format, description, origin: 'manual' }, actor, (s) =>
          context.progress({ ...s }),
        );
      },
    );
  }

  /** Who the service connects to the target as. */
  connectionRole(prepared: Prepared): Promise<TargetRole> {
    return readTargetRole(this.deps.runner, prepared.tools.psql, this.deps.target);
  }

  /** What a restore of this backup would do here, for showing before the confirmation. */
  async restoreCheck(backupId: string, options: Pick<RestoreChoices, 'noOwner'>) {
    const prepared = await this.deps.tools.prepare(this.deps.target);
    const source = await this.restoreSource({ backupId }, prepared);
    const check = await inspectRestore(
      this.checkRequest(prepared, source, { ...options, skipUnrestorable: false, terminateBlockers: false }),
    );
    return {
      mode: check.mode,
      role: check.role,
      sourceDatabase: source.databaseName,
      targetDatabase: this.deps.target.database,
      unrestorable: check.plan.unrestorable,
    };
  }

  async restore(input: RestoreRequestInput, actor: Actor): Promise<StartedJob> {
    if (input.confirmation !== this.deps.target.database) {
      throw new EngineError(
        'restore/confirmation-mismatch',
        `Type the target database's name ("${this.deps.target.database}") to confirm the restore. Nothing was changed.`,
      );
    }
    const prepared = await this.deps.tools.prepare(this.deps.target);
    const source = await this.restoreSource(input.source, prepared);
    if (
      source.databaseName &&
      source.databaseName !== this.deps.target.database &&
      !input.options.acceptSourceMismatch
    ) {
      throw new EngineError(
        'restore/source-mismatch',
        `The backup is of database "${source.databaseName}", not of "${this.deps.target.database}": restoring it replaces "${this.deps.target.database}" with another database's content. Acknowledge the mismatch to restore it all the same. Nothing was changed.`,
        { sourceDatabase: source.databaseName, targetDatabase: this.deps.target.database },
      );
    }
    // Before any job exists: a restore that cannot run as the owner, or would hit what the
    // owner's rights cannot do, is refused here with the list.
    await checkRestore(this.checkRequest(prepared, source, input.options));
    let outcome: { terminatedSessions: unknown[]; skipped: number; mode: string; leftoverRole: string | null } | null =
      null;
    const params = {
      target: this.deps.target.display,
      options: input.options,
      ...('filePath' in input.source ? { file: input.source.filePath } : {}),
    };
    return this.deps.jobs.start(
      {
        kind: 'restore',
        params,
        backupId: source.backupId,
        requestedBy: actor.name,
        target: this.deps.target.display,
        lock: 'exclusive',
        onFinished: (job) =>
          this.auditJob(actor, 'backup.restore', job, source.backupId, {
            source: source.label,
            options: input.options,
            ...outcome,
          }),
      },
      async (context) => {
        let share = 0;
        if (input.options.safetySnapshot) {
          share = SNAPSHOT_SHARE;
          // Named in the job's params (dumpToStorage), whatever the restore's outcome: whoever
          // started it is told where to go back to.
          await this.dumpToStorage(
            context,
            prepared,
            { format: 'custom', description: `Before restoring ${source.label}`, origin: 'pre-restore-snapshot' },
            actor,
            (s) => context.progress({ ...s, phase: 'snapshot', percent: round(s.percent * share), etaSeconds: null }),
          );
        }
        const result = await restoreDatabase({
          ...this.checkRequest(prepared, source, input.options),
          clock: this.deps.clock,
          serverVersion: prepared.serverVersion,
          jobId: context.jobId,
          // The short-lived login of a superuser connection outlives no job.
          roleValidForSeconds: this.deps.jobTimeoutSeconds + 300,
          source: { path: source.path, format: source.format, sizeBytes: source.sizeBytes, sha256: source.sha256 },
          options: { noOwner: input.options.noOwner, noPrivileges: input.options.noPrivileges },
          tables: source.tables,
          postDataItems: source.postDataItems,
          signal: context.signal,
          lockWait: {
            totalSeconds: this.deps.lockTimeoutSeconds,
            attemptMs: LOCK_ATTEMPT_MS,
            terminateBlockers: input.options.terminateBlockers ?? false,
          },
          onProgress: (s) => context.progress({ ...s, percent: round(share * 100 + s.percent * (1 - share)) }),
        });
        outcome = {
          mode: result.mode,
          terminatedSessions: result.terminatedSessions,
          // Could not be dropped (it can no longer log in); the next start sweeps it again.
          leftoverRole: result.leftoverRole,
          skipped: result.plan.unrestorable.length,
        };
      },
    );
  }

  private checkRequest(
    prepared: Prepared,
    source: { path: string; format: ArchiveFormat },
    options: Pick<RestoreChoices, 'noOwner' | 'skipUnrestorable' | 'terminateBlockers'>,
  ) {
    return {
      runner: this.deps.runner,
      tools: prepared.tools,
      signal: AbortSignal.timeout(10 * 60_000),
      connection: this.deps.target,
      source: { path: source.path, format: source.format },
      noOwner: options.noOwner,
      skipUnrestorable: options.skipUnrestorable ?? false,
      terminateBlockers: options.terminateBlockers ?? false,
    };
  }

  /**
   * Stores an uploaded file as a backup (origin "upload") once it is validated completely: format,
   * compression, table of contents, unsafe SQL. The file is moved into storage, not copied.
   */
  async importUpload(
    path: string,
    input: { description?: string; originalName: string },
    actor: Actor,
  ): Promise<BackupRow> {
    const audit = (outcome: 'succeeded' | 'failed', subjectId: string | null, details: Record<string, unknown>) =>
      this.deps.audit.record({
        actor: actor.name,
        address: actor.address,
        action: 'backup.upload',
        outcome,
        subjectId,
        details: { originalName: input.originalName, ...details },
      });
    try {
      const description = validDescription(input.description) || `Upload of ${input.originalName}`;
      const prepared = await this.deps.tools.prepare(this.deps.target);
      const summary = await inspectArchive(this.inspectRequest(path, prepared));
      const id = randomUUID();
      const manifest: BackupManifest = {
        manifestVersion: 1,
        id,
        fileName: backupFileName(this.deps.clock.now(), summary.databaseName ?? 'upload', id, summary.format),
        description,
        format: summary.format,
        sizeBytes: summary.sizeBytes,
        sha256: summary.sha256,
        serverVersion: summary.sourceServerVersion,
        clientVersion: summary.pgDumpVersion,
        databaseName: summary.databaseName,
        durationMs: null,
        tableCount: isArchive(summary.format) ? summary.tables.length : null,
        tableSizes: [],
        origin: 'upload' satisfies BackupOrigin,
        createdBy: actor.name,
        createdAt: new Date(this.deps.clock.now()).toISOString(),
      };
      await this.deps.storage.importFile(path, manifest);
      const [row] = (await this.deps.db.insert(backups).values(rowFromManifest(manifest)).returning()) as [BackupRow];
      await audit('succeeded', id, {
        fileName: manifest.fileName,
        format: manifest.format,
        sizeBytes: manifest.sizeBytes,
      });
      return row;
    } catch (error) {
      await audit('failed', null, { errorCode: isEngineError(error) ? error.code : 'internal' });
      throw error;
    }
  }

  /**
   * Restores an uploaded file after validating it. The file must stay until the job has ended
   * (the caller deletes it then). A refused upload is audited: it may be an attack.
   */
  async restoreUpload(
    path: string,
    input: Omit<RestoreRequestInput, 'source'> & { originalName: string },
    actor: Actor,
  ): Promise<StartedJob> {
    const label = `upload ${input.originalName}`;
    try {
      return await this.restore(
        { source: { filePath: path, label }, confirmation: input.confirmation, options: input.options },
        actor,
      );
    } catch (error) {
      await this.deps.audit.record({
        actor: actor.name,
        address: actor.address,
        action: 'backup.restore',
        outcome: 'failed',
        details: { source: label, errorCode: isEngineError(error) ? error.code : 'internal' },
      });
      throw error;
    }
  }

  /** Re-reads the whole file: checksum and size against the catalog, and every archive block. */
  async verify(id: string, actor: Actor): Promise<StartedJob> {
    const backup = await this.get(id);
    const prepared = await this.deps.tools.prepare(this.deps.target);
    return this.deps.jobs.start(
      {
        kind: 'verify',
        params: { target: this.deps.target.display },
        backupId: id,
        requestedBy: actor.name,
        target: `verify:${id}`,
        lock: 'shared',
        onFinished: (job) => this.auditJob(actor, 'backup.verify', job, id, {}),
      },
      async (context) => {
        let status: 'ok' | 'failed' = 'failed';
        try {
          await this.requireFile(backup);
          const summary = await inspectArchive(
            this.inspectRequest(this.deps.storage.pathOf(backup.fileName), prepared, context.signal),
          );
          if (summary.sha256 !== backup.sha256 || summary.sizeBytes !== backup.sizeBytes) {
            throw new EngineError(
              'backup/checksum-mismatch',
              `The file no longer matches its checksum (expected ${backup.sha256.slice(0, 12)}…, found ${summary.sha256.slice(0, 12)}…): it was changed or damaged on disk.`,
            );
          }
          status = 'ok';
        } finally {
          if (!context.signal.aborted) {
            await this.deps.db
              .update(backups)
              .set({ verifyStatus: status, verifiedAt: new Date(this.deps.clock.now()) })
              .where(eq(backups.id, id));
          }
        }
      },
    );
  }

  async delete(id: string, actor: Actor): Promise<BackupRow> {
    const backup = await this.get(id);
    const [active] = await this.deps.db
      .select({ id: jobs.id, kind: jobs.kind })
      .from(jobs)
      .where(and(eq(jobs.backupId, id), inArray(jobs.state, ACTIVE_STATES)));
    if (active) {
      throw new EngineError('backup/in-use', `The backup is in use by a running ${active.kind} job (${active.id}).`);
    }
    await this.deps.db.delete(backups).where(eq(backups.id, id));
    await this.deps.storage.remove(backup.fileName);
    await this.deps.audit.record({
      actor: actor.name,
      address: actor.address,
      action: 'backup.delete',
      outcome: 'succeeded',
      subjectId: id,
      details: { fileName: backup.fileName },
    });
    return backup;
  }

  /** Rebuilds the catalog from the manifests in storage (after losing the metadata database). */
  async rescan(actor: Actor): Promise<{ added: string[]; removed: string[]; unreadable: string[] }> {
    const { manifests, unreadable } = await this.deps.storage.listManifests();
    const added: string[] = [];
    for (const manifest of manifests) {
      if (!(await this.deps.storage.exists(manifest.fileName))) {
        unreadable.push(manifest.fileName);
        continue;
      }
      const inserted = await this.deps.db
        .insert(backups)
        .values(rowFromManifest(manifest))
        .onConflictDoNothing()
        .returning({ id: backups.id });
      if (inserted.length > 0) added.push(manifest.id);
    }
    const removed: string[] = [];
    for (const row of await this.deps.db.select().from(backups)) {
      if (!(await this.deps.storage.exists(row.fileName))) {
        await this.deps.db.delete(backups).where(eq(backups.id, row.id));
        removed.push(row.id);
      }
    }
    await this.deps.audit.record({
      actor: actor.name,
      address: actor.address,
      action: 'backup.rescan',
      outcome: 'succeeded',
      details: { added: added.length, removed: removed.length, unreadable },
    });
    return { added, removed, unreadable };
  }

  private auditJob(
    actor: Actor,
    action: string,
    job: JobRow,
    subjectId: string | null,
    details: Record<string, unknown>,
  ): Promise<void> {
    return this.deps.audit.record({
      actor: actor.name,
      address: actor.address,
      action,
      outcome: job.state === 'succeeded' || job.state === 'cancelled' ? job.state : 'failed',
      subjectId,
      details: { ...details, jobId: job.id, state: job.state, errorCode: job.errorCode },
    });
  }

  /** pg_dump into a partial file, then manifest + catalog row; nothing is kept on failure. */
  private async dumpToStorage(
    context: JobContext,
    prepared: Prepared,
    input: { format: BackupFormat; description: string; origin: BackupOrigin },
    actor: Actor,
    onProgress: (snapshot: ProgressSnapshot) => void,
  ): Promise<BackupRow> {
    const tables = await this.deps.tools.tableSizes(this.deps.target, prepared.tools);
    const id = randomUUID();
    const format: ArchiveFormat = input.format === 'custom' ? 'custom' : 'plain-gzip';
    const fileName = backupFileName(this.deps.clock.now(), this.deps.target.database, id, format);
    const partial = await this.deps.storage.createPartial(fileName);
    await context.setPartialPath(partial.path);
    try {
      const result = await runBackup({
        runner: this.deps.runner,
        clock: this.deps.clock,
        tools: prepared.tools,
        target: this.deps.target,
        format: input.format,
        compressionLevel: this.deps.compressionLevel,
        tables,
        sink: partial.stream,
        signal: context.signal,
        onProgress,
        lockWaitTimeoutSeconds: this.deps.lockTimeoutSeconds,
        applicationName: `pgbs-backup-${context.jobId.slice(0, 8)}`,
      });
      const manifest: BackupManifest = {
        manifestVersion: 1,
        id,
        fileName,
        description: input.description,
        format,
        sizeBytes: result.bytes,
        sha256: result.sha256,
        serverVersion: prepared.serverVersion.text,
        clientVersion: prepared.tools.version.text,
        databaseName: this.deps.target.database,
        durationMs: result.durationMs,
        tableCount: result.tableCount,
        tableSizes: tables,
        origin: input.origin,
        createdBy: actor.name,
        createdAt: new Date(this.deps.clock.now()).toISOString(),
        omitted: result.omitted,
      };
      await partial.commit(manifest);
      // From here the backup exists (file and manifest): recording it must survive a restart of the
      // metadata database, so the writes are idempotent and retried.
      const row = await context.record(async () => {
        await this.deps.db.insert(backups).values(rowFromManifest(manifest)).onConflictDoNothing();
        // A restore job's backupId is its source, so its snapshot is named in its params.
        const link =
          input.origin === 'pre-restore-snapshot'
            ? { params: rawSql`${jobs.params} || ${JSON.stringify({ safetySnapshotId: id })}::jsonb` }
            : { backupId: id };
        await this.deps.db.update(jobs).set(link).where(eq(jobs.id, context.jobId));
        return (await this.deps.db.select().from(backups).where(eq(backups.id, id)))[0]!;
      });
      // The file is no longer partial. Best effort: the job's end clears it anyway, and the backup
      // is recorded already.
      await context.setPartialPath(null).catch(() => {});
      return row;
    } catch (error) {
      await partial.abort();
      throw error;
    }
  }

  /** For reading a file before anything is stored or restored (outside a job, so with its own bound). */
  private inspectRequest(path: string, prepared: Prepared, signal = AbortSignal.timeout(10 * 60_000)) {
    return { runner: this.deps.runner, tools: prepared.tools, path, signal };
  }

  private async restoreSource(source: RestoreRequestInput['source'], prepared: Prepared) {
    if ('backupId' in source) {
      const backup = await this.get(source.backupId);
      await this.requireFile(backup);
      const path = this.deps.storage.pathOf(backup.fileName);
      const format = backup.format as ArchiveFormat;
      const postDataItems = isArchive(format)
        ? await readPostDataItems(this.inspectRequest(path, prepared), backup.tableSizes)
        : 0;
      return {
        backupId: backup.id,
        label: `backup ${backup.fileName}`,
        path,
        format,
        sha256: backup.sha256,
        databaseName: backup.databaseName,
        sizeBytes: backup.sizeBytes,
        tables: backup.tableSizes,
        postDataItems,
      };
    }
    // A file from outside: validated completely before anything runs.
    const summary = await inspectArchive(this.inspectRequest(source.filePath, prepared));
    return {
      backupId: null,
      label: source.label ?? `file ${source.filePath}`,
      path: source.filePath,
      format: summary.format,
      sha256: summary.sha256,
      databaseName: summary.databaseName,
      sizeBytes: summary.sizeBytes,
      tables: [],
      postDataItems: summary.postDataItems,
    };
  }

  private async requireFile(backup: BackupRow): Promise<void> {
    if (!(await this.deps.storage.exists(backup.fileName))) {
      throw new EngineError(
        'backup/file-missing',
        `The file of backup ${backup.id} (${backup.fileName}) is missing from ${this.deps.storage.location}.`,
      );
    }
  }
}

function validDescription(raw: string | undefined): string {
  const description = (raw ?? '').trim();
  if (description.length > MAX_DESCRIPTION) {
    throw new EngineError('input/invalid', `The description is longer than ${MAX_DESCRIPTION} characters.`);
  }
  return description;
}

/** Generated from time, database and id: user text never becomes a path. */
export function backupFileName(now: number, database: string, id: string, format: ArchiveFormat): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\..*$/, 'Z');
  const safeDb = database.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40) || 'db';
  return `${stamp}-${safeDb}-${id.slice(0, 8)}${extensionFor(format)}`;
}

function rowFromManifest(manifest: BackupManifest): typeof backups.$inferInsert {
  return {
    id: manifest.id,
    fileName: manifest.fileName,
    description: manifest.description,
    format: manifest.format,
    sizeBytes: manifest.sizeBytes,
    sha256: manifest.sha256,
    serverVersion: manifest.serverVersion,
    clientVersion: manifest.clientVersion,
    databaseName: manifest.databaseName,
    durationMs: manifest.durationMs,
    tableCount: manifest.tableCount,
    tableSizes: manifest.tableSizes,
    origin: manifest.origin,
    createdBy: manifest.createdBy,
    createdAt: new Date(manifest.createdAt),
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
