import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkTarStructure } from '../archive/check-tar-structure.js';
import { decodingFailure, feed, pgRestoreOutput, storedDigest } from '../archive/inspect.js';
import { type ArchiveSource, decodedCap, decodedGuard, openContent } from '../archive/source.js';
import { gunzipSqlStages, gzipError } from '../archive/gunzip.js';
import { requireDumpTrailer } from '../archive/require-dump-trailer.js';
import { isArchive } from '../archive/sniff.js';
import type { Clock } from '../clock.js';
import { EngineError } from '../errors.js';
import { abortReason, killOnAbort } from '../pg/abort.js';
import { type TableSize, quoteIdent } from '../pg/catalog.js';
import { type PostDataItem, ROW_COST_BYTES } from '../progress/weights.js';
import type { PgTarget } from '../pg/connection.js';
import type { ProcessRunner, RunningProcess } from '../pg/process.js';
import { classifyToolFailure } from '../pg/tool-errors.js';
import { type PgTools, type PgVersion, supportsRestrict } from '../pg/tools.js';
import { pollCopyProgressInto } from '../progress/copy-progress-poller.js';
import { ProgressTracker, type ProgressSnapshot } from '../progress/progress-tracker.js';
import { parseScriptEchoLine } from '../progress/verbose-lines.js';
import { createPlainSqlGuard, plainSqlGuardStream } from '../sql/plain-sql-guard.js';
import { ChunkBatcher } from '../streams/chunk-batcher.js';
import { DigestStream } from '../streams/digest.js';
import { LineTail, forEachLine } from '../streams/lines.js';
import {
  type BlockingSession,
  type LockWait,
  TARGET_BUSY_MARKER,
  TERMINATED_MARKER,
  lockTargetSql,
  parseSessionsAfter,
} from './lock-target.js';
import { restoreLists } from './preflight.js';
import { resetDatabaseSql } from './reset-database.js';

export interface RestoreOptions {
  /** Skip ALTER ... OWNER: for targets that lack the backup's roles. */
  noOwner: boolean;
  /** Skip GRANT/REVOKE: same reason. */
  noPrivileges: boolean;
}

export interface RestoreRequest {
  runner: ProcessRunner;
  clock: Clock;
  tools: PgTools;
  /** The session the restore logs in as: the owner connection, or a short-lived restore role. */
  target: PgTarget;
  /** The database's owner: the script runs as this role (SET ROLE), never as more. */
  owner: string;
  serverVersion: PgVersion;
  /**
   * sha256: the stored bytes the plan was made for; contentSha256: pg_dump's output they hold.
   * Anything else rolls back before COMMIT.
   */
  source: RestoreSourceInput;
  options: RestoreOptions;
  /** Table sizes stored with the backup, to weight progress; empty for foreign files. */
  tables: readonly TableSize[];
  /** The archive's post-data steps (readPostDataItems), or only their number when nothing weighs them. */
  postDataItems: number | readonly PostDataItem[];
  signal: AbortSignal;
  onProgress: (snapshot: ProgressSnapshot) => void;
  /** How often the server's COPY progress is read (default 250 ms). */
  copyPollIntervalMs?: number;
  /** How the restore takes its locks without making the application queue behind it. */
  lockWait: LockWait;
  /** Archive entries the pre-flight left out (skipUnrestorable). */
  skipDumpIds?: readonly number[];
  /** The psql session's application_name, so the service can find it on the server (stall detection). */
  applicationName?: string;
}

export interface RestoreSourceInput extends ArchiveSource {
  sha256?: string;
  contentSha256?: string | null;
}

export interface RestoreResult {
  durationMs: number;
  /** Sessions terminated because they held locks the restore needed (terminateBlockers). */
  terminatedSessions: BlockingSession[];
}

/**
 * Replaces the target's whole content in one transaction:
 *
 *   \restrict KEY; BEGIN; reset; <pg_restore script or plain SQL, guarded>; COMMIT;
 *
 * streamed into one psql with ON_ERROR_STOP. psql stops at the first error and
 * its session ends, so the server rolls everything back: the database is either
 * wholly the backup or exactly as before. COMMIT is written only after the
 * source was read completely and its producer exited cleanly.
 */
export async function runRestore(request: RestoreRequest): Promise<RestoreResult> {
  const started = request.clock.now();
  if (request.signal.aborted) throw abortReason(request.signal);
  if (!supportsRestrict(request.tools.version)) {
    throw new EngineError(
      'pg/version-mismatch',
      `psql ${request.tools.version.text} cannot run restores safely (it lacks \\restrict). Install client tools 15.14, 16.10, 17.6 or newer.`,
    );
  }
  // pg_restore spins forever on a truncated tar: refuse it before anything runs.
  if (request.source.format === 'tar') await checkTarStructure(await openContent(request.source));
  const tracker = new ProgressTracker({
    tables: request.tables,
    rowCostBytes: ROW_COST_BYTES.restore,
    postDataItems: request.postDataItems,
    inputBytes: request.source.sizeBytes,
    clock: request.clock,
    onSnapshot: request.onProgress,
  });
  const applicationName = request.applicationName ?? `pgbs-restore-${process.pid}`;
  // --echo-all: psql echoes each statement just before running it, so the script's
  // "-- Name: ...; Type: ..." headers time the work as the server does it (pg_restore's own
  // stderr runs ahead by the whole post-data section). COPY data is never echoed. The last
  // header also says which entry failed. (--echo-errors would replace --echo-all: one ECHO.)
  const psql = request.runner.spawn(
    request.tools.psql,
    ['--no-psqlrc', '--quiet', '--echo-all', '-v', 'ON_ERROR_STOP=1', '-f', '-'],
    { env: { ...request.target.env, PGAPPNAME: applicationName } },
  );
  const poller = pollCopyProgressInto(request, applicationName, tracker);
  let currentEntry: string | undefined;
  const echo = forEachLine(psql.stdout, (line) => {
    const event = parseScriptEchoLine(line);
    if (!event) return;
    currentEntry = line.replace(/^--\s*/, '').replace(/; Owner: .*$/, '');
    tracker.handle(event);
  });
  const psqlErrors = new LineTail(40);
  const terminatedSessions: BlockingSession[] = [];
  const psqlStderr = forEachLine(psql.stderr, (line) => {
    const terminated = parseSessionsAfter(TERMINATED_MARKER, line);
    if (terminated) terminatedSessions.push(...terminated);
    else psqlErrors.push(line);
  });

  const archive = isArchive(request.source.format);
  const input = new DigestStream((bytes) => tracker.setBytes(bytes), { roomy: false });
  // Into pg_restore, a few MB of slack let the decompressor run on while pg_restore reads: with
  // 16 KB it waited after each 1 MB it wrote until pg_restore took it. Plain SQL goes to psql,
  // whose progress this counts: small there.
  const content = new DigestStream(undefined, { roomy: archive });
  const listDir = archive ? await mkdtemp(path.join(tmpdir(), 'pgbs-restore-list-')) : null;
  const producer = await startProducer(request, { input, content }, listDir);
  const children = producer.child ? [psql, producer.child] : [psql];
  const detach = killOnAbort(request.signal, children);

  const key = randomBytes(24).toString('hex');
  async function* script(): AsyncGenerator<Buffer> {
    // Our own \restrict first: from here on psql refuses every meta-command. Then the owner's
    // rights: the restored SQL may RESET ROLE, which only returns to a login that is no more.
    // The service's own statements run with a search_path no role can plant functions in.
    yield Buffer.from(
      `\\restrict ${key}
SET search_path = pg_catalog, pg_temp;
SET ROLE ${quoteIdent(request.owner)};
BEGIN;
${lockTargetSql(request.lockWait)}${resetDatabaseSql(request.lockWait.attemptMs, request.serverVersion.major)}RESET search_path;
`,
    );
    for await (const chunk of producer.body) yield chunk as Buffer;
    await producer.done();
    checkDigest('file', request.source.sha256, input);
    checkDigest('content', request.source.contentSha256, content);
    // From here a cancel can no longer be honoured exactly (the COMMIT may already be done
    // when psql dies), so it is not attempted: the job then reports what really happened.
    detach();
    yield Buffer.from('\nCOMMIT;\n');
  }

  try {
    const fed = await pipeline(Readable.from(script()), psql.stdin).then(
      () => null,
      (error: unknown) => error,
    );
    if (fed !== null) {
      // Stop psql before it can see end-of-input: no COMMIT was sent, so nothing commits.
      psql.kill('SIGKILL');
      producer.child?.kill('SIGKILL');
    }
    const [exit] = await Promise.all([psql.exit, psqlStderr, echo]);
    // Exit 0 means every statement, our COMMIT included, succeeded: the restore happened.
    if (exit.code === 0 && fed === null) {
      tracker.finish();
      return { durationMs: request.clock.now() - started, terminatedSessions };
    }
    if (request.signal.aborted) throw abortReason(request.signal);
    // psql stopped at an SQL error; its stdin then broke, so its words explain `fed` too.
    if (exit.code !== null && exit.code !== 0) throw restoreFailure(psqlErrors.all(), currentEntry);
    throw fed ?? restoreFailure(psqlErrors.all(), currentEntry);
  } finally {
    poller.stop();
    detach();
    for (const child of children) child.kill('SIGKILL');
    tracker.dispose();
    if (listDir) await rm(listDir, { recursive: true, force: true });
  }
}

/** A digest that differs from the one the restore was planned for: nothing commits. */
function checkDigest(what: 'file' | 'content', expected: string | null | undefined, read: DigestStream): void {
  if (!expected || read.sha256() === expected) return;
  const which =
    what === 'file' ? 'The file changed while it was restored' : "The backup's content is not what was dumped";
  throw new EngineError(
    'backup/checksum-mismatch',
    `${which} (expected SHA-256 ${expected.slice(0, 12)}…, read ${read.sha256().slice(0, 12)}…). Nothing was changed: the restore was rolled back.`,
    { digest: what },
  );
}

interface Producer {
  body: Readable;
  child?: RunningProcess;
  /** Resolves when the source was produced completely; rejects with a coded error otherwise. */
  done(): Promise<void>;
}

/** The guarded SQL text: pg_restore's script for archives, the file itself for plain SQL. */
async function startProducer(
  request: RestoreRequest,
  digests: { input: DigestStream; content: DigestStream },
  listDir: string | null,
): Promise<Producer> {
  const source = storedDigest(request.source, digests.input);
  if (request.source.format === 'plain' || request.source.format === 'plain-gzip') {
    // No pg_restore in between: the guard leaves out what pg_restore -O / -x would.
    const guard = plainSqlGuardStream({ owner: request.owner, ...request.options });
    const stages =
      request.source.format === 'plain-gzip' ? gunzipSqlStages(decodedCap(source), source.expansionLimit) : [];
    const complete = requireDumpTrailer();
    const flowing = pipeline([await openContent(source), ...stages, digests.content, guard, complete]).catch(
      (error: unknown) => {
        throw gzipError(error);
      },
    );
    // The last stage is the body; errors surface through its iteration and through done().
    flowing.catch(() => {});
    return { body: complete, done: () => flowing };
  }
  const guard: Transform = plainSqlGuardStream({ owner: request.owner });
  const args = ['--file', '-'];
  if (request.options.noOwner) args.push('--no-owner');
  if (request.options.noPrivileges) args.push('--no-privileges');
  let schemas = '';
  if (listDir) {
    // Schemas with their ACLs first, from the TOC alone, then everything else in one stream: as the
    // owner, ALTER ... OWNER TO another role needs that role's CREATE on the schema, which
    // pg_restore would grant only in its last pass (a superuser needs none). Both short passes
    // read only the archive's head.
    const short = { runner: request.runner, tools: request.tools, source: request.source, signal: request.signal };
    const lists = restoreLists(await pgRestoreOutput(short, ['--list']), request.skipDumpIds ?? []);
    const [first, rest] = [path.join(listDir, 'schemas.list'), path.join(listDir, 'rest.list')];
    await writeFile(first, lists.schemas, { mode: 0o600 });
    await writeFile(rest, lists.rest, { mode: 0o600 });
    const script = await pgRestoreOutput(short, [...args, '--use-list', first]);
    const schemaGuard = createPlainSqlGuard({ owner: request.owner });
    schemas = Buffer.concat([schemaGuard.push(Buffer.from(script)), schemaGuard.end()]).toString();
    args.push('--use-list', rest);
  }
  // In order, from stdin: custom archives this service wrote need no seeking (the caller spools
  // the others to a local file first).
  const child = request.runner.spawn(request.tools.pgRestore, args);
  const stderr = new LineTail(60);
  const reading = forEachLine(child.stderr, (line) => stderr.push(line));
  const feeding = feed(source, [digests.content], child.stdin);
  // The archive's own compression (pg_dump -Z9) is capped too: its script may not grow past what
  // its stored size allows, or a bomb would fill the target before the transaction rolls back.
  const cap = decodedGuard(request.source);
  const output = pipeline(child.stdout, new ChunkBatcher(), cap, guard);
  output.catch(() => {});
  return {
    body: schemas ? Readable.from(prepend(Buffer.from(schemas), guard)) : guard,
    child,
    async done() {
      const [exit, , fed] = await Promise.all([child.exit, reading, feeding, output]);
      const failure = decodingFailure(fed);
      if (failure) throw failure;
      if (exit.code !== 0) throw classifyToolFailure('pg_restore', stderr.all(), 'archive/corrupt');
    },
  };
}

async function* prepend(first: Buffer, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  yield* rest;
}

/** psql's words for the failed statement, mapped to a code a user can act on. */
function restoreFailure(stderr: readonly string[], entry: string | undefined): EngineError {
  const blockers = stderr.map((line) => parseSessionsAfter(TARGET_BUSY_MARKER, line)).find(Boolean);
  if (blockers) {
    const named = blockers
      .map((b) => `pid ${b.pid}${b.user ? ` (${b.user}${b.application ? `, ${b.application}` : ''})` : ''}`)
      .join('; ');
    return new EngineError(
      'restore/target-busy',
      `The target database is busy: ${named || 'other sessions'} hold locks the restore needs. Nothing was changed. Retry when they are done, or let the restore terminate them (terminate-blockers).`,
      { blockers },
    );
  }
  const error = classifyToolFailure('psql', stderr, 'restore/failed');
  const lockTimeout = stderr.some((line) => /canceling statement due to lock timeout/.test(line));
  const where = entry ? ` While restoring ${entry}.` : '';
  const message = lockTimeout
    ? `The target database is busy: other sessions hold locks the restore needs. (${String(error.details.detail)})`
    : error.message;
  return new EngineError(error.code, `${message}${where} Nothing was changed: the restore was rolled back.`, {
    ...error.details,
    entry,
    lockTimeout,
  });
}
