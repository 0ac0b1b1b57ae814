import { Transform, type TransformCallback } from 'node:stream';

/**
 * Gathers small chunks into ones of at least `bytes`. The tools write their output in pieces of a
 * few KB, and passing each piece on (a write call, a hash update, a pipe write) cost the service
 * more CPU than copying the bytes: measured ~0.75 s of the service's main thread per 100 MB.
 */
export class ChunkBatcher extends Transform {
  private pending: Buffer[] = [];
  private size = 0;

  constructor(private readonly bytes = 256 * 1024) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending.push(chunk);
    this.size += chunk.length;
    if (this.size >= this.bytes) this.pushPending();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.pushPending();
    callback();
  }

  private pushPending(): void {
    if (this.size > 0) this.push(this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.size));
    this.pending = [];
    this.size = 0;
  }
}
