import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Decrypter, Encrypter } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptStream, encryptTransform, generateAgeIdentity } from '../../../src/crypto/age-stream.js';
import { EngineError } from '../../../src/errors.js';

// The payload is encrypted and decrypted by OpenSSL (age-payload.ts), the header by npm
// age-encryption: at every size around the 64 KiB chunk, files must read both ways with the library
// and with Debian's age, the last chunk flagged exactly where the library flags it.
const CHUNK = 64 * 1024;
const SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgbs-age-payload-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Split into uneven pieces, as pipes deliver them. */
function pieces(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0, size = 1; offset < bytes.length; offset += size, size = (size * 7 + 3) % 50_000) {
    out.push(bytes.subarray(offset, offset + size));
  }
  return out;
}

describe('age payload through OpenSSL', () => {
  it('at every size around a chunk: the library and Debian age open what the module writes, and the module what the library writes', async () => {
    const { identity, recipient } = await generateAgeIdentity();
    const identityFile = join(dir, 'key.txt');
    await writeFile(identityFile, `${identity}\n`);
    for (const size of SIZES) {
      const clear = randomBytes(size);
      const sealed = await collect(
        Readable.from(pieces(clear)).pipe(await encryptTransform({ recipients: [recipient] })),
      );
      // The library's own size: header + nonce + one 16-byte tag per chunk (at least one).
      const library = new Encrypter();
      library.addRecipient(recipient);
      const reference = await library.encrypt(clear);
      expect(sealed.length, `size ${size}`).toBe(reference.length);

      const decrypter = new Decrypter();
      decrypter.addIdentity(identity);
      expect(Buffer.from(await decrypter.decrypt(sealed)).equals(clear), `library opens ${size}`).toBe(true);
      const file = join(dir, `sealed-${size}.age`);
      await writeFile(file, sealed);
      const age = spawnSync('/usr/bin/age', ['-d', '-i', identityFile, file], { maxBuffer: 16 * 1024 * 1024 });
      expect(age.status, age.stderr?.toString()).toBe(0);
      expect(age.stdout.equals(clear), `age opens ${size}`).toBe(true);

      const opened = await collect(
        await decryptStream(Readable.from(pieces(Buffer.from(reference))), { identities: [identity] }),
      );
      expect(opened.equals(clear), `module opens ${size}`).toBe(true);
    }
  });

  it('a file cut at a chunk boundary (its last chunk gone) fails with archive/corrupt, never ends early', async () => {
    const { identity, recipient } = await generateAgeIdentity();
    const sealed = await collect(
      Readable.from([randomBytes(3 * CHUNK)]).pipe(await encryptTransform({ recipients: [recipient] })),
    );
    const cut = sealed.subarray(0, sealed.length - (CHUNK + 16));
    const error = await collect(await decryptStream(Readable.from([cut]), { identities: [identity] })).catch(
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('archive/corrupt');
  });
});
