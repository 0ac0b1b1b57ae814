import { createHash } from 'node:crypto';
import { Duplex, Readable, type Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { CodedError, EngineError } from '../errors.js';
import { PAYLOAD_NONCE_BYTES, PayloadDecrypter, PayloadEncrypter, payloadKey } from './age-payload.js';

/*
 * The age format (age-encryption.org/v1) as Node streams, through npm age-encryption. Only X25519
 * recipients and passphrases: Debian's age 1.1 (what a bare machine restores with) reads both, and
 * not the post-quantum ones. age encrypts in 64 KiB chunks, so memory stays bounded whatever the size.
 */

// bech32: "age1" + 58 characters of its alphabet (32 bytes and a checksum); the library checks the checksum.
const RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
const IDENTITY = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

/** What a stream is encrypted to: age recipients (age1…), or one passphrase; never both. */
export interface AgeEncryptTo {
  recipients?: readonly string[];
  passphrase?: string;
  /** scrypt's log2 work factor for a passphrase (age's default, 18, when absent; tests use less). */
  scryptWorkFactor?: number;
}

/** What opens a stream: identities (AGE-SECRET-KEY-1…) and/or a passphrase. */
export interface AgeDecryptWith {
  identities?: readonly string[];
  passphrase?: string;
}

/** The short public fingerprint manifests record: sha256 of the recipient string, 16 hex characters. */
export function recipientFingerprint(recipient: string): string {
  return createHash('sha256').update(recipient).digest('hex').slice(0, 16);
}

/** A recipient, trimmed and checked; `key/invalid-recipient` (naming its position, never a secret) otherwise. */
export function parseRecipient(text: string, label = 'The recipient'): string {
  const recipient = text.trim();
  if (!RECIPIENT.test(recipient)) {
    throw new EngineError(
      'key/invalid-recipient',
      `${label} is not an age X25519 recipient (age1… , 62 characters, as age-keygen prints after "public key:").`,
    );
  }
  try {
    new Encrypter().addRecipient(recipient);
  } catch {
    throw new EngineError('key/invalid-recipient', `${label} is not a valid age recipient (its checksum is wrong).`);
  }
  return recipient;
}

/**
 * The identities in an identity file's text (age-keygen's format: "#" comments, blank lines, one
 * AGE-SECRET-KEY-1… a line). The message names the line, never its content: it may be a key.
 */
export function parseIdentities(text: string): string[] {
  const identities: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (!IDENTITY.test(line)) {
      throw new EngineError(
        'key/invalid-identity',
        `Line ${index + 1} of the identity is not an age identity (AGE-SECRET-KEY-1…, as age-keygen writes it).`,
      );
    }
    try {
      new Decrypter().addIdentity(line);
    } catch {
      throw new EngineError(
        'key/invalid-identity',
        `Line ${index + 1} of the identity is not a valid age identity (its checksum is wrong).`,
      );
    }
    identities.push(line);
  });
  if (identities.length === 0) {
    throw new EngineError('key/invalid-identity', 'The identity holds no AGE-SECRET-KEY-1… line.');
  }
  return identities;
}

/** A new X25519 identity and its recipient (the identity is the secret half). */
export async function generateAgeIdentity(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/** The recipient an identity opens files for. */
export async function recipientOfIdentity(identity: string): Promise<string> {
  const [parsed] = parseIdentities(identity);
  return identityToRecipient(parsed!);
}

/**
 * The library's Encrypter for `to`; `fileKey` (a custom recipient that adds no stanza) sees the
 * file key of each file it encrypts, so that the payload can be encrypted outside the library.
 */
function encrypterFor(to: AgeEncryptTo, fileKey?: (key: Uint8Array) => void): Encrypter {
  const recipients = (to.recipients ?? []).map((recipient, index) =>
    parseRecipient(recipient, `Recipient ${index + 1}`),
  );
  const passphrase = to.passphrase ?? '';
  if (recipients.length > 0 && passphrase !== '') {
    throw new EngineError(
      'key/mixed-recipients',
      'age encrypts to recipients or to a passphrase, never both: choose one. Nothing was written.',
    );
  }
  if (recipients.length === 0 && passphrase === '') {
    throw new EngineError(
      'key/no-recipient',
      'Nothing to encrypt to: give at least one age recipient or a passphrase.',
    );
  }
  const encrypter = new Encrypter();
  if (passphrase !== '') {
    if (to.scryptWorkFactor !== undefined) encrypter.setScryptWorkFactor(to.scryptWorkFactor);
    encrypter.setPassphrase(passphrase);
  }
  for (const recipient of new Set(recipients)) encrypter.addRecipient(recipient);
  if (fileKey && passphrase === '') {
    encrypter.addRecipient({
      wrapFileKey: (key: Uint8Array) => {
        fileKey(key);
        return [];
      },
    });
  }
  return encrypter;
}

/**
 * A transform whose input is the clear stream and whose output is the age file. Recipients are
 * checked before it is returned, so a bad one fails before any work. Plug it into a pipeline:
 * `pipeline(source, await encryptTransform({ recipients }), sink)`.
 *
 * To recipients, the library writes the header (its recipients' stanzas and MAC) of an empty file,
 * whose file key and nonce then key the payload, encrypted by OpenSSL (age-payload.ts): the same
 * format, a fraction of the CPU. A passphrase (scrypt hides the file key) keeps the library's own stream.
 */
export async function encryptTransform(to: AgeEncryptTo): Promise<Transform | Duplex> {
  let fileKey: Uint8Array | undefined;
  const encrypter = encrypterFor(to, (key) => (fileKey = key));
  if (to.passphrase) {
    const clear = new TransformStream<Uint8Array, Uint8Array>();
    const sealed = await encrypter.encrypt(clear.readable);
    return Duplex.fromWeb({ writable: clear.writable, readable: sealed as unknown as WebReadableStream<Uint8Array> });
  }
  // An empty file: its header, its nonce, and one empty final chunk (a 16-byte tag). That tag is
  // sealed under the same key and nonce as our own first chunk when the file is one chunk long, so
  // it is dropped here and must never be written or kept: two tags under one nonce would give away
  // Poly1305's one-time key.
  const empty = await encrypter.encrypt(new Uint8Array(0));
  const prefix = Buffer.from(empty.subarray(0, empty.length - 16));
  return new PayloadEncrypter(payloadKey(fileKey!, prefix.subarray(-PAYLOAD_NONCE_BYTES)), prefix);
}

// The library's message for a header no identity (or passphrase) opens; anything else is damage.
function decryptError(error: unknown): CodedError {
  if (error instanceof CodedError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/no identity matched/.test(message)) {
    return new EngineError(
      'key/wrong-identity',
      'The identity (or passphrase) given does not open this file: it was encrypted to other recipients. Nothing was written.',
    );
  }
  return new EngineError('archive/corrupt', `The encrypted file is damaged or not an age file (${message}).`, {
    cause: message,
  });
}

function decrypterFor(keys: AgeDecryptWith): Decrypter {
  const identities = (keys.identities ?? []).flatMap((identity) => parseIdentities(identity));
  if (identities.length === 0 && !keys.passphrase) {
    throw new EngineError('key/invalid-identity', 'An encrypted file needs an identity (or its passphrase) to open.');
  }
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  if (keys.passphrase) decrypter.addPassphrase(keys.passphrase);
  return decrypter;
}

/** The longest header read before a file is judged no age file (a hybrid recipient's stanza is ~1.6 KB). */
const MAX_HEADER_BYTES = 1024 * 1024;

/**
 * The clear stream of an age file. The header is read and opened before this resolves, so a wrong
 * identity (`key/wrong-identity`) or a file that is no age file (`archive/corrupt`) rejects before
 * a byte is produced; damage later in the payload fails the stream with `archive/corrupt` (every
 * 64 KiB chunk is authenticated, and so is the end: a truncated file never ends cleanly). An
 * error of `input` itself (a read that failed) is passed on unchanged, before or after the header. The
 * library opens the header; OpenSSL decrypts the payload (age-payload.ts).
 */
export async function decryptStream(input: Readable, keys: AgeDecryptWith): Promise<Readable> {
  const decrypter = decrypterFor(keys);
  // One listener for the input's whole life: an error while the header is being opened (a socket
  // reset) is kept for below, never an unhandled 'error' event that would end the process. The
  // input's own error is the reader's (destination/unreachable from a bucket cut midway): it is
  // passed on as it is, never taken for damage to the file.
  let clear: PayloadDecrypter | undefined = undefined;
  let inputError: Error | undefined;
  input.on('error', (error) => {
    if (clear) clear.destroy(error);
    else inputError ??= error;
  });
  let key: Buffer;
  let rest: Buffer;
  try {
    const head = await readHeader(input);
    rest = head.rest;
    key = payloadKey(await decrypter.decryptHeader(head.header), head.nonce);
    if (inputError) throw inputError;
  } catch (error) {
    input.destroy();
    throw inputError ?? decryptError(error);
  }
  clear = new PayloadDecrypter(key, decryptError);
  // Whoever reads the clear stream may stop early (or it failed): the input is not read on.
  clear.on('close', () => {
    if (!input.readableEnded) input.destroy();
  });
  // What the header read took beyond the nonce goes first. Not pushed back into `input`: a piped
  // stream that has ended refuses an unshift (the bytes were lost, seen with a PassThrough).
  if (rest.length > 0) clear.write(rest);
  if (input.readableEnded) clear.end();
  else input.pipe(clear);
  return clear;
}

/**
 * The header (up to its MAC line), the payload's nonce, and the bytes read beyond them.
 * Linear in the header's length however the input is cut (a hostile source may send 1-byte chunks):
 * the buffer doubles and each search starts where the last one stopped.
 */
async function readHeader(input: Readable): Promise<{ header: Buffer; nonce: Buffer; rest: Buffer }> {
  let buffer = Buffer.alloc(4096);
  let length = 0;
  let macLine = -1;
  let lineEnd = -1;
  let scanned = 0;
  for (;;) {
    const head = buffer.subarray(0, length);
    if (length >= AGE_MAGIC.length && !isAgeHeader(head)) throw new Error('no age header');
    // A match may straddle the previous end: back up by the pattern's length less one.
    if (macLine < 0) macLine = head.indexOf('\n--- ', Math.max(0, scanned - 4));
    if (macLine >= 0 && lineEnd < 0) {
      const newline = head.indexOf('\n', Math.max(macLine + 1, scanned));
      if (newline >= 0) lineEnd = newline + 1;
    }
    scanned = length;
    if (lineEnd > 0 && length >= lineEnd + PAYLOAD_NONCE_BYTES) {
      return {
        header: head.subarray(0, lineEnd),
        nonce: head.subarray(lineEnd, lineEnd + PAYLOAD_NONCE_BYTES),
        rest: head.subarray(lineEnd + PAYLOAD_NONCE_BYTES),
      };
    }
    if (length > MAX_HEADER_BYTES) throw new Error('the header is too long');
    const chunk = await nextChunk(input);
    if (chunk === null) throw new Error('the file ends within its header');
    if (length + chunk.length > buffer.length) {
      const grown = Buffer.alloc(Math.max(buffer.length * 2, length + chunk.length));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    chunk.copy(buffer, length);
    length += chunk.length;
  }
}

/** The next chunk a paused stream has, or null at its end; a stream already failed or closed rejects. */
function nextChunk(input: Readable): Promise<Buffer | null> {
  if (input.errored) return Promise.reject(input.errored);
  if (input.destroyed) return Promise.reject(new Error('the input closed within the header'));
  const ready = input.read() as Buffer | null;
  if (ready !== null) return Promise.resolve(ready);
  return new Promise((resolve, reject) => {
    const done = (settle: () => void) => () => {
      input.off('readable', onReadable).off('end', onEnd).off('error', onError).off('close', onClose);
      settle();
    };
    const onReadable = () => {
      const chunk = input.read() as Buffer | null;
      if (chunk !== null) done(() => resolve(chunk))();
    };
    const onEnd = done(() => resolve(null));
    const onError = (error: Error) => done(() => reject(error))();
    // Destroyed without an error, a stream sends neither 'end' nor 'error'.
    const onClose = () => {
      if (!input.readableEnded) done(() => reject(input.errored ?? new Error('the input closed within the header')))();
    };
    input.on('readable', onReadable).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** A small value (a manifest's schema-revealing fields) as one age file. */
export async function encryptBytes(to: AgeEncryptTo, clear: Uint8Array): Promise<Uint8Array> {
  return encrypterFor(to).encrypt(clear);
}

/** The reverse of encryptBytes, with the same coded errors as decryptStream. */
export async function decryptBytes(sealed: Uint8Array, keys: AgeDecryptWith): Promise<Uint8Array> {
  try {
    return await decrypterFor(keys).decrypt(sealed);
  } catch (error) {
    throw decryptError(error);
  }
}

/** age's own magic line: how a stored or uploaded file is recognised as encrypted. */
export const AGE_MAGIC = 'age-encryption.org/v1\n';

export function isAgeHeader(head: Uint8Array): boolean {
  return Buffer.from(head.subarray(0, AGE_MAGIC.length)).toString('latin1') === AGE_MAGIC;
}
