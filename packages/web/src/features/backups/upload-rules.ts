import { formatBytes } from '@/format/format';

/** The file types the server can restore (checked again, by content, on the server); also zstd-compressed or age-encrypted. */
export const ACCEPTED_EXTENSIONS = ['.dump', '.backup', '.sql', '.sql.gz', '.tar', '.zst', '.age'] as const;

/** An age-encrypted file: the server needs the identity that opens it (by name here; by content there). */
export const isEncryptedName = (name: string) => name.toLowerCase().endsWith('.age');

/** null when the file may be uploaded, else why not. */
export function checkUploadFile(file: Pick<File, 'name' | 'size'>, maxBytes: number): string | null {
  const name = file.name.toLowerCase();
  if (!ACCEPTED_EXTENSIONS.some((extension) => name.endsWith(extension))) {
    return `“${file.name}” is not a backup file. Choose a ${ACCEPTED_EXTENSIONS.join(', ')} file.`;
  }
  if (file.size === 0) return `“${file.name}” is empty.`;
  if (file.size > maxBytes) {
    return `“${file.name}” is ${formatBytes(file.size)}; the server accepts files up to ${formatBytes(maxBytes)}.`;
  }
  return null;
}
