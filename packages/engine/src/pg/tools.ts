import path from 'node:path';
import { EngineError } from '../errors.js';
import type { ProcessRunner } from './process.js';
import { runTool } from './run-tool.js';

export interface PgVersion {
  major: number;
  minor: number;
  /** As the tool printed it, e.g. "15.18 (Debian 15.18-0+deb12u1)". */
  text: string;
}

export interface PgTools {
  dir: string;
  version: PgVersion;
  pgDump: string;
  pgRestore: string;
  psql: string;
}

/** Where to look for a set of client tools; the fs listing is injected. */
export interface ToolSearch {
  /** A configured directory (PG_BIN_DIR): when set, only it is used. */
  binDir?: string;
  /** PATH entries and distribution directories, in order of preference. */
  candidateDirs: readonly string[];
  runner: ProcessRunner;
}

export function parsePgVersion(output: string): PgVersion | null {
  // "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" or "... 17beta1"
  const match = /\(PostgreSQL\)\s+((\d+)(?:\.(\d+))?\S*(?:\s+\(.*\))?)/.exec(output);
  if (!match) return null;
  return { major: Number(match[2]), minor: Number(match[3] ?? 0), text: match[1]!.trim() };
}

/** From `SHOW server_version_num`, e.g. 150018. */
export function versionFromNum(num: number, text: string): PgVersion {
  return { major: Math.floor(num / 10000), minor: num % 10000, text };
}

async function probeDir(dir: string, runner: ProcessRunner): Promise<PgTools | null> {
  const tool = (name: string) => path.join(dir, name);
  try {
    const versions = await Promise.all(
      ['pg_dump', 'pg_restore', 'psql'].map(async (name) => {
        const { stdout } = await runTool(runner, tool(name), ['--version']);
        return parsePgVersion(stdout);
      }),
    );
    const [dump, restore, psql] = versions;
    if (!dump || !restore || !psql) return null;
    // The three must come from one installation, or a restore could mix formats.
    if (dump.major !== restore.major || dump.major !== psql.major) return null;
    return { dir, version: dump, pgDump: tool('pg_dump'), pgRestore: tool('pg_restore'), psql: tool('psql') };
  } catch {
    return null;
  }
}

/** All usable tool sets found, newest first. */
export async function findPgToolSets(search: ToolSearch): Promise<PgTools[]> {
  const dirs = search.binDir ? [search.binDir] : [...new Set(search.candidateDirs)];
  const found = (await Promise.all(dirs.map((dir) => probeDir(dir, search.runner)))).filter(
    (tools): tools is PgTools => tools !== null,
  );
  return found.sort((a, b) => b.version.major - a.version.major || b.version.minor - a.version.minor);
}

export function toolsNotFound(binDir: string | undefined): EngineError {
  return new EngineError(
    'pg/tool-not-found',
    binDir
      ? `No pg_dump, pg_restore and psql found in PG_BIN_DIR=${binDir}.`
      : 'No PostgreSQL client tools (pg_dump, pg_restore, psql) found. Install them (e.g. apt-get install postgresql-client) or set PG_BIN_DIR.',
  );
}

/**
 * Picks the newest of the tool sets (newest first) if its major version is at least the server's:
 * pg_dump refuses newer servers, and an older pg_restore can't read newer archives.
 */
export function pickPgTools(sets: readonly PgTools[], server: PgVersion, binDir?: string): PgTools {
  const newest = sets[0];
  if (!newest) throw toolsNotFound(binDir);
  if (newest.version.major < server.major) {
    throw new EngineError(
      'pg/version-mismatch',
      `The database server runs PostgreSQL ${server.major} (${server.text}) but the newest client tools found are version ${newest.version.major} (${newest.version.text}, in ${newest.dir}). Install PostgreSQL ${server.major} or newer client tools, or point PG_BIN_DIR at them.`,
      { serverVersion: server.text, clientVersion: newest.version.text, clientDir: newest.dir },
    );
  }
  return newest;
}

/** psql learnt `\restrict` in these minor releases (CVE-2025-8714). */
export function supportsRestrict(version: PgVersion): boolean {
  const firstMinor: Record<number, number> = { 13: 22, 14: 19, 15: 14, 16: 10, 17: 6 };
  if (version.major >= 18) return true;
  const minor = firstMinor[version.major];
  return minor !== undefined && version.minor >= minor;
}
