import type { Clock } from './clock.js';
import { type TableSize, psqlCatalogReader } from './pg/catalog.js';
import type { PgTarget } from './pg/connection.js';
import type { ProcessRunner } from './pg/process.js';
import { defaultToolDirs } from './pg/tool-dirs.js';
import { type PgTools, type PgVersion, findPgToolSets, selectPgTools } from './pg/tools.js';
import { EngineError } from './errors.js';

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

/** Finds the tools and checks them against a target before any work starts. */
export function createToolResolver(deps: EngineDeps) {
  const search = () => ({
    binDir: deps.pgBinDir,
    candidateDirs: deps.candidateDirs ?? defaultToolDirs(),
    runner: deps.runner,
  });
  const anyPsql = async (): Promise<string> => {
    const [newest] = await findPgToolSets(search());
    if (!newest) {
      throw new EngineError(
        'pg/tool-not-found',
        'No PostgreSQL client tools (pg_dump, pg_restore, psql) found. Install them (e.g. apt-get install postgresql-client) or set PG_BIN_DIR.',
      );
    }
    return newest.psql;
  };
  return {
    async prepare(target: PgTarget): Promise<Prepared> {
      const catalog = psqlCatalogReader(deps.runner, await anyPsql());
      const serverVersion = await catalog.serverVersion(target);
      return { tools: await selectPgTools(search(), serverVersion), serverVersion };
    },
    /** The tools for a server of this version (pg/version-mismatch if none is new enough). */
    selectTools: (serverVersion: PgVersion): Promise<PgTools> => selectPgTools(search(), serverVersion),
    async tableSizes(target: PgTarget, tools: PgTools): Promise<TableSize[]> {
      return psqlCatalogReader(deps.runner, tools.psql).tableSizes(target);
    },
  };
}

export type ToolResolver = ReturnType<typeof createToolResolver>;
