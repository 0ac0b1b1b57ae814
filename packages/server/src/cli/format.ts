import type { BackupRow } from '../db/schema.js';

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatBackupTable(rows: readonly BackupRow[]): string {
  if (rows.length === 0) return 'No backups yet. Create one with: pnpm cli backup create';
  const table = rows.map((row) => [
    row.id,
    row.createdAt.toISOString().replace('T', ' ').slice(0, 19),
    row.format,
    formatBytes(row.sizeBytes),
    row.origin,
    row.verifyStatus ?? '-',
    row.description,
  ]);
  const header = ['ID', 'CREATED (UTC)', 'FORMAT', 'SIZE', 'ORIGIN', 'VERIFIED', 'DESCRIPTION'];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...table.map(line)].join('\n');
}
