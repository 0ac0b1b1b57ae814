import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { consoleLogger } from './logger.js';

/** `pnpm start`: the service core (the GraphQL API will be served from here). */
async function main(): Promise<void> {
  const logger = consoleLogger();
  const config = loadConfig();
  const app = await createApp(config, logger);
  const lines = [
    'PostgreSQL backup service is running.',
    `  target database:   ${app.target.display}`,
    `  metadata database: ${app.metadataDisplay}`,
    `  backups stored in: ${app.storage.location}`,
    app.embedded
      ? `  embedded PostgreSQL (data in ${config.dataDir}) ${app.embedded.startedHere ? 'started by this process' : 'already running'}`
      : '  using the servers from DATABASE_URL and METADATA_DATABASE_URL',
    '',
    'Try, in another terminal:  pnpm cli backup create --description "first"  |  pnpm cli backup list',
    'Stop with Ctrl-C.',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const stop = async () => {
    logger.info('shutting down');
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`Failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
