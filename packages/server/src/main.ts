import { createApp } from './app.js';
import { bootstrapAdmin } from './auth/bootstrap-admin.js';
import { ConfigError, loadConfig } from './config.js';
import { startHttpServer } from './http/http-server.js';
import { tuneGarbageCollector } from './gc-tuning.js';
import { consoleLogger } from './logger.js';

/** `pnpm start`: the service with its GraphQL API. */
async function main(): Promise<void> {
  tuneGarbageCollector();
  const logger = consoleLogger();
  const config = loadConfig();
  const app = await createApp(config, logger);
  const admin = await bootstrapAdmin(app);
  const http = await startHttpServer(app, logger, config.port);
  const lines = [
    'PostgreSQL backup service is running.',
    `  admin panel:                ${http.url}/`,
    `  GraphQL API and playground: ${http.url}/graphql`,
    `  default target:    ${await app.targets.connections.defaultTarget().then(
      (target) => target.connection.display,
      () => 'none (add targets: pnpm cli target add)',
    )}`,
    `  metadata database: ${app.metadataDisplay}`,
    `  backups stored in: ${(await app.placement.storage(app.placement.localId)).location}`,
    app.embedded
      ? `  embedded PostgreSQL (data in ${app.embedded.databaseDir}) ${app.embedded.startedHere ? 'started by this process' : 'already running'}`
      : '  using the servers from DATABASE_URL and METADATA_DATABASE_URL',
  ];
  if (admin?.generatedPassword) {
    lines.push('', `First admin created: ${admin.email} / ${admin.generatedPassword}  (shown once: note it now)`);
  } else if (admin) {
    lines.push('', `First admin created from ADMIN_EMAIL: ${admin.email}`);
  } else if (!(await app.auth.hasAdmin())) {
    lines.push(
      '',
      'No admin exists yet: set ADMIN_EMAIL and ADMIN_PASSWORD, or run: pnpm cli user create-admin <email>',
    );
  }
  lines.push(
    '',
    'CLI, in another terminal:  pnpm cli backup create --description "first"  |  pnpm cli backup list',
    'Stop with Ctrl-C.',
  );
  process.stdout.write(lines.join('\n') + '\n');
  const stop = async () => {
    logger.info('shutting down');
    await http.close();
    await app.close();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => void stop());
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`Failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
