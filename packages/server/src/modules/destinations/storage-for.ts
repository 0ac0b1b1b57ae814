import type { DestinationRow } from '../../db/schema.js';
import type { ObjectStorage } from '../../storage/object-storage.js';
import type { S3Credentials } from '../../storage/s3-storage.js';
import { openCredential, sealCredential } from '../targets/credential-box.js';
import type { DestinationDeps } from './destination-deps.js';
import { settingsOf } from './destination-settings.js';

/** S3 credentials as one sealed value, bound to the destination's id (copied to another row, it no longer opens). */
export function sealS3Credentials(deps: Pick<DestinationDeps, 'keys'>, id: string, credentials: S3Credentials): string {
  return sealCredential(
    deps.keys,
    id,
    JSON.stringify({ accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey }),
  );
}

function openS3Credentials(deps: Pick<DestinationDeps, 'keys'>, row: DestinationRow): S3Credentials | null {
  if (row.credentialsSealed === null) return null;
  return JSON.parse(openCredential(deps.keys, row.id, row.credentialsSealed)) as S3Credentials;
}

/** The storage of a destination, its credentials opened in memory only. */
export function storageFor(deps: Pick<DestinationDeps, 'keys' | 'storage'>, row: DestinationRow): ObjectStorage {
  const settings = settingsOf(row);
  return settings.kind === 'local'
    ? deps.storage.local(settings.local.directory)
    : deps.storage.s3(settings.s3, openS3Credentials(deps, row));
}
