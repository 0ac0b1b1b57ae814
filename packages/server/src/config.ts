import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODECS, type Codec, DEFAULT_EXPANSION_LIMIT, DEFAULT_ZSTD_LEVEL } from '@pgbs/engine';

export interface Config {
  /**
   * METADATA_DATABASE_URL set: use that server, with DATABASE_URL (if set) as an env-managed target.
   * Neither set: run an embedded PostgreSQL under dataDir.
   */
  databases:
    { mode: 'external'; targetUrl: string | undefined; metadataUrl: string } | { mode: 'embedded'; port: number };
  /**
   * The key ring that seals stored target passwords (modules/targets/key-ring.ts): MASTER_KEY
   * (base64 keys, comma-separated, the first is current) or MASTER_KEY_FILE (one per line).
   */
  masterKey: string | undefined;
  masterKeyFile: string | undefined;
  /**
   * ENCRYPT_TO: the age recipients (age1…) or key names a target's backups are encrypted to when
   * the target names none of its own; unset: such targets are stored in clear.
   */
  encryptTo: string[] | undefined;
  dataDir: string;
  backupDir: string;
  port: number;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  /** Where pg_dump / pg_restore / psql live; unset: PATH and /usr/lib/postgresql/<n>/bin. */
  pgBinDir: string | undefined;
  /**
   * BACKUP_CODEC: zstd (default: `pg_dump -Fc -Z0 | zstd`, `.dump.zst`), gzip (pg_dump's own
   * compression, `.dump`) or none (`pg_dump -Fc -Z0`). Plain backups are `.sql.gz` whatever it is.
   */
  codec: Codec;
  /** BACKUP_LEVEL: zstd 1-19 (default 1), gzip 0-9 (pg_dump's default; plain: 6); unset keeps the default. */
  compressionLevel: number | undefined;
  jobTimeoutSeconds: number;
  lockTimeoutSeconds: number;
  /** Jobs running at once across every instance on this metadata database… */
  maxConcurrentJobs: number;
  /** …and per database server (a backup and a restore of two databases of one server count twice). */
  maxJobsPerServer: number;
  /** Jobs this instance runs at once (at most maxConcurrentJobs). */
  workerConcurrency: number;
  /** A job whose bytes did not move and whose server did no work for it this long fails job/stalled. */
  stallTimeoutSeconds: number;
  /** PGBS_TRACE_JOBS: log each job's steps and metadata queries when it ends (jobs/job-trace.ts). */
  traceJobs: boolean;
  maxUploadBytes: number;
  /** MAX_EXPANSION_RATIO: how many times its stored size a backup may decompress to (a bomb's guard; floor 1 GiB). */
  maxExpansionRatio: number;
  /** Where uploads are spooled while they stream in (deleted when the request or its restore job ends). */
  uploadTempDir: string;
  /** The built admin panel served at / (packages/web/dist after `pnpm build`). */
  panelDir: string;
  /** A session ends after this long without a request or an open subscription… */
  sessionIdleTimeoutSeconds: number;
  /** …and this long after login, whatever the activity. */
  sessionMaxAgeSeconds: number;
  /** Mark the session cookie Secure (set when served over HTTPS). */
  secureCookies: boolean;
  /** Browser origins allowed to open the WebSocket with a cookie; empty: the server's own origin. */
  allowedOrigins: string[];
  /**
   * S3_ENV_CREDENTIALS_ENDPOINTS: S3-compatible endpoints (origins) that destinations with
   * `--s3-credentials environment` may send the service's own credentials to; empty: AWS only.
   */
  s3EnvironmentCredentialEndpoints: string[];
  downloadUrlTtlSeconds: number;
  /** HMAC key for download links; unset: random per process (links die with a restart). */
  signingSecret: string | undefined;
  rateLimits: {
    loginPer15Minutes: number;
    jobsPerHour: number;
    uploadsPerHour: number;
  };
  /** The HTTP server's exposure and its limits against slow or abusive clients. */
  http: {
    /** The address to listen on: loopback unless deployed (Docker sets 0.0.0.0). */
    host: string;
    /** GraphiQL and introspection for anyone, not only signed-in admins. */
    publicIntrospection: boolean;
    /** Time for a client to send the request line and headers. */
    headersTimeoutMs: number;
    /** Longest pause between two bytes of a request body. */
    bodyIdleTimeoutMs: number;
    /** The same for an admin's upload, which may otherwise last hours. */
    uploadIdleTimeoutMs: number;
    /** Refused credentials (downloads, uploads) per client address. */
    failedAuthPer15Minutes: number;
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

type Env = Readonly<Record<string, string | undefined>>;

/** Parses the environment once; every bad variable is reported together. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };
  const url = (name: string): string | undefined => {
    const raw = env[name];
    if (!raw) return undefined;
    if (!/^postgres(ql)?:\/\//.test(raw)) problems.push(`${name} must be a postgres:// URL`);
    return raw;
  };

  const targetUrl = url('DATABASE_URL');
  const metadataUrl = url('METADATA_DATABASE_URL');
  // METADATA_DATABASE_URL alone is a service whose targets are all added through the API or CLI.
  if (targetUrl && !metadataUrl) {
    problems.push(
      'DATABASE_URL needs METADATA_DATABASE_URL (the service keeps its catalog in a database of its own); set neither for the embedded PostgreSQL',
    );
  }
  if (env.MASTER_KEY && env.MASTER_KEY_FILE) problems.push('set MASTER_KEY or MASTER_KEY_FILE, not both');
  if (targetUrl && metadataUrl && sameDatabase(targetUrl, metadataUrl)) {
    problems.push('METADATA_DATABASE_URL must not be the target database: a restore would roll back the catalog');
  }
  const dataDir = path.resolve(REPO_ROOT, env.DATA_DIR || '.data');
  const backupDir = path.resolve(REPO_ROOT, env.BACKUP_DIR || path.join(dataDir, 'backups'));
  const { codec, level } = backupCodec(env, int, problems);
  const config: Config = {
    databases: metadataUrl
      ? { mode: 'external', targetUrl, metadataUrl }
      : { mode: 'embedded', port: int('EMBEDDED_PG_PORT', 54329, 1024, 65535) },
    masterKey: env.MASTER_KEY || undefined,
    masterKeyFile: env.MASTER_KEY_FILE ? path.resolve(REPO_ROOT, env.MASTER_KEY_FILE) : undefined,
    // Only commas (", ,") stays an empty list: the start refuses it (key/no-recipient).
    encryptTo: !env.ENCRYPT_TO
      ? undefined
      : env.ENCRYPT_TO.split(',')
          .map((entry) => entry.trim())
          .filter(Boolean),
    dataDir,
    backupDir,
    port: int('PORT', 4000, 0, 65535),
    adminEmail: env.ADMIN_EMAIL || undefined,
    adminPassword: env.ADMIN_PASSWORD || undefined,
    pgBinDir: env.PG_BIN_DIR || undefined,
    codec,
    compressionLevel: level,
    jobTimeoutSeconds: int('JOB_TIMEOUT_SECONDS', 6 * 3600, 1, 7 * 24 * 3600),
    lockTimeoutSeconds: int('LOCK_TIMEOUT_SECONDS', 60, 1, 3600),
    maxConcurrentJobs: int('MAX_CONCURRENT_JOBS', 4, 1, 1000),
    maxJobsPerServer: int('MAX_JOBS_PER_SERVER', 2, 1, 1000),
    workerConcurrency: int('WORKER_CONCURRENCY', 0, 0, 1000),
    stallTimeoutSeconds: int('STALL_TIMEOUT_SECONDS', 600, 1, 7 * 24 * 3600),
    traceJobs: bool('PGBS_TRACE_JOBS', false),
    maxUploadBytes: int('MAX_UPLOAD_BYTES', 10 * 1024 ** 3, 1, Number.MAX_SAFE_INTEGER),
    maxExpansionRatio: int('MAX_EXPANSION_RATIO', DEFAULT_EXPANSION_LIMIT.ratio, 10, 1_000_000),
    panelDir: path.resolve(REPO_ROOT, env.PANEL_DIR || 'packages/web/dist'),
    // Beside the backups by default: a validated upload is then renamed into place, not copied.
    uploadTempDir: path.resolve(REPO_ROOT, env.UPLOAD_TEMP_DIR || path.join(backupDir, '.uploads')),
    sessionIdleTimeoutSeconds: int('SESSION_IDLE_TIMEOUT_SECONDS', 8 * 3600, 1, 7 * 24 * 3600),
    // At most 24 days: a connection's end is a timer, and Node's timers stop at 2^31 ms (24.8 days).
    sessionMaxAgeSeconds: int('SESSION_MAX_AGE_SECONDS', 7 * 24 * 3600, 1, 24 * 24 * 3600),
    secureCookies: bool('SECURE_COOKIES', false),
    allowedOrigins: (env.ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    s3EnvironmentCredentialEndpoints: endpointOrigins(env.S3_ENV_CREDENTIALS_ENDPOINTS, problems),
    downloadUrlTtlSeconds: int('DOWNLOAD_URL_TTL_SECONDS', 300, 10, 7 * 24 * 3600),
    signingSecret: env.SIGNING_SECRET || undefined,
    rateLimits: {
      loginPer15Minutes: int('RATE_LIMIT_LOGIN_PER_15_MIN', 10, 1, 100_000),
      jobsPerHour: int('RATE_LIMIT_JOBS_PER_HOUR', 60, 1, 100_000),
      uploadsPerHour: int('RATE_LIMIT_UPLOADS_PER_HOUR', 20, 1, 100_000),
    },
    http: {
      host: env.HOST || '127.0.0.1',
      publicIntrospection: bool('PUBLIC_INTROSPECTION', false),
      headersTimeoutMs: int('HEADERS_TIMEOUT_SECONDS', 30, 1, 3600) * 1000,
      bodyIdleTimeoutMs: int('BODY_IDLE_TIMEOUT_SECONDS', 30, 1, 3600) * 1000,
      uploadIdleTimeoutMs: int('UPLOAD_IDLE_TIMEOUT_SECONDS', 60, 1, 24 * 3600) * 1000,
      failedAuthPer15Minutes: int('RATE_LIMIT_FAILED_AUTH_PER_15_MIN', 30, 1, 100_000),
    },
  };
  if (env.ADMIN_EMAIL && !/^[^@\s]+@[^@\s]+$/.test(env.ADMIN_EMAIL))
    problems.push('ADMIN_EMAIL must be an email address');
  if (env.SIGNING_SECRET && env.SIGNING_SECRET.length < 32)
    problems.push('SIGNING_SECRET must be at least 32 characters');
  if (env.ADMIN_PASSWORD && env.ADMIN_PASSWORD.length < 12)
    problems.push('ADMIN_PASSWORD must be at least 12 characters');
  // 0 (unset): as many as may run at all.
  config.workerConcurrency = Math.min(config.workerConcurrency || config.maxConcurrentJobs, config.maxConcurrentJobs);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** S3_ENV_CREDENTIALS_ENDPOINTS: comma-separated http(s) URLs, kept as their origins. */
function endpointOrigins(raw: string | undefined, problems: string[]): string[] {
  const origins: string[] = [];
  for (const entry of (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const origin = URL.canParse(entry) ? new URL(entry).origin : null;
    // The same form as storage/s3-storage.ts's endpointOrigin, which the check compares.
    if (origin && /^https?:/.test(origin)) origins.push(origin);
    else problems.push(`S3_ENV_CREDENTIALS_ENDPOINTS holds http:// or https:// URLs (got "${entry}")`);
  }
  return origins;
}

/**
 * BACKUP_CODEC and BACKUP_LEVEL. The first stage's BACKUP_COMPRESSION=N (pg_dump -Z N, gzip N for
 * plain) is BACKUP_CODEC=gzip BACKUP_LEVEL=N: a service upgraded with it keeps writing what it wrote.
 */
function backupCodec(
  env: Env,
  int: (name: string, fallback: number, min: number, max: number) => number,
  problems: string[],
): { codec: Codec; level: number | undefined } {
  if (env.BACKUP_COMPRESSION) {
    if (env.BACKUP_CODEC || env.BACKUP_LEVEL) {
      problems.push('BACKUP_COMPRESSION is the old name of BACKUP_CODEC=gzip BACKUP_LEVEL=N: set one or the other');
    }
    return { codec: 'gzip', level: int('BACKUP_COMPRESSION', 0, 0, 9) };
  }
  const raw = env.BACKUP_CODEC || 'zstd';
  const codec = (CODECS as readonly string[]).includes(raw) ? (raw as Codec) : null;
  if (!codec) {
    problems.push(`BACKUP_CODEC must be one of ${CODECS.join(', ')} (got "${raw}")`);
    return { codec: 'zstd', level: undefined };
  }
  if (!env.BACKUP_LEVEL) return { codec, level: undefined };
  if (codec === 'none') {
    problems.push('BACKUP_LEVEL has no meaning with BACKUP_CODEC=none');
    return { codec, level: undefined };
  }
  return {
    codec,
    level: codec === 'zstd' ? int('BACKUP_LEVEL', DEFAULT_ZSTD_LEVEL, 1, 19) : int('BACKUP_LEVEL', 6, 0, 9),
  };
}

function sameDatabase(a: string, b: string): boolean {
  try {
    const [x, y] = [new URL(a), new URL(b)];
    return x.hostname === y.hostname && (x.port || '5432') === (y.port || '5432') && x.pathname === y.pathname;
  } catch {
    return false;
  }
}
