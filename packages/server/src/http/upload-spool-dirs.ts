import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { isUuid } from '../ids.js';

/**
 * Each instance spools uploads into a directory of its own under UPLOAD_TEMP_DIR, named by its
 * instance id: several instances (or a shared UPLOAD_TEMP_DIR) never delete each other's uploads.
 */
export function uploadSpoolDir(uploadTempDir: string, instanceId: string): string {
  return path.join(uploadTempDir, instanceId);
}

/**
 * Deletes the spool directories of instances that are gone (their uploads can belong to no request
 * or job any more). Only directories named by an instance id: whatever else is in UPLOAD_TEMP_DIR
 * stays untouched.
 */
export async function sweepUploadSpools(
  uploadTempDir: string,
  isGone: (instanceId: string) => Promise<boolean>,
): Promise<string[]> {
  const entries = await readdir(uploadTempDir, { withFileTypes: true }).catch(() => []);
  const swept: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !isUuid(entry.name) || !(await isGone(entry.name))) continue;
    await rm(path.join(uploadTempDir, entry.name), { recursive: true, force: true });
    swept.push(entry.name);
  }
  return swept;
}
