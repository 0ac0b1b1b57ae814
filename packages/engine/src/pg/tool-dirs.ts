import { readdirSync } from 'node:fs';
import path from 'node:path';

/** PATH first, then Debian/Ubuntu's versioned directories, newest first. */
export function defaultToolDirs(
  pathVariable = process.env.PATH ?? '',
  distributionRoot = '/usr/lib/postgresql',
): string[] {
  const fromPath = pathVariable.split(path.delimiter).filter(Boolean);
  let versions: string[] = [];
  try {
    versions = readdirSync(distributionRoot)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
  } catch {
    // Not a Debian-style installation.
  }
  return [...fromPath, ...versions.map((v) => path.join(distributionRoot, v, 'bin'))];
}
