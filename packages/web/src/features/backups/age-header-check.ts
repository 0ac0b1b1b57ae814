import { Decrypter } from 'age-encryption';
import { identitiesIn } from './identity-text';

/** age's header is a few hundred bytes a recipient: this much of a file holds it. */
const HEADER_BYTES = 64 * 1024;

/** What the identity makes of a file's age header: it opens it, it is not one of its recipients, or there is no header to read. */
export type HeaderCheck = 'opens' | 'wrong-identity' | 'unreadable';

/**
 * Whether the identities in `identityText` open `file`'s age header, read here, in the browser: a
 * wrong key is told before a large file is sent, not after. Only the header is read and checked
 * (its MAC included); the payload is the server's to decrypt and verify.
 */
export async function checkAgeHeader(file: Blob, identityText: string): Promise<HeaderCheck> {
  const decrypter = new Decrypter();
  for (const identity of identitiesIn(identityText)) decrypter.addIdentity(identity);
  const head = new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer());
  try {
    await decrypter.decryptHeader(head);
    return 'opens';
  } catch (error) {
    return /no identity matched/.test(String(error)) ? 'wrong-identity' : 'unreadable';
  }
}
