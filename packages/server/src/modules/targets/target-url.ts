import { type PgTarget, parsePgUrl } from '@pgbs/engine';
import { ServiceError } from '../../errors/service-error.js';

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function validTargetName(name: string): string {
  if (!NAME.test(name)) {
    throw new ServiceError(
      'target/invalid-name',
      'A target name is 1 to 63 characters: lower-case letters, digits, "_" and "-", starting with a letter or digit.',
    );
  }
  return name;
}

function parse(url: string): URL {
  try {
    // libpq's "postgres://user@/db?host=/socket" is no WHATWG URL (as parsePgUrl does it).
    return new URL(url.replace(/^(postgres(?:ql)?:\/\/[^/?#]*@)(?=\/)/, '$1localhost'));
  } catch {
    throw new ServiceError('target/invalid-url', 'The target URL is not a valid postgres:// URL.');
  }
}

/**
 * A target URL as stored: postgres:// naming a database, and no password (it would end up in
 * logs, process lists and exports). The message never repeats the URL, which may hold one.
 */
export function validTargetUrl(url: string): string {
  const parsed = parse(url);
  if (parsed.password !== '' || parsed.searchParams.has('password')) {
    throw new ServiceError(
      'target/password-in-url',
      'The URL holds a password: give the URL without it, and the password from PGPASSWORD, a prompt or a file. Nothing was changed.',
    );
  }
  try {
    parsePgUrl(url);
  } catch (error) {
    throw new ServiceError('target/invalid-url', (error as Error).message);
  }
  return url;
}

/** DATABASE_URL as stored for the env-managed target: its password lives in the environment only. */
export function withoutPassword(url: string): string {
  const parsed = parse(url);
  if (parsed.password === '') return url;
  parsed.password = '';
  return parsed.toString();
}

/** The URL of another database on the same server (a server target's child). */
export function urlForDatabase(url: string, database: string): string {
  const parsed = parse(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** What the tools need to connect: the stored URL plus the opened password (memory only). */
export function connectionOf(url: string, password: string | null): PgTarget {
  const target = parsePgUrl(url);
  return password === null ? target : { ...target, env: { ...target.env, PGPASSWORD: password } };
}
