import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/*
 * age's payload (age-encryption.org/v1, "Payload"): HKDF-SHA-256(file key, salt = the 16-byte
 * nonce, info "payload") keys ChaCha20-Poly1305 over 64 KiB chunks, each chunk's nonce an 11-byte
 * big-endian counter and a last-chunk flag byte. npm age-encryption does this in JavaScript
 * (@noble/ciphers), on the main thread, the costliest stage of a backup after zstd (`pnpm bench
 * stages`: ~22 ms per MB); OpenSSL's ChaCha20-Poly1305 takes a third of that or less, measured the
 * same way. The header (recipients, MAC) stays the library's.
 */

const CHUNK = 64 * 1024;
const TAG = 16;
export const PAYLOAD_NONCE_BYTES = 16;

/** The payload key of a file: its file key and the nonce written after its header. */
export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
}

function chunkNonce(counter: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  // Six bytes count 2^48 chunks of 64 KiB (2^64 bytes): past that writeUIntBE throws, so a nonce
  // is never reused; the counter's high bytes stay zero.
  nonce.writeUIntBE(counter, 5, 6);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** Buffers its input into chunks of `size`; a full chunk is sealed only once more input shows it is not the last. */
abstract class Chunked extends Transform {
  private readonly buffer: Buffer;
  private used = 0;
  protected counter = 0;

  constructor(
    size: number,
    /** What a failure to seal or open a chunk becomes. */
    private readonly failure: (error: unknown) => Error = (error) => error as Error,
  ) {
    // A few chunks of slack either side: the stream's own buffers hold 16 of them by default.
    super({ highWaterMark: 1024 * 1024 });
    this.buffer = Buffer.allocUnsafe(size);
  }

  /** A chunk's output, in pieces: copying them into one would allocate its size once more. */
  protected abstract seal(chunk: Buffer, last: boolean): Buffer[];

  private pushAll(pieces: Buffer[]): void {
    for (const piece of pieces) if (piece.length > 0) this.push(piece);
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let offset = 0;
      while (offset < data.length) {
        if (this.used === this.buffer.length) {
          this.pushAll(this.seal(this.buffer, false));
          this.counter++;
          this.used = 0;
        }
        const n = Math.min(this.buffer.length - this.used, data.length - offset);
        data.copy(this.buffer, this.used, offset, offset + n);
        this.used += n;
        offset += n;
      }
      callback();
    } catch (error) {
      callback(this.failure(error));
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.pushAll(this.seal(this.buffer.subarray(0, this.used), true));
      callback();
    } catch (error) {
      callback(this.failure(error));
    }
  }
}

/** The payload's chunks from clear bytes: what npm age-encryption's encryptSTREAM writes, byte for byte. */
export class PayloadEncrypter extends Chunked {
  /** prefix: what the file holds before its payload (the header and the nonce). */
  constructor(
    private readonly key: Buffer,
    prefix: Buffer,
  ) {
    super(CHUNK);
    this.push(prefix);
  }

  protected seal(chunk: Buffer, last: boolean): Buffer[] {
    const cipher = createCipheriv('chacha20-poly1305', this.key, chunkNonce(this.counter, last), {
      authTagLength: TAG,
    });
    return [cipher.update(chunk), cipher.final(), cipher.getAuthTag()];
  }
}

/**
 * Clear bytes from the payload's chunks. Every chunk is authenticated, and the last one carries
 * its flag: a truncated payload fails at its end instead of ending early.
 */
export class PayloadDecrypter extends Chunked {
  constructor(
    private readonly key: Buffer,
    failure: (error: unknown) => Error,
  ) {
    super(CHUNK + TAG, failure);
  }

  protected seal(chunk: Buffer, last: boolean): Buffer[] {
    if (chunk.length < TAG) throw new Error('the payload is truncated');
    const decipher = createDecipheriv('chacha20-poly1305', this.key, chunkNonce(this.counter, last), {
      authTagLength: TAG,
    });
    decipher.setAuthTag(chunk.subarray(chunk.length - TAG));
    const clear = [decipher.update(chunk.subarray(0, chunk.length - TAG)), decipher.final()];
    // Only an empty file's one chunk may be empty (as the library and age itself require).
    if (last && clear[0]!.length + clear[1]!.length === 0 && this.counter > 0) {
      throw new Error('the final chunk is empty');
    }
    return clear;
  }
}
