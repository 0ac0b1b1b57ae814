import { readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../src/errors.js';
import { createPlainSqlGuard, plainSqlGuardStream, scanPlainSql } from '../../../src/sql/plain-sql-guard.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/sql/${name}`, import.meta.url));

/** Captured from pg_dump / pg_restore 15.18 (see the fixture names); all restore with psql. */
const RESTORABLE = [
  'pg_dump-plain.sql',
  'pg_restore-custom.sql',
  'pg_restore-single-transaction.sql',
  'pg_dump-inserts.sql',
];

function guardChunks(chunks: Buffer[]): Buffer {
  const guard = createPlainSqlGuard();
  const out = chunks.map((chunk) => guard.push(chunk));
  out.push(guard.end());
  return Buffer.concat(out);
}

function guard(text: string | Buffer): Buffer {
  return guardChunks([typeof text === 'string' ? Buffer.from(text) : text]);
}

function splitAt(input: Buffer, positions: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let from = 0;
  for (const at of positions) {
    chunks.push(input.subarray(from, at));
    from = at;
  }
  chunks.push(input.subarray(from));
  return chunks;
}

/** Deterministic chunk boundaries: many small chunks, so every construct gets split somewhere. */
function randomSplits(length: number, seed: number, maxChunk: number): number[] {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  const positions: number[] = [];
  for (let at = 1 + Math.floor(random() * maxChunk); at < length; at += 1 + Math.floor(random() * maxChunk)) {
    positions.push(at);
  }
  return positions;
}

/** The refusal `run` throws, which must be one. */
function caught(run: () => unknown): EngineError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('restore/unsafe-sql');
    return error as EngineError;
  }
  throw new Error('not refused');
}

const refusal = (text: string | Buffer): EngineError => caught(() => guard(text));

/**
 * pg_dump's framing lines, found independently of the guard: pg_dump puts a blank line before
 * each, while the "COMMIT;" lines in the fixtures' function bodies follow code.
 */
function withoutFrameLines(input: Buffer): { text: string; removed: string[] } {
  const lines = input.toString('latin1').split('\n');
  const isFrame = (line: string, n: number) =>
    lines[n - 1] === '' && /^(\\(un)?restrict [A-Za-z0-9]+|BEGIN;|COMMIT;)$/.test(line);
  return {
    text: lines.filter((line, n) => !isFrame(line, n)).join('\n'),
    removed: lines.filter(isFrame).map((line) => line.replace(/ .*/, '')),
  };
}

describe('real pg_dump / pg_restore output', () => {
  it.each(RESTORABLE)('%s passes, minus its \\restrict and BEGIN/COMMIT lines', (name) => {
    const input = fixture(name);
    const expected = withoutFrameLines(input);
    expect(guard(input).toString('latin1')).toBe(expected.text);
    expect(expected.removed).toEqual(['\\restrict', 'BEGIN;', 'COMMIT;', '\\unrestrict']);
  });

  it.each(RESTORABLE)('%s gives the same output whichever way it is chunked', (name) => {
    const input = fixture(name);
    const expected = guard(input);
    for (let at = 0; at <= input.length; at++) {
      const out = guardChunks(splitAt(input, [at]));
      if (!out.equals(expected)) expect.fail(`differs when split at byte ${at}`);
    }
    for (const seed of [1, 2, 3, 4, 5]) {
      expect(guardChunks(splitAt(input, randomSplits(input.length, seed, 9)))).toEqual(expected);
    }
    expect(guardChunks(splitAt(input, randomSplits(input.length, 6, 1)))).toEqual(expected);
  });

  it('streams and scans alike', async () => {
    const input = fixture('pg_dump-plain.sql');
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    const source = () => Readable.from(splitAt(input, randomSplits(input.length, 7, 50)));
    await pipeline(source(), plainSqlGuardStream(), sink);
    expect(Buffer.concat(chunks)).toEqual(guard(input));
    await expect(scanPlainSql(source())).resolves.toBeUndefined();
  });

  it('fails the stream with the refusal', async () => {
    const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    await expect(
      pipeline(Readable.from([Buffer.from('SELECT 1;\n'), Buffer.from('\\! id\n')]), plainSqlGuardStream(), sink),
    ).rejects.toMatchObject({ code: 'restore/unsafe-sql', details: { line: 2 } });
  });

  it('refuses what pg_dump -C writes around the database: ALTER DATABASE first, then its \\connect', async () => {
    const input = fixture('pg_dump-create.sql');
    const lines = input.toString('utf8').split('\n');
    const alter = lines.findIndex((l) => l.startsWith('ALTER DATABASE guardsrc')) + 1;
    expect(refusal(input).details).toMatchObject({ line: alter });
    expect(refusal(input).message).toContain('ALTER DATABASE');
    await expect(scanPlainSql(Readable.from([input]))).rejects.toMatchObject({ details: { line: alter } });
    const withoutAlter = Buffer.from(lines.filter((l) => !l.startsWith('ALTER DATABASE')).join('\n'));
    const connect = withoutAlter.toString('utf8').split('\n').indexOf('\\connect guardsrc') + 1;
    expect(refusal(withoutAlter).details).toMatchObject({ line: connect });
    expect(refusal(withoutAlter).message).toContain('"\\connect"');
  });

  it('refuses a dump whose COPY psql would never run (a function named "begin")', () => {
    // psql's BEGIN ... END heuristic keeps collecting after "CREATE FUNCTION public.begin()",
    // so it lexes the COPY data as SQL (psql itself fails on this file).
    const error = refusal(fixture('pg_dump-function-named-begin.sql'));
    expect(error.message).toContain('COPY must be a statement of its own');
  });
});

/** Hand-written, accepted: every construct the lexer tracks, for chunking tests. */
const TRICKY = [
  '\\restrict abc123',
  "SET client_encoding = 'UTF8';",
  "SELECT 'it''s', E'\\\\', 'a\\b', U&'\\0041', B'01', \"q\"\"id\", $1, 1.5e-3, .5, 1..2, x::int, a[1:n]; -- c\r\tSELECT 2;",
  '/* outer /* inner */ \\! still comment */ SELECT $tag$ $$ \\! $ta$ $tag$, $$\\.$$, x$y;',
  'CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql',
  'BEGIN ATOMIC',
  ' SELECT CASE WHEN a > 0 THEN a END;',
  'END;',
  'BEGIN;',
  'COPY t (a, b) FROM stdin;\r',
  'ż\\N\t\\.\t\'"$$--/*',
  '\\.\r',
  'COMMIT;',
  'SELECT 1; COPY t FROM stdin;',
  '\\.',
  '\\unrestrict abc123',
  '',
].join('\n');

describe('chunking', () => {
  it('gives the same output for every pair of split points', () => {
    const input = Buffer.from(TRICKY);
    const expected = guard(input);
    expect(expected.toString()).toBe(
      TRICKY.split('\n')
        .filter((line) => !/^(\\(un)?restrict .*|BEGIN;|COMMIT;)$/.test(line))
        .join('\n'),
    );
    for (let a = 0; a <= input.length; a++) {
      for (let b = a; b <= input.length; b += 3) {
        const out = guardChunks(splitAt(input, [a, b]));
        if (!out.equals(expected)) expect.fail(`differs when split at bytes ${a} and ${b}`);
      }
    }
  });

  it.each([
    'SELECT 1;\n\\! id\n',
    'SELECT 1;\nCOMMIT;\n',
    "SELECT 'a\\';\n",
    'SELECT $x$ abc;\n',
    'COPY t FROM stdin;\n1\n\\.x\n',
    'SELECT 1; -- c\r\\o f\n',
    "COPY t FROM PROGRAM 'id';\n",
  ])('refuses %j at the same line wherever it is split', (text) => {
    const input = Buffer.from(`SELECT 'ż';\n${text}`);
    // The message without the excerpt, which shows only what the current chunk holds.
    const summary = (error: EngineError) => [error.details.line, error.message.replace(/: "[^]*$/, '')];
    const expected = summary(refusal(input));
    for (let at = 0; at <= input.length; at++) {
      expect(summary(caught(() => guardChunks(splitAt(input, [at]))))).toEqual(expected);
    }
  });
});

describe('statements that act outside the database', () => {
  const guardAs = (owner: string, text: string) => {
    const ownerGuard = createPlainSqlGuard({ owner });
    return Buffer.concat([ownerGuard.push(Buffer.from(text)), ownerGuard.end()]).toString();
  };

  it.each([
    ['CREATE ROLE evil SUPERUSER;\n', 'role DDL'],
    ['create user evil;\n', 'role DDL'],
    ['CREATE GROUP g;\n', 'role DDL'],
    ['ALTER ROLE app SUPERUSER;\n', 'role DDL'],
    ['ALTER USER app SET work_mem = 1;\n', 'role DDL'],
    ['DROP ROLE app;\n', 'role DDL'],
    ['DROP USER app;\n', 'role DDL'],
    ["ALTER SYSTEM SET archive_command = 'id';\n", 'ALTER SYSTEM'],
    ['ALTER DATABASE other SET work_mem = 1;\n', 'ALTER DATABASE'],
    ['SET SESSION AUTHORIZATION postgres;\n', 'session authorization'],
    ['SET ROLE postgres;\n', 'session authorization'],
    ['SET LOCAL role TO postgres;\n', 'session authorization'],
    ['set session_authorization = postgres;\n', 'session authorization'],
    ['RESET ROLE;\n', 'session authorization'],
    ['RESET SESSION AUTHORIZATION;\n', 'session authorization'],
    ['SET "role" = \'none\';\n', 'session authorization'],
    ['SET SESSION "role" TO DEFAULT;\n', 'session authorization'],
    ['RESET "role";\n', 'session authorization'],
    ['SET "session_authorization" = DEFAULT;\n', 'session authorization'],
    ['CREATE EVENT TRIGGER t ON ddl_command_end EXECUTE FUNCTION f();\n', 'event triggers'],
    ['ALTER EVENT TRIGGER t ENABLE ALWAYS;\n', 'event triggers'],
    ['GRANT pg_execute_server_program TO app;\n', 'role membership'],
    ['REVOKE pg_read_all_data FROM app;\n', 'role membership'],
  ])('refuses %j', (text, words) => {
    const error = refusal(text);
    expect(error.code).toBe('restore/unsafe-sql');
    expect(error.message).toContain(words);
  });

  it.each([
    'CREATE USER MAPPING FOR app SERVER s;\n',
    'ALTER USER MAPPING FOR app SERVER s OPTIONS (user $$x$$);\n',
    'DROP USER MAPPING FOR app SERVER s;\n',
    'GRANT SELECT ON TABLE public.t TO app;\n',
    'GRANT SELECT (a, b) ON TABLE public.t TO app;\n',
    'REVOKE ALL ON SCHEMA public FROM PUBLIC;\n',
    'ALTER TABLE public.t OWNER TO app;\n',
    'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO app;\n',
    'SET default_table_access_method = heap;\n',
    "SELECT pg_catalog.set_config('search_path', '', false);\n",
  ])('passes %j', (text) => {
    expect(guard(text).toString()).toBe(text);
  });

  it("refuses ALTER DEFAULT PRIVILEGES for another role than the owner's when the owner is known", () => {
    const text = 'ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON TABLES TO app;\n';
    expect(guard(text).toString()).toBe(text);
    expect(caught(() => guardAs('app_owner', text)).message).toContain("changes another role's defaults");
    const own = 'ALTER DEFAULT PRIVILEGES FOR ROLE "app_owner" IN SCHEMA public GRANT ALL ON TABLES TO app;\n';
    expect(guardAs('app_owner', own)).toBe(own);
    const both = 'ALTER DEFAULT PRIVILEGES FOR ROLE app_owner, postgres GRANT ALL ON TABLES TO app;\n';
    expect(caught(() => guardAs('app_owner', both)).message).toContain('postgres');
  });
});

describe('no-owner and no-privileges for plain SQL', () => {
  const script = [
    'CREATE TABLE public.t (id int, owner text);',
    'ALTER TABLE public.t OWNER TO app;',
    'ALTER TABLE public.t RENAME COLUMN owner TO owned_by;',
    'GRANT SELECT ON TABLE public.t TO reader;',
    'REVOKE ALL ON SCHEMA public FROM PUBLIC;',
    'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO reader;',
    'ALTER FUNCTION public.f(integer)\n    OWNER TO app;',
    "COMMENT ON TABLE public.t IS 'owner to nobody';",
    'ALTER SCHEMA app OWNER TO app;',
  ].join('\n');
  const run = (options: { noOwner?: boolean; noPrivileges?: boolean }, chunks: Buffer[]) => {
    const g = createPlainSqlGuard(options);
    return Buffer.concat([...chunks.map((chunk) => g.push(chunk)), g.end()]).toString();
  };

  it.each([
    [{}, script],
    [
      { noOwner: true },
      script
        .replace('ALTER TABLE public.t OWNER TO app;', '')
        .replace('ALTER FUNCTION public.f(integer)\n    OWNER TO app;', '')
        .replace('ALTER SCHEMA app OWNER TO app;', ''),
    ],
    [
      { noPrivileges: true },
      script
        .replace('GRANT SELECT ON TABLE public.t TO reader;', '')
        .replace('REVOKE ALL ON SCHEMA public FROM PUBLIC;', '')
        .replace('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO reader;', ''),
    ],
  ])('with %j leaves out exactly what pg_restore would, however the input is split', (options, expected) => {
    const input = Buffer.from(script);
    const want = expected.endsWith('\n') ? expected : `${expected}\n`;
    for (let at = 0; at <= input.length; at += 7) {
      expect(run(options, [input.subarray(0, at), input.subarray(at)])).toBe(want);
    }
    expect(
      run(
        options,
        [...input].map((byte) => Buffer.from([byte])),
      ),
    ).toBe(want);
  });
});

describe('psql meta-commands', () => {
  it.each([
    ['\\! touch /tmp/x\n', '"\\!"'],
    ['SELECT 1 \\g /tmp/f\n', '"\\g"'],
    ['SELECT 1;\n\\o /tmp/out\n', '"\\o"'],
    ["\\copy t from '/etc/passwd'\n", '"\\copy"'],
    ['\\i /etc/passwd\n', '"\\i"'],
    ['\\connect postgres\n', '"\\connect"'],
    ['\\set x 1\n', '"\\set"'],
    ['SELECT 1; \\! id\n', '"\\!"'],
    ["SELECT 'a'\\! id\n", '"\\!"'],
    ['SELECT (1,\n\\! id\n2);\n', '"\\!"'],
    ['SELECT 1\\; COMMIT;\n', '"\\;"'],
    ['CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; \\! id\n', '"\\!"'],
    ['CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT $$x$$ $body$ \\gexec\n', '"\\gexec"'],
    ['SELECT 1; \\restrict abc\n', '"\\restrict"'],
    ['\\restrict abc extra\n', '"\\restrict"'],
    [' \\restrict abc\n', '"\\restrict"'],
    ['\\restrict\n', '"\\restrict"'],
    ['\\unrestrict ab-c\n', '"\\unrestrict"'],
  ])('refuses %j', (text, name) => {
    expect(refusal(text).message).toContain(`psql meta-command ${name} is not allowed`);
  });

  it('ends a -- comment at a CR, as psql does', () => {
    expect(refusal('SELECT 1; -- note\r\\! id\nSELECT 2;\n').message).toContain('"\\!"');
  });

  it('refuses psql variable references that psql would expand', () => {
    expect(refusal('SELECT :DBNAME;\n').message).toContain('psql variable');
    expect(refusal('SELECT :{?x};\n').message).toContain('psql variable');
    expect(guard('SELECT a[1:2], a[lo:hi], x::text, y := 1 FROM t;\n').toString()).toBe(
      'SELECT a[1:2], a[lo:hi], x::text, y := 1 FROM t;\n',
    );
  });

  it('removes \\restrict lines only alone on their line and keeps everything else', () => {
    const key = 'Ab12'.repeat(16);
    const input = `\\restrict ${key}\nSELECT 1;\r\n\\unrestrict ${key}\r\n`;
    expect(guard(input).toString()).toBe('SELECT 1;\r\n');
  });
});

describe('transaction control', () => {
  it.each([
    'COMMIT;\n',
    'commit ;\n',
    'END;\n',
    'ROLLBACK\n;\n',
    'ABORT;\n',
    'SAVEPOINT a;\n',
    'RELEASE SAVEPOINT a;\n',
    'ROLLBACK TO a;\n',
    'START TRANSACTION;\n',
    'BEGIN ISOLATION LEVEL SERIALIZABLE;\n',
    'begin;\n',
    "PREPARE TRANSACTION 'x';\n",
    "COMMIT PREPARED 'x';\n",
    'COMMIT AND CHAIN;\n',
    'SELECT 1; COMMIT;\n',
    'SELECT 1;\n/* c */ COMMIT;\n',
    'BEGIN;\nBEGIN;\nCOMMIT;\nCOMMIT;\n',
    'BEGIN;\nSELECT 1;\nCOMMIT;\nCOMMIT;\n',
  ])('refuses %j at the top level', (text) => {
    expect(refusal(text).message).toMatch(/transaction control|PREPARE TRANSACTION|BEGIN inside/);
  });

  it('refuses an unclosed BEGIN; block', () => {
    expect(refusal('BEGIN;\nSELECT 1;\n').message).toContain('BEGIN; ... COMMIT; block');
  });

  it('accepts COMMIT inside a function body, a string and comments', () => {
    const input = [
      'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$',
      'BEGIN',
      'COMMIT;',
      'END',
      '$$;',
      "SELECT 'x\nCOMMIT;\n';",
      '-- COMMIT;',
      '/* outer /* COMMIT; */ still a comment: \\! id */ SELECT 1;',
      'PREPARE q AS SELECT $1::int;',
      '',
    ].join('\n');
    expect(guard(input).toString()).toBe(input);
  });

  it('accepts the END of a BEGIN ATOMIC body but not another one', () => {
    const body =
      'CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n SELECT CASE WHEN a > 0 THEN a END;\nEND;\n';
    expect(guard(body).toString()).toBe(body);
    expect(refusal(`${body}END;\n`).message).toContain('transaction control (END)');
  });

  it('leaves BEGIN / COMMIT lines that continue a statement to the server', () => {
    // "SELECT 1 BEGIN;" is one statement (BEGIN is a column alias): nothing to remove or refuse.
    expect(guard('SELECT 1\nBEGIN;\n').toString()).toBe('SELECT 1\nBEGIN;\n');
  });

  it('holds back a trailing word until it is complete', () => {
    // psql sends what it holds when its input ends early: a bare COMMIT must never reach it.
    const guard = createPlainSqlGuard();
    expect(guard.push(Buffer.from('SELECT 1;\nCOMMIT')).toString()).toBe('SELECT 1;\n');
    expect(() => guard.push(Buffer.from(';\n'))).toThrow(/transaction control \(COMMIT\)/);
    expect(() => guard.end()).toThrow(/transaction control \(COMMIT\)/);
  });
});

describe('COPY', () => {
  it.each([
    ["COPY t FROM PROGRAM 'id';\n", 'FROM PROGRAM'],
    ["COPY t TO '/tmp/x';\n", 'COPY ... TO'],
    ['COPY t TO STDOUT;\n', 'COPY ... TO'],
    ["COPY (SELECT 1) TO PROGRAM 'id';\n", 'COPY ... TO'],
    ["COPY t FROM '/etc/passwd';\n", 'must read from stdin'],
    ['COPY t FROM $$/etc/passwd$$;\n', 'must read from stdin'],
    ['COPY t FROM stdin; SELECT 1;\n1\n\\.\n', 'text after "COPY ... FROM stdin;"'],
    ['SELECT (1;\nCOPY t FROM stdin;\n\\! id\n\\.\n2);\n', 'COPY must be a statement of its own'],
    [
      'CREATE FUNCTION public.begin() RETURNS int LANGUAGE sql RETURN 1;\nCOPY t FROM stdin;\n\\! id\n\\.\n',
      'COPY must be a statement of its own',
    ],
    // psql is still collecting "COPY t (a ..." when it meets the next line.
    ['COPY t (a FROM stdin;\n\\! id\n\\.\n', 'psql meta-command "\\!"'],
  ])('refuses %j', (text, reason) => {
    expect(refusal(text).message).toContain(reason);
  });

  it('passes data lines through as data, up to a line that is exactly \\.', () => {
    const input = [
      'COPY t (a, b) FROM stdin;',
      'back\\\\slash\t\\N',
      '\\.x\tCOMMIT;',
      '\\! id\t\'"$$/*',
      ' \\.',
      '\\.',
      'SELECT 1; COPY t FROM stdin;',
      '2',
      '\\.',
      'COPY t FROM stdin WITH (FORMAT csv);\r',
      'a,b\r',
      '\\.\r',
      '',
    ].join('\n');
    expect(guard(input).toString()).toBe(input);
  });

  it('refuses data that is not terminated', () => {
    expect(refusal('COPY t FROM stdin;\n1\n').message).toContain('not terminated');
    expect(refusal('COPY t FROM stdin;\n1\n\\.').message).toContain('not terminated');
  });
});

describe('quoting', () => {
  it('accepts backslashes in strings where both settings of standard_conforming_strings agree', () => {
    const input = "SELECT 'back\\slash', E'\\\\', 'a\\\\', '\\x00ff', U&'\\0041', 'it''s', B'01', X'1f';\n";
    expect(guard(input).toString()).toBe(input);
  });

  it.each(["SELECT 'a\\';\n", "SELECT E'it\\'s';\n", "SELECT 'a\\\\\\'';\n"])('refuses the ambiguous %j', (text) => {
    expect(refusal(text).message).toContain('standard_conforming_strings');
  });

  it('refuses a backslash run glued to a non-ASCII byte before a quote (SJIS-style)', () => {
    expect(refusal(Buffer.from([...Buffer.from("SELECT E'"), 0x95, 0x5c, 0x5c, 0x27, 0x3b, 0x0a])).message).toContain(
      'non-ASCII',
    );
  });

  it('tracks dollar-quote tags, parameters and identifiers containing $', () => {
    const input = 'SELECT $a$ $$ $b$ \\! $a$, $1, x$y, $_$;\\$_$;\n';
    expect(guard(input).toString()).toBe(input);
    expect(refusal('SELECT $a$ x $A$; \\! id\n').message).toContain('unterminated dollar-quoted string');
    expect(refusal('SELECT x$a$ ; \\! id $a$;\n').message).toContain('"\\!"');
  });

  it.each(['SELECT 1e$a$ ; \\! id $a$;\n', 'SELECT 1abc;\n', 'SELECT $1abc;\n', 'SELECT 1e+;\n'])(
    'refuses the malformed number %j',
    (text) => {
      expect(refusal(text).message).toMatch(/malformed (numeric literal|parameter)/);
    },
  );

  it.each([
    ["SELECT 'abc;\n", 'unterminated quoted string'],
    ['SELECT "abc;\n', 'unterminated quoted identifier'],
    ['SELECT $x$ abc;\n', 'unterminated dollar-quoted string'],
    ['SELECT 1; /* abc\n', 'unterminated /* comment'],
    ['SELECT 1', 'psql has not sent yet'],
    ['CREATE FUNCTION begin() RETURNS int LANGUAGE sql RETURN 1;\n', 'psql has not sent yet'],
  ])('refuses %j at the end of the script', (text, reason) => {
    expect(refusal(text).message).toContain(reason);
  });

  it('refuses NUL bytes anywhere', () => {
    expect(refusal(Buffer.from("SELECT 'a\0b';\n")).message).toContain('NUL byte');
    expect(refusal(Buffer.from('COPY t FROM stdin;\na\0b\n\\.\n')).message).toContain('NUL byte');
  });
});

describe('client encoding', () => {
  it.each([
    "SET client_encoding = 'SJIS';\n",
    'SET client_encoding TO sjis;\n',
    "SET NAMES 'GBK';\n",
    'SET LOCAL "client_encoding" = \'Shift_JIS\';\n',
  ])('refuses %j', (text) => {
    expect(refusal(text).message).toContain('client_encoding');
  });

  it('judges a value continued on the next line, and refuses escaped ones', () => {
    expect(refusal("SET client_encoding = 'SJ'\n'IS';\n").message).toContain('client_encoding SJIS is not allowed');
    expect(refusal("SET client_encoding = E'\\x53JIS';\n").message).toContain('unusual client_encoding value');
    expect(refusal('SET client_encoding = $$sjis$$;\n').message).toContain('client_encoding sjis is not allowed');
  });

  it('accepts the encodings psql lexes safely', () => {
    const input = "SET client_encoding = 'UTF8';\nSET client_encoding TO latin1;\nSET NAMES 'EUC_JP';\n";
    expect(guard(input).toString()).toBe(input);
  });
});

describe('errors and output', () => {
  it('reports the line and a short excerpt, not the whole script', () => {
    const filler = `SELECT '${'x'.repeat(500)}';\n`;
    const error = refusal(`${filler}SELECT 2;\nSELECT 3; \\! rm -rf /\n${filler}`);
    expect(error.details).toEqual({ line: 3, statement: expect.any(String) });
    expect(error.message).toMatch(
      /^Unsafe SQL at line 3: psql meta-command "\\!" is not allowed: "SELECT 3; \\! rm -rf \/"$/,
    );
  });

  it('counts lines inside strings, comments and COPY data', () => {
    const input = "SELECT 'a\nb';\n/*\n*/\nCOPY t FROM stdin;\n1\n2\n\\.\n-- x\n\\o f\n";
    expect(refusal(input).details).toMatchObject({ line: 10 });
  });

  it('keeps refusing once it has refused', () => {
    const guard = createPlainSqlGuard();
    expect(() => guard.push(Buffer.from('\\! id\n'))).toThrow(EngineError);
    expect(() => guard.push(Buffer.from('SELECT 1;\n'))).toThrow(EngineError);
    expect(() => guard.end()).toThrow(EngineError);
  });

  it('ends the output with a newline', () => {
    expect(guard('SELECT 1; -- no newline').toString()).toBe('SELECT 1; -- no newline\n');
    expect(guard('').toString()).toBe('');
  });
});
