import { EngineError, type EngineErrorCode } from '../errors.js';

interface Rule {
  pattern: RegExp;
  code: EngineErrorCode;
  explain: (match: RegExpExecArray) => string;
}

const RULES: Rule[] = [
  {
    pattern: /server version mismatch|server version: ([\d.]+); \S+ version: ([\d.]+)/i,
    code: 'pg/version-mismatch',
    explain: () =>
      'The client tools are older than the database server. Install newer PostgreSQL client tools or set PG_BIN_DIR.',
  },
  {
    pattern: /role "([^"]+)" does not exist/,
    code: 'restore/missing-role',
    explain: (m) =>
      `The backup assigns objects to role "${m[1]}", which does not exist on the target server. Create the role, or restore with the no-owner and no-privileges options.`,
  },
  {
    pattern: /No space left on device|could not extend file|disk full/i,
    code: 'backup/disk-full',
    explain: () => 'The disk is full.',
  },
  {
    pattern: /unsupported version \(([\d.]+)\) in file header/,
    code: 'archive/too-new',
    explain: (m) => `The archive format ${m[1]} is newer than this pg_restore understands: install newer client tools.`,
  },
  {
    pattern: /unexpected end of file|could not read from input file: end of file|end of file/i,
    code: 'archive/truncated',
    explain: () => 'The archive is truncated: it ends before its last entry.',
  },
  {
    pattern: /did not find magic string|does not appear to be a valid archive|input file is too short/i,
    code: 'archive/unknown-format',
    explain: () => 'The file is not a PostgreSQL archive.',
  },
  {
    pattern:
      /could not uncompress|invalid (stored )?block|corrupt|unrecognized data block type|could not decompress|zlib/i,
    code: 'archive/corrupt',
    explain: () => 'The archive is corrupt.',
  },
  {
    pattern:
      /could not connect|connection to server .* failed|password authentication failed|no pg_hba\.conf entry|could not translate host name/i,
    code: 'pg/connection-failed',
    explain: () => 'Cannot connect to the database server.',
  },
];

/** The first line that says what went wrong, without the tool's prefix. */
export function firstErrorLine(stderr: readonly string[]): string | undefined {
  const line = stderr.find((l) => /\b(error|fatal|ERROR|FATAL):/.test(l)) ?? stderr.filter((l) => l.trim()).at(-1);
  return line?.replace(/^(pg_dump|pg_restore|psql)(:<stdin>:\d+)?:\s*/, '').trim();
}

/**
 * Turns a tool's stderr into one coded error. The tool's own words are kept as
 * the detail (they name the object), after our explanation of what to do.
 */
export function classifyToolFailure(
  tool: string,
  stderr: readonly string[],
  fallback: EngineErrorCode,
  extra: Record<string, unknown> = {},
): EngineError {
  const text = stderr.join('\n');
  const detail = firstErrorLine(stderr) ?? `${tool} failed without a message`;
  for (const rule of RULES) {
    const match = rule.pattern.exec(text);
    if (match) {
      return new EngineError(rule.code, `${rule.explain(match)} (${tool}: ${detail})`, { tool, detail, ...extra });
    }
  }
  return new EngineError(fallback, `${tool} failed: ${detail}`, { tool, detail, ...extra });
}
