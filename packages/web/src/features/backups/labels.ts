/** Words for the server's enum-like strings; an unknown value is shown as it is. */

const FORMATS: Record<string, string> = {
  custom: 'Custom',
  tar: 'Tar',
  plain: 'Plain SQL',
  'plain-gzip': 'SQL (gzip)',
};

const ORIGINS: Record<string, string> = {
  manual: 'Manual',
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
};

export const formatLabel = (format: string) => FORMATS[format] ?? format;
export const originLabel = (origin: string) => ORIGINS[origin] ?? origin;
export const phaseLabel = (phase: string) => PHASES[phase] ?? phase;
export const kindLabel = (kind: string) => KINDS[kind] ?? kind;
