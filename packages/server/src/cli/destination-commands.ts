import type { DestinationView } from '../modules/destinations/destination-view.js';
import type { DestinationTestResult } from '../modules/destinations/test-destination.js';
import type { CommandSpec, OptionSpec, Parsed } from './args.js';
import { type Context, confirm, flag, text } from './command-kit.js';
import { CliError } from './errors.js';
import { formatBytes } from './format.js';
import { print } from './output.js';
import { S3_CREDENTIAL_SOURCES, type S3CredentialSource } from '../storage/s3-storage.js';
import { s3Credentials } from './s3-credentials-input.js';

const credentialsFile: OptionSpec = {
  type: 'string',
  value: 'FILE',
  help: 'S3 credentials from this file (aws_access_key_id / aws_secret_access_key lines); else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, else a prompt',
};
const settingOptions: Record<string, OptionSpec> = {
  dir: { type: 'string', value: 'PATH', help: 'a local directory (absolute)' },
  's3-endpoint': {
    type: 'string',
    value: 'URL',
    help: 'an S3-compatible service (MinIO, R2, B2): https://host[:port]',
  },
  's3-region': {
    type: 'string',
    value: 'REGION',
    help: 'AWS S3 in this region (with an endpoint: its signing region)',
  },
  bucket: { type: 'string', value: 'BUCKET', help: 'the bucket (it must exist)' },
  prefix: { type: 'string', value: 'PREFIX', help: 'objects under this prefix in the bucket' },
  's3-credentials': {
    type: 'string',
    value: 'stored|environment',
    help: "stored (default): the credentials given here, sealed; environment: the service's own (AWS_* variables, an instance role), by explicit choice",
  },
};

function credentialSourceOf(parsed: Parsed): S3CredentialSource | undefined {
  const value = text(parsed, 's3-credentials');
  if (value === undefined) return undefined;
  if (!(S3_CREDENTIAL_SOURCES as readonly string[]).includes(value)) {
    throw new CliError('cli/usage', `--s3-credentials is stored or environment (got "${value}").`);
  }
  return value as S3CredentialSource;
}

function describeCredentials(destination: DestinationView): string {
  if (destination.settings.credentialSource === 'environment') {
    return "the service's environment (AWS_* variables or instance role), by choice";
  }
  return destination.hasCredentials ? 'stored (sealed)' : 'none stored: refused until given (destination set)';
}

function describeTest(name: string, test: DestinationTestResult): string {
  return test.ok
    ? `${name}: a probe object was written, read back and removed.`
    : `${name}: test failed [${test.error?.code}]: ${test.error?.message}`;
}

function lastTest(destination: DestinationView): string {
  const test = destination.lastTest as Partial<DestinationTestResult> | null;
  return test && 'ok' in test ? `${test.ok ? 'ok' : `failed [${test.error?.code}]`} at ${test.at}` : 'never';
}

function describeDestination(destination: DestinationView): string {
  return [
    `name:        ${destination.name} (${destination.kind}${destination.managedBy ? `, managed by ${destination.managedBy}` : ''})`,
    `id:          ${destination.id}`,
    `location:    ${destination.location}`,
    ...(destination.kind === 's3'
      ? [
          `credentials: ${describeCredentials(destination)}`,
          `path-style:  ${destination.settings.pathStyle ? 'yes' : 'no'}`,
        ]
      : []),
    `enabled:     ${destination.enabled ? 'yes' : 'no'}`,
    `usage:       ${destination.usage.copies} copies, ${formatBytes(destination.usage.bytes)}`,
    `last test:   ${lastTest(destination)}`,
  ].join('\n');
}

function kindOf(parsed: Parsed): 'local' | 's3' {
  const given = ['dir', 's3-endpoint', 's3-region'].filter((name) => text(parsed, name) !== undefined);
  if (given.length === 0) throw new CliError('cli/usage', 'Give --dir, --s3-endpoint or --s3-region.');
  if (text(parsed, 'dir') !== undefined && given.length > 1) {
    throw new CliError('cli/usage', '--dir is a local destination: no --s3-endpoint or --s3-region with it.');
  }
  return text(parsed, 'dir') !== undefined ? 'local' : 's3';
}

export const DESTINATION_COMMANDS: CommandSpec<Context>[] = [
  {
    group: 'destination',
    name: 'add',
    args: '<name>',
    summary:
      'Add where backups are stored: a local directory (--dir) or an S3-compatible bucket (--s3-endpoint or --s3-region, --bucket), then test it. Credentials never come from argv.',
    options: {
      ...settingOptions,
      'path-style': { type: 'boolean', help: 'path-style addressing (host/bucket/key), as MinIO needs' },
      'credentials-file': credentialsFile,
    },
    run: async ({ app, actor, json }, parsed) => {
      const kind = kindOf(parsed);
      const credentialSource = credentialSourceOf(parsed);
      // With the environment's credentials, none is read here (AWS_* of this shell would be stored).
      const credentials =
        kind === 's3' && credentialSource !== 'environment'
          ? await s3Credentials({ file: text(parsed, 'credentials-file'), prompt: true })
          : null;
      const { destination, test } = await app.destinations.add(
        {
          name: parsed.positionals[0]!,
          kind,
          directory: text(parsed, 'dir'),
          endpoint: text(parsed, 's3-endpoint'),
          region: text(parsed, 's3-region'),
          bucket: text(parsed, 'bucket'),
          prefix: text(parsed, 'prefix'),
          pathStyle: flag(parsed, 'path-style'),
          credentials,
          credentialSource,
        },
        actor,
      );
      print(json, { destination, test }, () =>
        [
          `Added destination ${destination.name}.`,
          describeDestination(destination),
          describeTest(destination.name, test),
        ].join('\n'),
      );
      return test.ok ? 0 : 1;
    },
  },
  {
    group: 'destination',
    name: 'list',
    summary: 'List the destinations, with their usage (counted from the catalog) and last test.',
    run: async ({ app, json }) => {
      const destinations = await app.destinations.list();
      print(json, destinations, () =>
        destinations
          .map(
            (d) =>
              `${d.name.padEnd(20)} ${d.kind.padEnd(6)} ${(d.enabled ? 'enabled' : 'disabled').padEnd(9)}${`${d.usage.copies} copies, ${formatBytes(d.usage.bytes)}`.padEnd(24)} ${d.location}${d.settings.credentialSource === 'environment' ? " (the service's environment's credentials)" : ''}`,
          )
          .join('\n'),
      );
      return 0;
    },
  },
  {
    group: 'destination',
    name: 'test',
    args: '<name>',
    summary: 'Write, read back and remove a probe object, as a backup would.',
    run: async ({ app, actor, json }, parsed) => {
      const name = parsed.positionals[0]!;
      const test = await app.destinations.test(name, actor);
      print(json, test, () => describeTest(name, test));
      return test.ok ? 0 : 1;
    },
  },
  {
    group: 'destination',
    name: 'set',
    args: '<name>',
    summary: 'Change a destination: enabled, credentials, bucket, prefix, endpoint or region, directory.',
    options: {
      enable: { type: 'boolean', help: 'enable it' },
      disable: { type: 'boolean', help: 'disable it: nothing is written there' },
      ...settingOptions,
      'path-style': { type: 'string', value: 'true|false', help: 'path-style addressing' },
      'credentials-file': { type: 'string', value: 'FILE', help: 'new S3 credentials from this file' },
      'new-credentials': {
        type: 'boolean',
        help: 'new S3 credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, else a prompt',
      },
      'clear-credentials': {
        type: 'boolean',
        help: 'remove the stored credentials (with --s3-credentials environment, or the destination is refused)',
      },
    },
    run: async ({ app, actor, json }, parsed) => {
      if (flag(parsed, 'enable') && flag(parsed, 'disable'))
        throw new CliError('cli/usage', 'Give --enable or --disable, not both.');
      const sources = ['credentials-file', 'new-credentials', 'clear-credentials'].filter(
        (name) => parsed.values[name],
      );
      if (sources.length > 1) throw new CliError('cli/usage', `Give one of --${sources.join(', --')}.`);
      let credentials;
      if (flag(parsed, 'clear-credentials')) credentials = null;
      else if (sources.length === 1) {
        credentials = await s3Credentials({ file: text(parsed, 'credentials-file'), prompt: true });
        if (credentials === null)
          throw new CliError('cli/usage', 'No credentials given (AWS_* are empty and there is no terminal).');
      }
      const pathStyle = text(parsed, 'path-style');
      if (pathStyle !== undefined && pathStyle !== 'true' && pathStyle !== 'false') {
        throw new CliError('cli/usage', `--path-style must be true or false (got "${pathStyle}").`);
      }
      const destination = await app.destinations.update(
        parsed.positionals[0]!,
        {
          enabled: flag(parsed, 'enable') ? true : flag(parsed, 'disable') ? false : undefined,
          credentials,
          directory: text(parsed, 'dir'),
          endpoint: text(parsed, 's3-endpoint'),
          region: text(parsed, 's3-region'),
          bucket: text(parsed, 'bucket'),
          prefix: text(parsed, 'prefix'),
          pathStyle: pathStyle === undefined ? undefined : pathStyle === 'true',
          credentialSource: credentialSourceOf(parsed),
        },
        actor,
      );
      print(json, destination, () => `Updated destination ${destination.name}.\n${describeDestination(destination)}`);
      return 0;
    },
  },
  {
    group: 'destination',
    name: 'delete',
    args: '<name>',
    summary:
      'Remove a destination (asks for its name). Refused while targets use it, or while it holds copies unless --force. Stored objects are never deleted.',
    options: {
      yes: { type: 'boolean', help: 'no confirmation question' },
      force: {
        type: 'boolean',
        help: 'even though it holds backup copies (they stay in storage, unreadable through the service)',
      },
    },
    run: async ({ app, actor, json }, parsed) => {
      const destination = await app.destinations.get(parsed.positionals[0]!);
      if (!flag(parsed, 'yes'))
        await confirm(`Type the destination's name (${destination.name}) to remove it: `, destination.name);
      const removed = await app.destinations.remove(destination.id, { force: flag(parsed, 'force') }, actor);
      print(json, removed, () => `Removed destination ${removed.name}; what it stores was left in place.`);
      return 0;
    },
  },
];
