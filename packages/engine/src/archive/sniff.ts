/** What a backup file is, judged by its bytes, never by its name. */
export type ArchiveFormat = 'custom' | 'tar' | 'plain' | 'plain-gzip';

/** How many leading bytes sniffFormat needs. */
export const SNIFF_BYTES = 4096;

/**
 * Identifies a file from its first bytes: pg_dump's custom format starts with
 * "PGDMP", tar has "ustar" at offset 257, gzip starts 1f 8b, and plain SQL is
 * text (no NUL bytes, valid UTF-8 apart from a character cut at the end).
 */
export function sniffFormat(head: Buffer): ArchiveFormat | null {
  if (head.length >= 5 && head.subarray(0, 5).toString('latin1') === 'PGDMP') return 'custom';
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'plain-gzip';
  if (head.length > 0 && looksLikeText(head)) return 'plain';
  return null;
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

/** The file extension a stored backup gets, from its format. */
export function extensionFor(format: ArchiveFormat): string {
  return { custom: '.dump', tar: '.tar', plain: '.sql', 'plain-gzip': '.sql.gz' }[format];
}
