import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ServiceError } from '../../errors/service-error.js';
import { type KeyRing, keyRingOf } from './credential-box.js';

export interface KeySources {
  /** MASTER_KEY: base64 keys separated by commas, the current one first. */
  masterKey?: string;
  /** MASTER_KEY_FILE: the same, one key a line ("#" comments and blank lines allowed). */
  masterKeyFile?: string;
  /**
   * Embedded mode only: where a key is generated (mode 0600) when neither is configured, so that
   * `pnpm start` needs no setup. It sits beside the metadata database it protects.
   */
  generatedKeyFile?: string;
}

function parseKeys(text: string, origin: string): Buffer[] {
  const entries = text
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return entries.map((entry, index) => {
    const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(entry) ? Buffer.from(entry, 'base64') : Buffer.alloc(0);
    if (key.length !== 32) {
      // Never the value itself: it may be a key with one character wrong.
      throw new ServiceError(
        'key/invalid',
        `Key ${index + 1} of ${origin} is not 32 bytes in base64 (make one with: openssl rand -base64 32).`,
      );
    }
    return key;
  });
}

async function readKeyFile(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The configured key ring; an empty one (no current key) when none is configured. */
export async function loadKeyRing(sources: KeySources): Promise<KeyRing> {
  if (sources.masterKey) return keyRingOf(parseKeys(sources.masterKey, 'MASTER_KEY'));
  if (sources.masterKeyFile) {
    const text = await readKeyFile(sources.masterKeyFile);
    if (text === null)
      throw new ServiceError('key/missing', `MASTER_KEY_FILE ${sources.masterKeyFile} does not exist.`);
    return keyRingOf(parseKeys(text, 'MASTER_KEY_FILE'));
  }
  if (!sources.generatedKeyFile) return keyRingOf([]);
  const existing = await readKeyFile(sources.generatedKeyFile);
  if (existing !== null) return keyRingOf(parseKeys(existing, sources.generatedKeyFile));
  const key = randomBytes(32);
  try {
    // wx: another process starting at the same time wrote one first; use that one.
    await writeFile(sources.generatedKeyFile, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return loadKeyRing(sources);
  }
  return keyRingOf([key]);
}
