import { EngineError } from '../errors.js';

/** libpq environment variables for the URL query parameters we pass through. */
const QUERY_PARAM_ENV: Record<string, string> = {
  host: 'PGHOST',
  port: 'PGPORT',
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  application_name: 'PGAPPNAME',
};

export interface PgTarget {
  /** The database name, for confirmations and messages. */
  readonly database: string;
  /** host:port/database, with no credentials: safe for logs and errors. */
  readonly display: string;
  /** libpq variables for a child process; the password never goes into argv. */
  readonly env: Readonly<Record<string, string>>;
}

/** Parses a postgres:// URL once into what the tools need. */
export function parsePgUrl(url: string): PgTarget {
  let parsed: URL;
  try {
    // "postgres://user@/db?host=/socket" is valid for libpq but not for WHATWG URLs.
    parsed = new URL(url.replace(/^(postgres(?:ql)?:\/\/[^/?#]*@)(?=\/)/, '$1localhost'));
  } catch {
    throw new EngineError('config/invalid', 'The database URL is not a valid URL.');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new EngineError('config/invalid', 'The database URL must start with postgres:// or postgresql://.');
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database) {
    throw new EngineError('config/invalid', 'The database URL must name a database.');
  }
  const env: Record<string, string> = { PGDATABASE: database };
  if (parsed.hostname) env.PGHOST = decodeURIComponent(parsed.hostname).replace(/^\[|\]$/g, '');
  if (parsed.port) env.PGPORT = parsed.port;
  if (parsed.username) env.PGUSER = decodeURIComponent(parsed.username);
  if (parsed.password) env.PGPASSWORD = decodeURIComponent(parsed.password);
  for (const [key, value] of parsed.searchParams) {
    const name = QUERY_PARAM_ENV[key];
    if (name) env[name] = value;
  }
  const host = env.PGHOST ?? 'localhost';
  const display = `${host}:${env.PGPORT ?? '5432'}/${database}`;
  return { database, display, env };
}

/** The same target with another database name (same server and credentials). */
export function withDatabase(target: PgTarget, database: string): PgTarget {
  const host = target.env.PGHOST ?? 'localhost';
  return {
    database,
    display: `${host}:${target.env.PGPORT ?? '5432'}/${database}`,
    env: { ...target.env, PGDATABASE: database },
  };
}
