import { userInfo } from 'node:os';
import { isCodedError } from '../errors/service-error.js';
import { ConfigError, loadConfig } from '../config.js';
import { type CommandSpec, commandUsage, groupUsage, parseCommand, programUsage } from './args.js';
import type { Context } from './command-kit.js';
import { COMMANDS } from './commands.js';
import { CliError } from './errors.js';
import { cliLogger, paint } from './output.js';
import { installSignalHandlers } from './signals.js';

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h';

async function main(argv: string[]): Promise<number> {
  const [group, name, ...rest] = argv;
  if (group === undefined || isHelp(group)) {
    process.stdout.write(programUsage(COMMANDS));
    return 0;
  }
  if (!COMMANDS.some((spec) => spec.group === group)) {
    throw new CliError('cli/usage', `Unknown command "${group}".`, programUsage(COMMANDS));
  }
  if (name === undefined || isHelp(name)) {
    process.stdout.write(groupUsage(COMMANDS, group));
    return 0;
  }
  const spec = COMMANDS.find((candidate) => candidate.group === group && candidate.name === name);
  if (!spec) throw new CliError('cli/usage', `Unknown command "${group} ${name}".`, groupUsage(COMMANDS, group));
  if (rest.some(isHelp)) {
    process.stdout.write(commandUsage(spec));
    return 0;
  }
  const parsed = parseCommand(spec, rest, COMMANDS);
  const config = loadConfig();
  // An operator who forgot the service's environment must not get a new, empty cluster that
  // says "No backups yet".
  const { hasEmbeddedCluster } = await import('../embedded/embedded-postgres.js');
  if (config.databases.mode === 'embedded' && !parsed.values.init && !(await hasEmbeddedCluster(config.dataDir))) {
    throw new CliError(
      'cli/no-cluster',
      `No embedded PostgreSQL in ${config.dataDir} (DATA_DIR). Run the CLI with the service's environment ` +
        '(DATA_DIR, or DATABASE_URL and METADATA_DATABASE_URL), or add --init to create a new cluster there.',
    );
  }
  // Imported here, not at the top: it loads the whole service, which `--help` does not need.
  const { createApp } = await import('../app.js');
  const app = await createApp(config, cliLogger(), { role: spec.role ?? 'cli' });
  const context: Context = { app, actor: { name: `cli:${userInfo().username}` }, json: parsed.values.json === true };
  try {
    return await spec.run(context, parsed);
  } catch (error) {
    throw withUsage(error, spec);
  } finally {
    await app.close();
  }
}

/** A usage error found while running (a bad option value) is shown with the command's usage. */
function withUsage(error: unknown, spec: CommandSpec<Context>): unknown {
  return error instanceof CliError && error.code === 'cli/usage' && !error.usage
    ? new CliError(error.code, error.message, commandUsage(spec))
    : error;
}

function exitCode(error: unknown): number {
  if (!(error instanceof CliError)) return 1;
  return error.code === 'cli/usage' ? 2 : error.code === 'cli/interrupted' ? 130 : 1;
}

installSignalHandlers();
const json = process.argv.includes('--json');
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const code =
      isCodedError(error) || error instanceof CliError
        ? error.code
        : error instanceof ConfigError
          ? 'config/invalid'
          : 'internal';
    const message = error instanceof Error ? error.message : String(error);
    if (json) process.stdout.write(JSON.stringify({ error: { code, message } }, null, 2) + '\n');
    else process.stderr.write(`${paint('red', `error [${code}]`, process.stderr)}: ${message}\n`);
    if (error instanceof CliError && error.usage) process.stderr.write(`\n${error.usage}`);
    process.exit(exitCode(error));
  },
);
