import type { Codec, TableSize } from '@pgbs/engine';
import { parseSignedJson } from '../modules/keys/canonical-json.js';
import { type ObjectStorage, isSafeObjectName } from './object-storage.js';

/**
 * Written beside every backup, so the catalog can be rebuilt from the storage alone. Version 2
 * adds the codec and pg_dump's output's digest; version-1 manifests (first stage) still parse.
 */
export interface BackupManifest {
  manifestVersion: 1 | 2;
  id: string;
  fileName: string;
  description: string;
  /** What the content is once the codec is removed: custom | tar | plain | plain-gzip. */
  format: string;
  /** The outer stream (zstd), plain-gzip's gzip, or none. Version 1: from the format. */
  codec: Codec;
  sizeBytes: number;
  /** The stored bytes' digest. */
  sha256: string;
  /** pg_dump's output's digest; null where it is not known (version 1). */
  contentSha256: string | null;
  serverVersion: string | null;
  clientVersion: string | null;
  databaseName: string | null;
  durationMs: number | null;
  tableCount: number | null;
  tableSizes: TableSize[];
  origin: string;
  createdBy: string | null;
  createdAt: string;
  /** What pg_dump left out, for example subscriptions when the role is no superuser (absent before). */
  omitted?: string[];
  /** The server's roles and grants (pg_dumpall --globals-only), an object beside this one (absent: none kept). */
  globalsFileName?: string;
  /** The age recipients' fingerprints of an encrypted backup (absent: stored in clear). */
  recipientFingerprints?: string[];
  /** An encrypted backup's schema-revealing fields, sealed to its recipients (modules/keys/manifest-secrets.ts). */
  sealedFields?: string;
  /** The service's Ed25519 signature over every other field (modules/keys/manifest-signer.ts). */
  signature?: unknown;
}

export const MANIFEST_SUFFIX = '.manifest.json';
export const MANIFEST_VERSION = 2;

export const manifestNameOf = (fileName: string) => `${fileName}${MANIFEST_SUFFIX}`;

const CODECS = new Set<unknown>(['zstd', 'gzip', 'none']);
const ORIGINS = new Set<unknown>(['manual', 'scheduled', 'upload', 'pre-restore-snapshot']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHA256 = /^[0-9a-f]{64}$/;
/** Names of the objects beside a backup: a manifest naming one of them as its backup is forged. */
const NOT_A_BACKUP = ['.partial', '.globals.sql', MANIFEST_SUFFIX];

/** The roles' file of a backup: always this name (plus `.age` when encrypted), whatever a manifest says. */
export const globalsFileNameOf = (backupFileName: string) => `${backupFileName}.globals.sql`;
const isGlobalsFileOf = (backupFileName: string, name: string) =>
  name === globalsFileNameOf(backupFileName) || name === `${globalsFileNameOf(backupFileName)}.age`;

/** The roles' file a backup row names, only if it is one of the names its own file allows; else none. */
export function globalsFileOf(backup: { fileName: string; globalsFileName: string | null }): string | null {
  const name = backup.globalsFileName;
  return name && isGlobalsFileOf(backup.fileName, name) ? name : null;
}

const isTableSize = (value: unknown) => {
  const table = value as Partial<TableSize> | null;
  return typeof table?.schema === 'string' && typeof table.name === 'string' && Number.isFinite(table.bytes);
};

/**
 * A manifest read from storage, checked field by field: a rescan trusts nothing a directory or a
 * bucket holds (a planted manifest must not name another backup's files, or carry junk into the
 * catalog). null: not a manifest of ours, reported as unreadable.
 */
export function parseManifest(text: string): BackupManifest | null {
  let value: Partial<BackupManifest>;
  try {
    // Numbers exactly as written, or the text is refused: the signature covers what was read.
    value = parseSignedJson(text) as Partial<BackupManifest>;
  } catch {
    return null;
  }
  const fileName = value.fileName;
  if (
    (value.manifestVersion !== 1 && value.manifestVersion !== 2) ||
    typeof value.id !== 'string' ||
    !UUID.test(value.id) ||
    typeof fileName !== 'string' ||
    !isSafeObjectName(fileName) ||
    NOT_A_BACKUP.some((suffix) => fileName.endsWith(suffix)) ||
    typeof value.sha256 !== 'string' ||
    !SHA256.test(value.sha256) ||
    !Number.isSafeInteger(value.sizeBytes) ||
    value.sizeBytes! < 0 ||
    typeof value.format !== 'string' ||
    !ORIGINS.has(value.origin) ||
    typeof value.createdAt !== 'string' ||
    Number.isNaN(Date.parse(value.createdAt)) ||
    !(value.tableSizes === undefined || (Array.isArray(value.tableSizes) && value.tableSizes.every(isTableSize))) ||
    !(value.description === undefined || typeof value.description === 'string') ||
    !(value.globalsFileName === undefined || isGlobalsFileOf(fileName, String(value.globalsFileName)))
  ) {
    return null;
  }
  const common = { ...value, description: value.description ?? '', tableSizes: value.tableSizes ?? [] };
  if (value.manifestVersion === 1) {
    return {
      ...common,
      codec: value.format === 'plain-gzip' ? 'gzip' : 'none',
      contentSha256: null,
    } as BackupManifest;
  }
  if (!CODECS.has(value.codec) || !(value.contentSha256 === null || SHA256.test(String(value.contentSha256)))) {
    return null;
  }
  return common as BackupManifest;
}

/** Writes the manifest of a committed backup, as an object of its own. */
export async function writeManifest(storage: ObjectStorage, manifest: BackupManifest): Promise<void> {
  const writer = await storage.createWriter(manifestNameOf(manifest.fileName));
  try {
    writer.stream.end(JSON.stringify(manifest, null, 2) + '\n');
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** Every manifest in storage; names of those that do not parse or do not name their own backup. */
export async function listManifests(
  storage: ObjectStorage,
): Promise<{ manifests: BackupManifest[]; unreadable: string[] }> {
  const manifests: BackupManifest[] = [];
  const unreadable: string[] = [];
  for (const object of await storage.list(MANIFEST_SUFFIX)) {
    const manifest = parseManifest(await readText(storage, object.name));
    if (manifest && manifestNameOf(manifest.fileName) === object.name) manifests.push(manifest);
    else unreadable.push(object.name);
  }
  return { manifests, unreadable };
}

/** The manifest beside a backup's file, checked like a rescan's; null: missing or not one of ours. */
export async function readManifest(storage: ObjectStorage, fileName: string): Promise<BackupManifest | null> {
  const text = await readText(storage, manifestNameOf(fileName)).catch(() => null);
  const manifest = text === null ? null : parseManifest(text);
  return manifest?.fileName === fileName ? manifest : null;
}

/** A manifest is small; anything past 1 MiB is not one. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

async function readText(storage: ObjectStorage, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of await storage.openRead(name)) {
    chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
    if (length > MAX_MANIFEST_BYTES) return '';
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Removes a backup's manifest first: an object without one is an orphan rescan reports, never a ghost backup. */
export async function removeWithManifest(storage: ObjectStorage, fileName: string): Promise<void> {
  await storage.remove(manifestNameOf(fileName));
  await storage.remove(fileName);
}
