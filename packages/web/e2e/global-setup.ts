// Vitest globalSetup of the e2e suite: the built panel (rebuilt when src is newer than dist) and one
// throwaway PostgreSQL (embedded, or TEST_DATABASE_URL), shared with @pgbs/test-support.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import startPostgres from '../../test-support/src/global-setup.js';

const WEB_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Newest modification time under `dir` (files only), 0 when it does not exist. */
function newest(dir: string): number {
  if (!existsSync(dir)) return 0;
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

function ensurePanelBuilt(): void {
  const builtIndex = path.join(WEB_DIR, 'dist', 'index.html');
  const sources = Math.max(
    newest(path.join(WEB_DIR, 'src')),
    statSync(path.join(WEB_DIR, 'index.html')).mtimeMs,
    statSync(path.join(WEB_DIR, 'vite.config.ts')).mtimeMs,
  );
  if (existsSync(builtIndex) && statSync(builtIndex).mtimeMs >= sources) return;
  const build = spawnSync('pnpm', ['run', 'build'], { cwd: WEB_DIR, stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`building the panel failed (exit ${build.status})`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!existsSync(process.env['PGBS_CHROMIUM'] ?? '/usr/bin/chromium')) {
    throw new Error('Chromium is missing: apt-get install -y chromium (or set PGBS_CHROMIUM to its path)');
  }
  ensurePanelBuilt();
  return startPostgres(project);
}
