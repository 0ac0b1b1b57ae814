import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { ROOMY_STREAM } from './chunk-batcher.js';

/** A pass-through that hashes and counts what flows through it: files are never read twice. */
export class DigestStream extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  /**
   * roomy: a large buffer, so a file write never stalls the producer (backups). A restore's input
   * counter stays small instead: it counts what psql is about to run, not a read far ahead of it.
   */
  constructor(
    private readonly onBytes: (bytes: number) => void = () => {},
    { roomy = true }: { roomy?: boolean } = {},
  ) {
    super(roomy ? ROOMY_STREAM : {});
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes(this.bytes);
    this.push(chunk);
    callback();
  }

  /** Valid once the stream has finished. */
  sha256(): string {
    return this.hash.copy().digest('hex');
  }
}
