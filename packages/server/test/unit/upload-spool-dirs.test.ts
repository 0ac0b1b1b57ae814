import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sweepUploadSpools, uploadSpoolDir } from '../../src/http/upload-spool-dirs.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('upload spool directories', () => {
  it("removes only the spools of instances that are gone, never another instance's or a stranger's file", async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pgbs-spools-'));
    const [gone, live] = [randomUUID(), randomUUID()];
    for (const id of [gone, live]) {
      await mkdir(uploadSpoolDir(dir, id));
      await writeFile(path.join(uploadSpoolDir(dir, id), 'a.upload'), 'x');
    }
    await mkdir(path.join(dir, 'not-an-instance'));
    await writeFile(path.join(dir, 'notes.txt'), 'keep me');

    const asked: string[] = [];
    const swept = await sweepUploadSpools(dir, async (id) => {
      asked.push(id);
      return id === gone;
    });

    expect(swept).toEqual([gone]);
    expect(asked.sort()).toEqual([gone, live].sort());
    expect((await readdir(dir)).sort()).toEqual([live, 'not-an-instance', 'notes.txt'].sort());
    expect(existsSync(path.join(uploadSpoolDir(dir, live), 'a.upload'))).toBe(true);
  });

  it('does nothing when the directory does not exist yet', async () => {
    expect(await sweepUploadSpools(path.join(tmpdir(), `pgbs-none-${randomUUID()}`), async () => true)).toEqual([]);
  });
});
