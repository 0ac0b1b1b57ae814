/**
 * The engine's stable error codes: only those it raises itself. Clients (CLI, GraphQL, panel) map
 * these to messages; the codes never change meaning once released. The server adds its own codes
 * (packages/server/src/errors/error-codes.ts).
 */
export const ENGINE_ERROR_CODES = [
  'pg/version-mismatch',
  'pg/tool-not-found',
  'pg/connection-failed',
  'pg/tool-failed',
  'backup/checksum-mismatch',
  'backup/disk-full',
  'backup/permission-denied',
  'archive/unknown-format',
  'archive/corrupt',
  'archive/truncated',
  'archive/too-new',
  'archive/empty',
  'archive/window-too-large',
  'archive/expansion-too-large',
  'restore/unsafe-sql',
  'restore/failed',
  'restore/missing-role',
  'restore/unsafe-owner',
  'restore/not-owner',
  'restore/unrestorable',
  'restore/target-busy',
  'restore/cannot-terminate',
  'job/cancelled',
  'config/invalid',
  'key/invalid-recipient',
  'key/invalid-identity',
  'key/wrong-identity',
  'key/identity-required',
  'key/mixed-recipients',
  'key/no-recipient',
] as const;

export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

/**
 * An error a user can act on: a stable code, a message for humans, details for logs and audits.
 * The base of the engine's errors and the server's, so a caller (or an abort reason handed down
 * to the engine) keeps its own code whichever side raised it.
 */
export class CodedError<Code extends string = string> extends Error {
  override readonly name: string = 'CodedError';
  constructor(
    readonly code: Code,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class EngineError extends CodedError<EngineErrorCode> {
  override readonly name = 'EngineError';
}

export function isEngineError(error: unknown, code?: EngineErrorCode): error is EngineError {
  return error instanceof EngineError && (code === undefined || error.code === code);
}
