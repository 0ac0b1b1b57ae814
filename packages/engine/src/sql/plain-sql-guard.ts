import { Transform } from 'node:stream';
import { PlainSqlLexer } from './plain-sql-lexer.js';
import { StatementPolicy, type StatementPolicyOptions } from './plain-sql-policy.js';

/**
 * The gate between a plain SQL script (pg_dump's plain output, pg_restore's script output, or
 * an uploaded file, which is hostile) and `psql -X -v ON_ERROR_STOP=1` running inside the one
 * transaction the service opens. It passes the script through byte for byte except that it
 *  - removes pg_dump's own framing lines: "\restrict KEY" / "\unrestrict KEY" and the
 *    "BEGIN;" / "COMMIT;" pairs around large objects or a --single-transaction script, each
 *    only alone on its line where psql starts a new query;
 *  - adds a final newline when the script lacks one;
 * and refuses (EngineError 'restore/unsafe-sql', details { line, statement }) any other psql
 * meta-command, transaction control, COPY other than "COPY ... FROM stdin", a switch to a
 * client encoding psql cannot lex safely, and whatever it cannot read exactly as psql would.
 *
 * Bytes are passed on only once validated, and a trailing word is held back until it is
 * complete: psql sends what it holds when its input ends early, and a bare "COMMIT" must
 * never be what it holds.
 *
 * It relies on ON_ERROR_STOP (after a failed COPY psql would read the data lines as SQL) and is
 * a second line behind the service's own "\restrict KEY": a script that switches
 * client_encoding from inside a function could still make psql read it differently.
 */
export interface PlainSqlGuard {
  /** Validates the next chunk (split anywhere); returns what may be passed on. Throws when refused. */
  push(chunk: Buffer): Buffer;
  /** Validates the end of the script; returns the last bytes. Throws when refused. */
  end(): Buffer;
}

/**
 * options.owner: the role a restore runs as, when known (only its own default privileges may change);
 * noOwner / noPrivileges leave out what pg_restore -O / -x would.
 */
export function createPlainSqlGuard(options: StatementPolicyOptions = {}): PlainSqlGuard {
  return new PlainSqlLexer(new StatementPolicy(options));
}

/** The guard as a stream stage: the restore pipes the script through it into psql. */
export function plainSqlGuardStream(options: StatementPolicyOptions = {}): Transform {
  const guard = createPlainSqlGuard(options);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      let out: Buffer;
      try {
        out = guard.push(chunk);
      } catch (error) {
        callback(error as Error);
        return;
      }
      callback(null, out.length > 0 ? out : undefined);
    },
    flush(callback) {
      let out: Buffer;
      try {
        out = guard.end();
      } catch (error) {
        callback(error as Error);
        return;
      }
      callback(null, out.length > 0 ? out : undefined);
    },
  });
}

/**
 * Pre-flight validation of a whole script with the same guard, output discarded: a script that
 * passes here is passed through unchanged (but for the framing lines) when restored.
 */
export async function scanPlainSql(source: AsyncIterable<Buffer>): Promise<void> {
  const guard = createPlainSqlGuard();
  for await (const chunk of source) guard.push(chunk);
  guard.end();
}
