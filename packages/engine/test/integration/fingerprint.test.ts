// Checks the shared fixture and fingerprint: equal for equal content, different after changes,
// and stable across a real pg_dump / pg_restore round trip.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTestDatabase,
  diffFingerprints,
  fingerprint,
  loadFeatureRichSchema,
  mutateFeatureRichDatabase,
  type TestDatabase,
} from '@pgbs/test-support';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const pgBin = '/usr/lib/postgresql/15/bin';

describe('feature-rich fixture fingerprint', () => {
  const adminUrl = inject('pgAdminUrl');
  const databases: TestDatabase[] = [];
  let workDir: string;

  // One owner for all: the round trip restores one database's backup into another.
  async function database(prefix: string): Promise<TestDatabase> {
    const created = await createTestDatabase(adminUrl, prefix, { owner: databases[0] });
    databases.push(created);
    return created;
  }

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pgbs-fingerprint-'));
  });

  afterAll(async () => {
    // One after another: they share an owner, and two last-database checks at once would both drop
    // the role ("tuple concurrently deleted").
    for (const db of databases) await db.drop();
    await rm(workDir, { recursive: true, force: true });
  });

  it('is equal for equal content and lists what a mutation changed', async () => {
    const original = await database('fp_original');
    const copy = await database('fp_copy');
    await Promise.all([loadFeatureRichSchema(original.url), loadFeatureRichSchema(copy.url)]);

    const before = await fingerprint(original.url);
    expect(diffFingerprints(before, await fingerprint(copy.url))).toEqual([]);
    expect(await fingerprint(copy.url)).toEqual(before);

    expect(Object.keys(before.tables)).toEqual(
      expect.arrayContaining([
        'app.orders',
        'app.orders_2023',
        'app.orders_2024',
        'app.orders_default',
        '"MixedCase"."Weird Table"',
      ]),
    );
    expect(before.tables['app.orders_default']?.partitionBound).toBe('DEFAULT');
    expect(before.tables['app.orders_2024']?.rows).toBeGreaterThan(0);
    expect(Object.keys(before.largeObjects)).toEqual(['424201', '424202', '424203']);
    expect(before.largeObjects['424201']?.comment).toBe('The greeting blob');
    expect(before.extensions['citext']).toBeDefined();

    await mutateFeatureRichDatabase(copy.url);
    const after = await fingerprint(copy.url);
    const differences = diffFingerprints(before, after);
    expect(after).not.toEqual(before);
    const expected = [
      'tables › app.customers › md5',
      'tables › app.orders_2024 › md5',
      'tables › public.app_settings: only in a',
      'tables › added_after_backup.extra: only in b',
      'schemas › added_after_backup: only in b',
      'sequences › app.invoice_number_seq › lastValue',
      'largeObjects › 424202 › md5',
      'extensions › citext: only in a',
      'types › app.email: only in a',
      'views › app.customer_order_counts: only in a',
    ];
    for (const fragment of expected) {
      expect(
        differences.some((line) => line.includes(fragment)),
        fragment,
      ).toBe(true);
    }
    expect(differences.some((line) => /^largeObjects › \d+: only in b$/.test(line))).toBe(true);
  });

  it('survives a real pg_dump -Fc / pg_restore round trip unchanged', async () => {
    const [source, target] = await Promise.all([database('fp_source'), database('fp_target')]);
    await loadFeatureRichSchema(source.url);
    const archive = join(workDir, 'source.dump');

    await run(`${pgBin}/pg_dump`, ['-Fc', '-f', archive], source.url);
    await run(`${pgBin}/pg_restore`, ['--exit-on-error', '-d', target.name, archive], target.url);

    const [expected, actual] = await Promise.all([fingerprint(source.url), fingerprint(target.url)]);
    expect(diffFingerprints(expected, actual)).toEqual([]);
    expect(actual).toEqual(expected);
  });
});

/** Runs a pg tool against the database of `url`; the password travels in the environment. */
function run(command: string, args: string[], url: string): Promise<void> {
  const { hostname, port, username, password, pathname } = new URL(url);
  const env = {
    ...process.env,
    LC_ALL: 'C',
    PGHOST: hostname,
    PGPORT: port || '5432',
    PGUSER: decodeURIComponent(username),
    PGPASSWORD: decodeURIComponent(password),
    PGDATABASE: decodeURIComponent(pathname.slice(1)),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${stderr}`)),
    );
  });
}
