import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../src/errors.js';
import { parsePgUrl, withDatabase } from '../../../src/pg/connection.js';

describe('database URLs', () => {
  it('puts credentials in libpq variables and keeps them out of the display name', () => {
    const target = parsePgUrl('postgres://app%40corp:s3cr%2Ft@db.internal:6543/work%20load?sslmode=require');
    expect(target.database).toBe('work load');
    expect(target.display).toBe('db.internal:6543/work load');
    expect(target.display).not.toContain('s3cr');
    expect(target.env).toEqual({
      PGDATABASE: 'work load',
      PGHOST: 'db.internal',
      PGPORT: '6543',
      PGUSER: 'app@corp',
      PGPASSWORD: 's3cr/t',
      PGSSLMODE: 'require',
    });
  });

  it('supports a Unix socket directory as host parameter', () => {
    const target = parsePgUrl('postgresql://postgres@/app?host=/var/run/postgresql');
    expect(target.env.PGHOST).toBe('/var/run/postgresql');
  });

  it('refuses URLs that are not PostgreSQL URLs or name no database', () => {
    for (const url of ['mysql://x/y', 'postgres://host', 'not a url']) {
      expect(() => parsePgUrl(url)).toThrow(EngineError);
    }
  });

  it('switches database keeping the server and credentials', () => {
    const other = withDatabase(parsePgUrl('postgres://u:p@h:5/a'), 'b');
    expect(other.env).toMatchObject({ PGDATABASE: 'b', PGPASSWORD: 'p', PGHOST: 'h' });
    expect(other.display).toBe('h:5/b');
  });
});
