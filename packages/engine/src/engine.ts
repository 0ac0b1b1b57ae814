import type { Clock } from './clock.js';
import { type TableSize, psqlCatalogReader } from './pg/catalog.js';
import type { PgTarget } from './pg/connection.js';
import type { ProcessRunner } from './pg/process.js';
import { defaultToolDirs } from './pg/tool-dirs.js';
import { type PgTools, type PgVersion, findPgToolSets, pickPgTools, toolsNotFound } from './pg/tools.js';

export interface EngineDeps {
  runner: ProcessRunner;
  clock: Clock;
  /** PG_BIN_DIR: when set, the only place tools are looked for. */
  pgBinDir?: string;
  candidateDirs?: readonly string[];
}

export interface Prepared {
  tools: PgTools;
  serverVersion: PgVersion;
}

/** How long a probe of the installed tools is trusted. */
const TOOLS_CACHE_MS = 60_000;

/**
 * Finds the tools and checks them against a target before any work starts. Probing the installed
 * tool sets (six `--version` runs, ~0.5 s) was most of a small job's overhead, so a probe serves
 * jobs for a minute, then is redone in the background; it is redone at once when none was found or
 * none is new enough for a server. Newer tools, or a minor upgrade in place, need no restart.
 */
export function createToolResolver(deps: EngineDeps) {
  const search = () => ({
    binDir: deps.pgBinDir,
    candidateDirs: deps.candidateDirs ?? defaultToolDirs(),
    runner: deps.runner,
  });
  let cached: { sets: Promise<PgTools[]>; at: number } | undefined;
  const probe = (): Promise<PgTools[]> => {
    const sets = findPgToolSets(search());
    cached = { sets, at: deps.clock.now() };
    // An empty result is not kept: the next call looks again.
    const forget = () => {
      if (cached?.sets === sets) cached = undefined;
    };
    sets.then((found) => found.length === 0 && forget(), forget);
    return sets;
  };
  const toolSets = (fresh = false): Promise<PgTools[]> => {
    if (fresh || !cached) return probe();
    const { sets, at } = cached;
    // Older than a minute: this job uses what was found, and the next one what is found now.
    if (deps.clock.now() - at > TOOLS_CACHE_MS) void probe();
    return sets;
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
    /** The tools for a server of this version (pg/version-mismatch if none is new enough). */
    selectTools: select,
    async tableSizes(target: PgTarget, tools: PgTools): Promise<TableSize[]> {
      return psqlCatalogReader(deps.runner, tools.psql).tableSizes(target);
    },
  };
}

export type ToolResolver = ReturnType<typeof createToolResolver>;
