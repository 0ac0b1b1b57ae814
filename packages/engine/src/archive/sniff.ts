/** What a backup file is, judged by its bytes, never by its name. */
export type ArchiveFormat = 'custom' | 'tar' | 'plain' | 'plain-gzip';

/** How many leading bytes sniffFormat needs. */
export const SNIFF_BYTES = 4096;

/**
 * Identifies a file from its first bytes: pg_dump's custom format starts with
 * "PGDMP", tar has "ustar" at offset 257, gzip starts 1f 8b, and plain SQL is
 * text (no NUL bytes, valid UTF-8 apart from a character cut at the end) that
 * starts like SQL.
 */
export function sniffFormat(head: Buffer): ArchiveFormat | null {
  if (head.length >= 5 && head.subarray(0, 5).toString('latin1') === 'PGDMP') return 'custom';
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'plain-gzip';
  if (head.length > 0 && looksLikeText(head) && startsLikeSql(head)) return 'plain';
  return null;
}

/** The first word of every PostgreSQL command ("SQL Commands" in its manual). */
const COMMAND_WORDS = new Set(
  (
    'abort alter analyze begin call checkpoint close cluster comment commit copy create deallocate declare delete ' +
    'discard do drop end execute explain fetch grant import insert listen load lock merge move notify prepare ' +
    'reassign refresh reindex release reset revoke rollback savepoint security select set show start table ' +
    'truncate unlisten update vacuum values with'
  ).split(' '),
);

/**
 * A README or a log is text too, and the SQL guard would then quote whatever it tripped on as
 * "unsafe SQL". SQL text starts with a comment, a psql meta-command (which the guard judges), a
 * parenthesis or a command word.
 */
function startsLikeSql(head: Buffer): boolean {
  const text = head
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (/^(--|\/\*|\\|\(|;)/.test(text)) return true;
  const word = /^[A-Za-z]+/.exec(text)?.[0].toLowerCase();
  return word !== undefined && COMMAND_WORDS.has(word);
}

function looksLikeText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  // Drop up to 3 trailing bytes: a multi-byte character may be cut by the read.
  for (let cut = 0; cut <= Math.min(3, head.length - 1); cut++) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, head.length - cut));
      return true;
    } catch {
      // try a shorter prefix
    }
  }
  return false;
}

/** pg_restore reads these; plain SQL goes through psql. */
export function isArchive(format: ArchiveFormat): format is 'custom' | 'tar' {
  return format === 'custom' || format === 'tar';
}

/** The file extension a stored backup gets, from its format and codec (`.dump.zst`: `zstd -d` gives the `.dump`). */
export function extensionFor(format: ArchiveFormat, codec: 'zstd' | 'gzip' | 'none' = 'none'): string {
  const base = { custom: '.dump', tar: '.tar', plain: '.sql', 'plain-gzip': '.sql.gz' }[format];
  return codec === 'zstd' ? `${base}.zst` : base;
}
