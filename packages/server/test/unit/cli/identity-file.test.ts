import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIdentityFile } from '../../../src/cli/identity-input.js';

describe('--identity FILE', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pgbs-identity-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a 0600 file without a word, and warns (without the key) when others may read it', async () => {
    const file = path.join(dir, 'key.txt');
    const key = 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ';
    await writeFile(file, `${key}\n`, { mode: 0o600 });
    const warnings: string[] = [];
    expect(await readIdentityFile(file, (line) => warnings.push(line))).toBe(`${key}\n`);
    expect(warnings).toEqual([]);
    await chmod(file, 0o644);
    expect(await readIdentityFile(file, (line) => warnings.push(line))).toBe(`${key}\n`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('mode 644');
    expect(warnings[0]).not.toContain(key);
  });

  it('a file that cannot be read is a usage error naming the file, not its content', async () => {
    await expect(readIdentityFile(path.join(dir, 'missing.txt'))).rejects.toMatchObject({ code: 'cli/usage' });
  });
});
