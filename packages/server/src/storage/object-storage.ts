import type { Readable, Writable } from 'node:stream';

/**
 * Where backups live, as streams only: a local directory and S3-compatible object storage implement
 * the same interface, so no caller ever sees a file-system path (issue #12, part 1).
 *
 * Names are flat object names chosen by the service (`isSafeObjectName`); an implementation
 * maps them under its own directory or bucket prefix.
 */
export interface ObjectStorage {
  readonly kind: 'local' | 's3';
  /** For display and logs: a directory, or `s3://bucket/prefix` at an endpoint. Never a secret. */
  readonly location: string;

  /**
   * A writer whose data becomes visible under `name` only on commit. `expectedBytes` (when known)
   * lets object storage size its multipart parts so that the largest backups fit in 10,000 parts.
   */
  createWriter(name: string, options?: { expectedBytes?: number }): Promise<ObjectWriter>;

  /** Reads a committed object, or a byte range of it (inclusive `end`, as `fs.createReadStream`). */
  openRead(name: string, range?: { start: number; end: number }): Promise<Readable>;

  /** Size of a committed object; null when it does not exist. */
  stat(name: string): Promise<{ sizeBytes: number } | null>;

  /** Committed objects whose name ends with `suffix` (all when omitted). */
  list(suffix?: string): Promise<StoredObject[]>;

  /** Removes a committed object; a missing one is not an error. */
  remove(name: string): Promise<void>;

  /**
   * Discards what an interrupted writer left (a `.partial` file, an unfinished multipart upload),
   * given the `partialRef` the writer reported. Used by recovery after a crash; never throws for
   * something already gone.
   */
  discardPartial(partialRef: string): Promise<void>;

  /** Free bytes where that is knowable (a local disk); null for object storage. */
  freeBytes(): Promise<number | null>;

  /** Proves the storage is reachable and writable (writes, reads back and removes a probe object). */
  test(): Promise<void>;
}

export interface ObjectWriter {
  /** Opaque, stored in the job row while the writer is open, so another instance can clean up after a crash. */
  readonly partialRef: string;
  readonly stream: Writable;
  /** Waits for the stream to finish, makes the object durable and visible under its name. */
  commit(): Promise<{ sizeBytes: number }>;
  /** Removes whatever was written. Safe to call more than once, and after a failed commit. */
  abort(): Promise<void>;
}

export interface StoredObject {
  name: string;
  sizeBytes: number;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Object names are generated, but check anyway: nothing may escape a directory or prefix. */
export function isSafeObjectName(name: string): boolean {
  return SAFE_NAME.test(name) && !name.includes('..') && name.length <= 200;
}
