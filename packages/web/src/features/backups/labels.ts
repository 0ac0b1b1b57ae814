/** Words for the server's enum-like strings; an unknown value is shown as it is. */

const FORMATS: Record<string, string> = {
  custom: 'Custom',
  tar: 'Tar',
  plain: 'Plain SQL',
  'plain-gzip': 'SQL (gzip)',
};

const ORIGINS: Record<string, string> = {
  manual: 'Manual',
  scheduled: 'Scheduled',
  upload: 'Upload',
  'pre-restore-snapshot': 'Safety snapshot',
};

const PHASES: Record<string, string> = {
  starting: 'Starting',
  snapshot: 'Taking a safety snapshot',
  schema: 'Creating the schema',
  data: 'Copying data',
  'post-data': 'Building indexes and constraints',
  finishing: 'Finishing',
  done: 'Done',
};

const KINDS: Record<string, string> = {
  backup: 'Backup',
  restore: 'Restore',
  verify: 'Verification',
  prune: 'Retention prune',
  copy: 'Copy to a destination',
  reencrypt: 'Re-encryption',
};

export const ORIGIN_CHOICES = Object.entries(ORIGINS).map(([value, label]) => ({ value, label }));

export const formatLabel = (format: string) => FORMATS[format] ?? format;
export const originLabel = (origin: string) => ORIGINS[origin] ?? origin;
export const phaseLabel = (phase: string) => PHASES[phase] ?? phase;
export const kindLabel = (kind: string) => KINDS[kind] ?? kind;

/**
 * A failed restore's entry, as pg_dump's headers name it ("Data for Name: people; Type: TABLE DATA;
 * Schema: public"), in words: "the data of table public.people", "TABLE public.people".
 */
export function entryLabel(entry: string): string {
  const match = /^(Data for )?Name: (.*?); Type: ([A-Z ]+); Schema: (.*)$/.exec(entry);
  if (!match) return entry;
  const [, dataFor, name = '', type = '', schema = ''] = match;
  const qualified = schema === '-' ? name : `${schema}.${name}`;
  return dataFor ? `the data of table ${qualified}` : `${type.toLowerCase()} ${qualified}`;
}

/** A new backup's SHA-256 is computed while it is written: "recorded" until a verification reads it back. */
export function checksumLabel(verifyStatus: string | null): string {
  if (verifyStatus === 'ok') return '✓ Verified';
  if (verifyStatus === 'failed') return '✗ Verification failed';
  return 'Checksum recorded';
}
