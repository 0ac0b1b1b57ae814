import { chmod, mkdir } from 'node:fs/promises';

// Backups, manifests and uploads hold whole databases: only the service's user may read them.
export const PRIVATE_FILE_MODE = 0o600;
const PRIVATE_DIRECTORY_MODE = 0o700;

/** Creates the directory owner-only, or tightens it when it exists with looser modes (an older version made 0755). */
export async function ensurePrivateDirectory(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  await chmod(directory, PRIVATE_DIRECTORY_MODE);
}
