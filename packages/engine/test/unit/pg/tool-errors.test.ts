import { describe, expect, it } from 'vitest';
import { classifyToolFailure, firstErrorLine } from '../../../src/pg/tool-errors.js';

describe('tool failure classification', () => {
  const cases: [string, string[], string][] = [
    [
      'pg_dump',
      [
        'pg_dump: error: aborting because of server version mismatch',
        'pg_dump: detail: server version: 16.1; pg_dump version: 15.18',
      ],
      'pg/version-mismatch',
    ],
    ['psql', ['psql:<stdin>:42: ERROR:  role "app_owner" does not exist'], 'restore/missing-role'],
    ['pg_restore', ['pg_restore: error: could not read from input file: end of file'], 'archive/truncated'],
    ['pg_restore', ['pg_restore: error: unsupported version (1.16) in file header'], 'archive/too-new'],
    ['pg_restore', ['pg_restore: error: input file does not appear to be a valid archive'], 'archive/unknown-format'],
    ['pg_restore', ['pg_restore: error: could not uncompress data: invalid stored block lengths'], 'archive/corrupt'],
    [
      'pg_dump',
      [
        'pg_dump: error: connection to server at "db" (10.0.0.1), port 5432 failed: password authentication failed for user "x"',
      ],
      'pg/connection-failed',
    ],
    ['psql', ['psql:<stdin>:7: ERROR:  syntax error at or near "FOO"'], 'restore/failed'],
  ];
  for (const [tool, stderr, code] of cases) {
    it(`${stderr[0]} → ${code}`, () => {
      const error = classifyToolFailure(tool, stderr, 'restore/failed');
      expect(error.code).toBe(code);
      expect(error.message).toContain(firstErrorLine(stderr)!);
    });
  }

  it('suggests no-owner for missing roles', () => {
    const error = classifyToolFailure(
      'psql',
      ['psql:<stdin>:1: ERROR:  role "ghost" does not exist'],
      'restore/failed',
    );
    expect(error.message).toMatch(/"ghost".*no-owner/);
  });

  it('strips the tool prefix and stdin position', () => {
    expect(firstErrorLine(['', 'psql:<stdin>:12: ERROR:  boom'])).toBe('ERROR:  boom');
  });
});
