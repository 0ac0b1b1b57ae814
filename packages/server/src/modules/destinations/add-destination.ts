import { randomUUID } from 'node:crypto';
import { ServiceError } from '../../errors/service-error.js';
import type { DestinationRow } from '../../db/schema.js';
import {
  type S3CredentialSource,
  type S3Credentials,
  type S3Settings,
  requireEnvironmentEndpoint,
  validS3Settings,
} from '../../storage/s3-storage.js';
import { auditedDestination } from './audit-destination.js';
import type { Actor, DestinationDeps } from './destination-deps.js';
import { validDestinationName, validLocalSettings } from './destination-settings.js';
import { sealS3Credentials } from './storage-for.js';

export interface AddDestinationInput {
  name: string;
  kind: 'local' | 's3';
  /** local */
  directory?: string | null;
  /** s3: an endpoint (S3-compatible services) or a region (AWS). */
  endpoint?: string | null;
  region?: string | null;
  bucket?: string | null;
  prefix?: string | null;
  pathStyle?: boolean;
  /** s3: from the environment, a prompt or a file, never argv; stored sealed. */
  credentials?: S3Credentials | null;
  /** s3: `stored` (default: credentials required) or `environment` (the SDK's default chain, an explicit opt-in). */
  credentialSource?: S3CredentialSource | null;
  enabled?: boolean;
}

/** A local directory's settings, or an S3 bucket's; refuses what belongs to the other kind. */
export function settingsFromInput(input: Omit<AddDestinationInput, 'name'>): Record<string, unknown> {
  if (input.kind === 'local') {
    if (
      input.endpoint ||
      input.region ||
      input.bucket ||
      input.prefix ||
      input.pathStyle ||
      input.credentials ||
      input.credentialSource
    ) {
      throw new ServiceError(
        'input/invalid',
        'A local destination takes a directory only (no bucket, endpoint or credentials).',
      );
    }
    return { ...validLocalSettings(input) };
  }
  if (input.kind === 's3') {
    if (input.directory) throw new ServiceError('input/invalid', 'An S3 destination takes no directory.');
    return {
      ...validS3Settings({
        endpoint: input.endpoint,
        region: input.region,
        bucket: input.bucket ?? '',
        prefix: input.prefix ?? '',
        pathStyle: input.pathStyle,
        credentialSource: input.credentialSource ?? undefined,
      }),
    };
  }
  throw new ServiceError('input/invalid', 'kind is local or s3.');
}

export function validCredentials(credentials: S3Credentials): S3Credentials {
  const accessKeyId = credentials.accessKeyId.trim();
  const secretAccessKey = credentials.secretAccessKey.trim();
  if (!accessKeyId || !secretAccessKey || /\s/.test(accessKeyId)) {
    throw new ServiceError(
      'input/invalid',
      'S3 credentials are an access key id and a secret access key, both non-empty.',
    );
  }
  return { accessKeyId, secretAccessKey };
}

/**
 * Stored credentials and the environment's are exclusive, and `stored` without any is refused:
 * a destination never falls back silently on the machine's role, nor sends it to an endpoint the
 * operator did not list (requireEnvironmentEndpoint).
 */
export function requireCredentialSource(
  settings: Record<string, unknown>,
  hasCredentials: boolean,
  environmentEndpoints: readonly string[] = [],
): void {
  const source = settings['credentialSource'];
  if (source === 'environment' && hasCredentials) {
    throw new ServiceError(
      'input/invalid',
      'This destination takes its credentials from the environment: give none to store, or set --s3-credentials stored.',
    );
  }
  if (source === 'stored' && !hasCredentials) {
    throw new ServiceError(
      'destination/credentials-required',
      "An S3 destination needs credentials (from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a file or a prompt), or the explicit --s3-credentials environment to use the service's own (environment, instance role). Nothing was changed.",
    );
  }
  requireEnvironmentEndpoint(settings as Pick<S3Settings, 'endpoint' | 'credentialSource'>, environmentEndpoints);
}

/** Registers a destination; its credentials are sealed before they reach the database. */
export function addDestination(
  deps: DestinationDeps,
  input: AddDestinationInput,
  actor: Actor,
): Promise<DestinationRow> {
  return auditedDestination(deps, actor, 'destination.add', { name: input.name }, { kind: input.kind }, async () => {
    const id = randomUUID();
    const settings = settingsFromInput(input);
    if (input.kind === 'local') await deps.storage.checkLocal(String(settings['directory']));
    else requireCredentialSource(settings, Boolean(input.credentials), deps.environmentEndpoints);
    return deps.repo.insert(
      {
        name: validDestinationName(input.name),
        kind: input.kind,
        settings,
        credentialsSealed: input.credentials ? sealS3Credentials(deps, id, validCredentials(input.credentials)) : null,
        enabled: input.enabled ?? true,
      },
      id,
    );
  });
}
