import { pipeline } from 'node:stream/promises';
import { DigestStream, discardSink } from '@pgbs/engine';
import type { ObjectStorage } from '../../storage/object-storage.js';

/**
 * The stored bytes' sha256 and size, read once: what `backup verify` checks of an encrypted
 * backup without its identity. contentSha256 is null: the content is not read.
 */
export async function storedDigest(
  storage: Pick<ObjectStorage, 'openRead'>,
  fileName: string,
  signal: AbortSignal,
): Promise<{ sha256: string; sizeBytes: number; contentSha256: null }> {
  const digest = new DigestStream();
  await pipeline(await storage.openRead(fileName), digest, discardSink(), { signal });
  return { sha256: digest.sha256(), sizeBytes: digest.bytes, contentSha256: null };
}
