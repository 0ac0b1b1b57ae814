import { createHash } from 'node:crypto';
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
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const stream = await storage.openRead(fileName);
  const abort = () => stream.destroy(signal.reason as Error);
  signal.addEventListener('abort', abort, { once: true });
  try {
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      sizeBytes += (chunk as Buffer).length;
    }
  } finally {
    signal.removeEventListener('abort', abort);
  }
  return { sha256: hash.digest('hex'), sizeBytes, contentSha256: null };
}
