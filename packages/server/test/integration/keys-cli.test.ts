import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateAgeIdentity } from '@pgbs/engine';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { backups } from '../../src/db/schema.js';
import { cli } from './cli-process.js';
import { type TestEnv, createTestEnv } from './harness.js';

const adminUrl = inject('pgAdminUrl');

// Each command is a CLI process of its own (seconds each on a loaded machine).
describe('key commands', { timeout: 300_000 }, () => {
  let env: TestEnv;
  let vars: Record<string, string>;

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'keys_cli');
    vars = { ...env.env, MASTER_KEY: randomBytes(32).toString('base64') };
  });
  afterAll(async () => env?.cleanup());

  /** What Debian's age makes of `clear` encrypted to the key in keyFile and back. */
  function ageRoundTrip(recipient: string, keyFile: string, clear: string): string {
    const sealed = spawnSync('age', ['-r', recipient], { input: clear });
    const opened = spawnSync('age', ['-d', '-i', keyFile], { input: sealed.stdout });
    expect(opened.status).toBe(0);
    return opened.stdout.toString();
  }

  it('key generate writes the identity once to --out (0600, never over a file) or to stdout', async () => {
    const out = path.join(env.backupDir, 'laptop.txt');
    const made = await cli(vars, ['key', 'generate', '--name', 'laptop', '--out', out, '--json']);
    expect(made.code, made.stderr).toBe(0);
    const { recipient, identity } = JSON.parse(made.stdout) as { recipient: { recipient: string }; identity?: string };
    expect(identity).toBeUndefined();
    expect(made.stdout + made.stderr).not.toContain('AGE-SECRET-KEY');
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect(await readFile(out, 'utf8')).toContain(`# public key: ${recipient.recipient}`);
    expect(ageRoundTrip(recipient.recipient, out, 'hello')).toBe('hello');

    const again = await cli(vars, ['key', 'generate', '--name', 'other', '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('cli/file-exists');
    const listed = JSON.parse((await cli(vars, ['key', 'list', '--json'])).stdout) as { name: string }[];
    expect(listed.map((r) => r.name)).toEqual(['laptop']);

    const printed = await cli(vars, ['key', 'generate', '--name', 'printed']);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/^# created: .*\n# public key: age1\S+\nAGE-SECRET-KEY-1\S+\n$/);
    expect(printed.stderr).toContain('shown once');
    const keyFile = path.join(env.backupDir, 'printed.txt');
    await writeFile(keyFile, printed.stdout, { mode: 0o600 });
    const printedRecipient = /public key: (age1\S+)/.exec(printed.stdout)![1]!;
    expect(ageRoundTrip(printedRecipient, keyFile, 'again')).toBe('again');
  });

  it('add-recipient, list, target set --encrypt-to, retire with its confirmation, recovery-kit', async () => {
    const { recipient } = await generateAgeIdentity();
    const bad = await cli(vars, ['key', 'add-recipient', 'age1nope', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).error.code).toBe('key/invalid-recipient');
    const added = await cli(vars, ['key', 'add-recipient', recipient, '--name', 'offsite']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('Added recipient offsite');

    const target = env.target.name;
    const set = await cli(vars, ['target', 'set', target, '--encrypt-to', 'laptop,offsite', '--json']);
    expect(set.code, set.stderr).toBe(0);
    expect((JSON.parse(set.stdout) as { recipients: { name: string }[] }).recipients.map((r) => r.name)).toEqual([
      'laptop',
      'offsite',
    ]);
    const unknown = await cli(vars, ['target', 'set', target, '--encrypt-to', 'nobody']);
    expect(unknown.stderr).toContain('key/not-found');

    const inUse = await cli(vars, ['key', 'retire', 'laptop']);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain('key/in-use');
    expect((await cli(vars, ['target', 'set', target, '--encrypt-to', 'offsite'])).code).toBe(0);

    const app = await env.startApp({ MASTER_KEY: vars['MASTER_KEY']! });
    const laptop = await app.keys.get('laptop');
    const id = randomUUID();
    await app.db.insert(backups).values({
      id,
      fileName: `${id}.dump.zst.age`,
      format: 'custom',
      sizeBytes: 1,
      sha256: 'x',
      origin: 'manual',
      recipientFingerprints: [laptop.fingerprint],
    });
    const refused = await cli(vars, ['key', 'retire', 'laptop']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('key/last-recipient');
    expect(refused.stderr).toContain(`--confirm ${id}`);
    const list = JSON.parse((await cli(vars, ['key', 'list', '--json'])).stdout) as {
      name: string;
      backupCount: number;
      retiredAt: string | null;
    }[];
    expect(list.find((r) => r.name === 'laptop')).toMatchObject({ backupCount: 1, retiredAt: null });
    const retired = await cli(vars, ['key', 'retire', 'laptop', '--confirm', id, '--json']);
    expect(retired.code, retired.stderr).toBe(0);
    expect(JSON.parse(retired.stdout).retiredAt).not.toBeNull();

    const kit = await cli(vars, ['key', 'recovery-kit', 'offsite']);
    expect(kit.code).toBe(0);
    expect(kit.stdout).toContain(recipient);
    expect(kit.stdout).toContain('age -d -i key.txt');
    expect(kit.stdout).toContain('zstd -d | pg_restore');
    expect(kit.stdout).toMatch(/Lose it and those backups are lost/);
  });
});
