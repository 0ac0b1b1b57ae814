import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createZstdCompress } from 'node:zlib';
import {
  type TestDatabase,
  createTestDatabase,
  fingerprint,
  libpqEnv,
  loadFeatureRichSchema,
} from '@pgbs/test-support';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { encryptTransform, generateAgeIdentity } from '../../src/crypto/age-stream.js';
import { tempDir } from './harness.js';

const adminUrl = inject('pgAdminUrl');

/** Runs a shell pipeline (failing when any stage fails) with libpq's environment; rejects with its stderr. */
function bash(script: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}: ${stderr}`))));
  });
}

// What docs/operations.md ("Recovery kit") promises: pg_dump -Fc -Z0 → zstd → age, written the way
// the service writes it, restores on a bare machine with Debian's age, zstd and pg_restore.
describe('an encrypted zstd custom dump restores by hand', () => {
  let source: TestDatabase;
  let target: TestDatabase;
  let work: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    source = await createTestDatabase(adminUrl, 'age_manual_source');
    target = await createTestDatabase(adminUrl, 'age_manual_target', { owner: source });
    await loadFeatureRichSchema(source.url);
    work = await tempDir();
  });
  afterAll(async () => {
    await target?.drop();
    await source?.drop();
    await work?.remove();
  });

  it('age -d -i key.txt file | zstd -d | pg_restore gives the same database', async () => {
    const { identity, recipient } = await generateAgeIdentity();
    const keyFile = path.join(work.dir, 'key.txt');
    await writeFile(keyFile, `${identity}\n`, { mode: 0o600 });
    const file = path.join(work.dir, 'backup.dump.zst.age');
    const dump = spawn('pg_dump', ['-Fc', '-Z0'], { env: { ...process.env, ...libpqEnv(source.url) } });
    const exited = new Promise<number | null>((resolve) => dump.on('close', resolve));
    await pipeline(
      dump.stdout,
      createZstdCompress(),
      await encryptTransform({ recipients: [recipient] }),
      createWriteStream(file),
    );
    expect(await exited).toBe(0);

    await bash(
      `age -d -i ${keyFile} ${file} | zstd -d | pg_restore --exit-on-error --single-transaction -d "$PGDATABASE"`,
      libpqEnv(target.url),
    );
    expect(await fingerprint(target.url)).toEqual(await fingerprint(source.url));
  });
});
