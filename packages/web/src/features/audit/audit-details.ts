import { messageFor } from '@/errors/messages';

export interface DetailItem {
  label: string;
  value: string;
}

const LABELS: Record<string, string> = {
  jobId: 'Job',
  backupId: 'Backup',
  kind: 'Kind',
  state: 'Ended',
  errorCode: 'Error',
  code: 'Error',
  fileName: 'File',
  originalName: 'File',
  source: 'Source',
  options: 'Options',
  mode: 'Restore mode',
  skipped: 'Left out',
  terminatedSessions: 'Sessions terminated',
  tokenId: 'Token',
  userId: 'User',
};

/** "sizeBytes" → "Size bytes": a key without words of its own still reads as words. */
const humanize = (key: string) => {
  const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

function valueText(key: string, value: unknown): string {
  if ((key === 'errorCode' || key === 'code') && typeof value === 'string') return `${messageFor(value)} (${value})`;
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map((item) => valueText('', item)).join(', ');
  if (typeof value === 'object' && value !== null) {
    // Options: the ones switched on, by name; other objects as "key: value" pairs.
    const entries = Object.entries(value);
    if (entries.every(([, item]) => typeof item === 'boolean')) {
      const on = entries.filter(([, item]) => item).map(([name]) => name);
      return on.length > 0 ? on.join(', ') : 'none';
    }
    return entries.map(([name, item]) => `${humanize(name)}: ${valueText(name, item)}`).join('; ');
  }
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

/** An audit event's details (JSON) as labelled lines, empty values left out. */
export function auditDetails(json: string): DetailItem[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [{ label: 'Details', value: json }];
  }
  if (typeof parsed !== 'object' || parsed === null) return [];
  return Object.entries(parsed as Record<string, unknown>)
    .filter(([, value]) => value !== null && value !== undefined && value !== '')
    .map(([key, value]) => ({ label: LABELS[key] ?? humanize(key), value: valueText(key, value) }));
}
