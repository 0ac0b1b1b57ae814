import { Transform, type TransformCallback } from 'node:stream';

/**
 * Buffers of 16 KB (Node's default) paused the pipeline after every batch while it was written, and
 * a paused pipe stalls the tool writing into it: a few MB of slack keep pg_dump running.
 */
export const ROOMY_STREAM = { highWaterMark: 4 * 1024 * 1024 };

/**
 * Gathers small chunks into ones of at least `bytes`. The tools write their output in pieces of a
 * few KB, and passing each piece on costs a write call: in a profile of the service over two
 * backups and two restores of a 200 MB database, its main thread spent 1.5 s in write calls
 * without batching and 0.3 s with it.
 */
export class ChunkBatcher extends Transform {
  private pending: Buffer[] = [];
  private size = 0;

  constructor(private readonly bytes = 256 * 1024) {
    super(ROOMY_STREAM);
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
