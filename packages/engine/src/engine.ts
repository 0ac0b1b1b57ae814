import type { Clock } from './clock.js';
import { type TableSize, psqlCatalogReader } from './pg/catalog.js';
import type { PgTarget } from './pg/connection.js';
import type { ProcessRunner } from './pg/process.js';
import { defaultToolDirs } from './pg/tool-dirs.js';
import { type ToolStamp, fileToolStamp } from './pg/tool-stamp.js';
import { type PgTools, type PgVersion, findPgToolSets, pickPgTools, toolsNotFound } from './pg/tools.js';

export interface EngineDeps {
  runner: ProcessRunner;
  clock: Clock;
  /** PG_BIN_DIR: when set, the only place tools are looked for. */
  pgBinDir?: string;
  candidateDirs?: readonly string[];
  /** Tells whether a tool's file changed since it was probed; the file system's by default. */
  toolStamp?: ToolStamp;
}

export interface Prepared {
  tools: PgTools;
  serverVersion: PgVersion;
}

/** What a backup needs before pg_dump starts: the tools, and the table sizes its progress weighs. */
export interface PreparedBackup extends Prepared {
  tables: TableSize[];
}

/**
 * Finds the tools and checks them against a target before any work starts. Probing the installed
 * tool sets (six `--version` runs, ~0.5 s of CPU) was most of a small job's overhead, so a probe is
 * kept while the files it found are unchanged (a stat each); it is redone when one was replaced or
 * removed (a package upgrade), when none was found, or when none is new enough for a server. Newer
 * tools, or a minor upgrade in place, need no restart.
 */
export function createToolResolver(deps: EngineDeps) {
  const search = () => ({
    binDir: deps.pgBinDir,
    candidateDirs: deps.candidateDirs ?? defaultToolDirs(),
    runner: deps.runner,
  });
  const toolStamp = deps.toolStamp ?? fileToolStamp;
  const stampOf = async (sets: readonly PgTools[]) =>
    (await Promise.all(sets.flatMap((set) => [set.pgDump, set.pgRestore, set.psql]).map(toolStamp))).join(',');
  let cached: Promise<{ sets: PgTools[]; stamp: string }> | undefined;
  const probe = () => {
    const probing = findPgToolSets(search()).then(async (sets) => ({ sets, stamp: await stampOf(sets) }));
    cached = probing;
    // Nothing found is not kept: the next call looks again.
    const forget = () => {
      if (cached === probing) cached = undefined;
    };
    probing.then(({ sets }) => sets.length === 0 && forget(), forget);
    return probing;
  };
  const toolSets = async (fresh = false): Promise<PgTools[]> => {
    if (fresh || !cached) return (await probe()).sets;
    const { sets, stamp } = await cached;
    return stamp === (await stampOf(sets)) ? sets : (await probe()).sets;
  };
  const select = async (serverVersion: PgVersion): Promise<PgTools> => {
    const sets = await toolSets();
    const newEnough = sets[0] && sets[0].version.major >= serverVersion.major;
    return pickPgTools(newEnough ? sets : await toolSets(true), serverVersion, deps.pgBinDir);
  };
  const anyPsql = async (): Promise<string> => {
    const [newest] = await toolSets();
    if (!newest) throw toolsNotFound(deps.pgBinDir);
    return newest.psql;
  };
  return {
    async prepare(target: PgTarget): Promise<Prepared> {
      const catalog = psqlCatalogReader(deps.runner, await anyPsql());
      const serverVersion = await catalog.serverVersion(target);
      return { tools: await select(serverVersion), serverVersion };
    },
    /** prepare and tableSizes in one psql run, for a backup. */
    async prepareBackup(target: PgTarget): Promise<PreparedBackup> {
      const catalog = psqlCatalogReader(deps.runner, await anyPsql());
      const { serverVersion, tables } = await catalog.serverVersionAndTableSizes(target);
      return { tools: await select(serverVersion), serverVersion, tables };
    },
    /** The tools for a server of this version (pg/version-mismatch if none is new enough). */
    selectTools: select,
    async tableSizes(target: PgTarget, tools: PgTools): Promise<TableSize[]> {
      return psqlCatalogReader(deps.runner, tools.psql).tableSizes(target);
    },
  };
}

export type ToolResolver = ReturnType<typeof createToolResolver>;
