/**
 * Errors only the CLI raises: the API and the panel never see them, so they are not among the
 * service's codes (errors/error-codes.ts, whose every entry the panel must word).
 */
export type CliErrorCode =
  /** A command, option or argument the CLI does not take (exit code 2). */
  | 'cli/usage'
  /** An id prefix that matches more than one backup or job. */
  | 'cli/ambiguous-id'
  /** --yes takes full ids only: a prefix is confirmed by no one. */
  | 'cli/full-id-required'
  | 'cli/file-not-found'
  /** key generate --out names a file that exists: a key is never written over another. */
  | 'cli/file-exists'
  /** DATA_DIR holds no embedded PostgreSQL and --init was not given. */
  | 'cli/no-cluster'
  /** Ctrl-C at a question: nothing was changed (exit code 130). */
  | 'cli/interrupted';

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: CliErrorCode,
    message: string,
    /** For usage errors: the usage to show after the message. */
    readonly usage?: string,
  ) {
    super(message);
  }
}
