import type { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { type ExpansionLimit, expansionGuard } from '../compression/expansion-limit.js';
import { EngineError } from '../errors.js';
import { requireSqlText } from './require-sql-text.js';

/** Stages that turn a .sql.gz byte stream into SQL text, refusing anything else and anything past `maxBytes` (a bomb). */
export function gunzipSqlStages(maxBytes: number, limit?: ExpansionLimit): Transform[] {
  return [createGunzip(), expansionGuard(maxBytes, limit), requireSqlText()];
}

/** zlib's errors as the coded errors users see. */
export function gzipError(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'Z_BUF_ERROR') return new EngineError('archive/truncated', 'The gzip file is truncated.');
  if (code === 'Z_DATA_ERROR') return new EngineError('archive/corrupt', 'The gzip file is corrupt.');
  return error;
}
