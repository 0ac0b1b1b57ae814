import { Writable } from 'node:stream';

/** A sink that takes everything and keeps nothing: for streams read only for what they count or hash. */
export function discardSink(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}
