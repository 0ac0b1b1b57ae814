import { decryptBytes, encryptBytes } from '@pgbs/engine';
import { ServiceError } from '../../errors/service-error.js';
import { canonicalJson } from './canonical-json.js';

/**
 * The manifest fields that tell what a database holds (table names and sizes, row counts, its
 * name, the description someone typed). An encrypted backup's manifest keeps them only inside
 * `sealedFields`, encrypted to the backup's own recipients; the clear header keeps the id, the
 * codec, the fingerprints and the digests.
 */
export const SCHEMA_FIELDS = [
  'description',
  'databaseName',
  'tableCount',
  'tableSizes',
  'omitted',
  'createdBy',
] as const;
export type SchemaField = (typeof SCHEMA_FIELDS)[number];

/** `fields` as one age file, base64: readable with any of the recipients' identities (and `age -d`, after base64 -d). */
export async function sealFields(fields: Record<string, unknown>, recipients: readonly string[]): Promise<string> {
  const sealed = await encryptBytes({ recipients }, Buffer.from(canonicalJson(fields)));
  return Buffer.from(sealed).toString('base64');
}

/** The reverse of sealFields; key/wrong-identity when none of the identities opens it. */
export async function openFields(sealed: string, identities: readonly string[]): Promise<Record<string, unknown>> {
  const clear = await decryptBytes(Buffer.from(sealed, 'base64'), { identities });
  const value = JSON.parse(Buffer.from(clear).toString('utf8')) as unknown;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ServiceError('input/invalid', 'The sealed manifest fields are not a JSON object.');
  }
  return value as Record<string, unknown>;
}

/**
 * A manifest with its schema fields moved into `sealedFields` (absent fields stay absent). What an
 * encrypted backup's manifest is written as, before it is signed.
 */
export async function sealManifest<T extends Record<string, unknown>>(
  manifest: T,
  recipients: readonly string[],
): Promise<Omit<T, SchemaField> & { sealedFields: string }> {
  const secret: Record<string, unknown> = {};
  const clear: Record<string, unknown> = { ...manifest };
  for (const field of SCHEMA_FIELDS) {
    if (field in clear) {
      secret[field] = clear[field];
      delete clear[field];
    }
  }
  return { ...(clear as Omit<T, SchemaField>), sealedFields: await sealFields(secret, recipients) };
}

/**
 * A sealed manifest with its schema fields back in place (and `sealedFields` gone). Only those
 * fields: anyone with a recipient can seal anything, and must not override the clear header.
 */
export async function openManifest(
  manifest: Record<string, unknown>,
  identities: readonly string[],
): Promise<Record<string, unknown>> {
  const { sealedFields, ...clear } = manifest;
  if (typeof sealedFields !== 'string') return manifest;
  const opened = await openFields(sealedFields, identities);
  const fields = SCHEMA_FIELDS.filter((field) => field in opened).map((field) => [field, opened[field]]);
  return { ...clear, ...Object.fromEntries(fields) };
}
