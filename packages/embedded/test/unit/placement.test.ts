import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clusterDir, reachableByOthers, runsAsPostgresUser } from '../../src/index.js';

describe('placing the embedded PostgreSQL where the postgres user reaches it', () => {
  let base: string;

  beforeEach(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'pgbs-embedded-'));
    await chmod(base, 0o755);
  });
  afterEach(async () => {
    delete process.env['EMBEDDED_PG_SHARED_DIR'];
    await rm(base, { recursive: true, force: true });
  });

  it('sees a directory under a 0700 one as unreachable, and reachable once that one is 0755', async () => {
    const home = path.join(base, 'home');
    const data = path.join(home, 'checkout/.data');
    await mkdir(data, { recursive: true, mode: 0o755 });
    await chmod(home, 0o700);
    expect(await reachableByOthers(data)).toBe(false);
    await chmod(home, 0o755);
    expect(await reachableByOthers(data)).toBe(true);
  });

  it.runIf(runsAsPostgresUser())(
    'as root, keeps the cluster in DATA_DIR when reachable and moves it to the shared directory when not',
    async () => {
      process.env['EMBEDDED_PG_SHARED_DIR'] = path.join(base, 'shared');
      const data = path.join(base, 'home/.data');
      await mkdir(data, { recursive: true, mode: 0o755 });
      expect(await clusterDir(data)).toBe(path.join(data, 'postgres'));
      await chmod(path.join(base, 'home'), 0o700);
      const moved = await clusterDir(data);
      expect(path.dirname(moved)).toBe(path.join(base, 'shared'));
      expect(path.basename(moved)).toMatch(/^data-[0-9a-f]{16}$/);
      expect(await reachableByOthers(path.dirname(moved))).toBe(true);
    },
  );
});
