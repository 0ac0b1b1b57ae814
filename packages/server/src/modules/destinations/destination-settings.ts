import path from 'node:path';
import { ServiceError } from '../../errors/service-error.js';
import type { DestinationRow } from '../../db/schema.js';
import type { S3Settings } from '../../storage/s3-storage.js';

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function validDestinationName(name: string): string {
  if (!NAME.test(name)) {
    throw new ServiceError(
      'destination/invalid-name',
      'A destination name is 1 to 63 characters: lower-case letters, digits, "_" and "-", starting with a letter or digit.',
    );
  }
  return name;
}

export interface LocalSettings {
  directory: string;
}

export function validLocalSettings(input: { directory?: string | null }): LocalSettings {
  const directory = input.directory?.trim();
  if (!directory || !path.isAbsolute(directory)) {
    throw new ServiceError('input/invalid', 'A local destination needs an absolute directory.');
  }
  return { directory: path.normalize(directory) };
}

/** The stored settings as typed values (destinations.settings holds no secret). */
export function settingsOf(
  row: DestinationRow,
): { kind: 'local'; local: LocalSettings } | { kind: 's3'; s3: S3Settings } {
  return row.kind === 's3'
    ? { kind: 's3', s3: row.settings as unknown as S3Settings }
    : { kind: 'local', local: row.settings as unknown as LocalSettings };
}

/** For lists and messages: a directory, or s3://bucket/prefix and where. Never a secret. */
export function locationOf(row: DestinationRow): string {
  const settings = settingsOf(row);
  if (settings.kind === 'local') return settings.local.directory;
  const { bucket, prefix, endpoint, region } = settings.s3;
  return `s3://${bucket}/${prefix ?? ''}${endpoint ? ` at ${endpoint}` : ` in ${region}`}`;
}
