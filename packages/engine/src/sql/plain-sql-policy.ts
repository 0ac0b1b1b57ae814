/**
 * What a restore script may say, decided on the server's statements (the text between two
 * top-level semicolons) from the tokens the lexer reports. Every method that can refuse
 * returns the reason; the lexer turns it into an error that carries the line.
 */

/** What to do with a line that pg_dump itself writes around its output. */
export type FrameVerdict = 'remove' | 'keep' | { refuse: string };

const START = 0; // no token of the current statement seen yet
const PLAIN = 1; // nothing more to check until the next statement
const PREPARE = 2; // PREPARE seen: PREPARE TRANSACTION is refused
const COPY = 3; // looking for FROM / TO at parenthesis depth 0
const COPY_FROM = 4; // the next token says where COPY reads from
const COPY_STDIN = 5; // COPY ... FROM stdin: data lines follow the semicolon
const SET = 6; // SET [SESSION | LOCAL] <name>
const SET_ENCODING = 7; // SET client_encoding / SET NAMES: the value comes next
const SET_ENCODING_LITERAL = 8; // the value is a string, which may continue on the next line
const CREATE = 9; // CREATE [OR REPLACE]
const ROUTINE = 10; // CREATE FUNCTION / PROCEDURE: watching for BEGIN ATOMIC
const ROUTINE_BEGIN = 11; // BEGIN seen in a routine: ATOMIC opens a body
const ALTER = 12; // ALTER: what is altered comes next
const DROP = 13; // DROP: what is dropped comes next
const USER = 14; // CREATE / ALTER / DROP USER: only USER MAPPING stays inside the database
const DEFAULT = 15; // ALTER DEFAULT: PRIVILEGES next
const DEFAULT_PRIVILEGES = 16; // ALTER DEFAULT PRIVILEGES: FOR ROLE names whose defaults change
const DEFAULT_FOR = 17; // ... FOR: ROLE or USER next
const DEFAULT_ROLES = 18; // ... FOR ROLE: the role names (text wanted)
const GRANT = 19; // GRANT / REVOKE: ON names an object; TO / FROM before any ON grants a role
const RESET = 20; // RESET: ROLE and SESSION AUTHORIZATION change who runs the rest

const TRANSACTION_CONTROL = new Set(['begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release']);

/**
 * Statements that act outside one database's content. The restore runs with the owner's rights, so
 * the server refuses most of them anyway: refusing them before anything runs is defence in depth,
 * and a clear message instead of a permission error half-way.
 */
const OUTSIDE = {
  role: 'role DDL (CREATE / ALTER / DROP ROLE, USER, GROUP) acts outside the database',
  system: 'ALTER SYSTEM changes the server configuration',
  database: 'ALTER DATABASE acts on a database as a whole, outside its content',
  event: 'event triggers run code on every later DDL statement and need a superuser',
  session: 'changing the session authorization or role is not allowed in a restore script',
  membership: 'granting or revoking role membership acts outside the database',
  defaults: (role: string) => `ALTER DEFAULT PRIVILEGES FOR ROLE ${role} changes another role's defaults`,
};

/**
 * Client encodings in which a multibyte character can end in an ASCII byte. psql hides such
 * bytes from its lexer, so a quote or backslash could mean something else to psql than to
 * this guard (names as PostgreSQL matches them: lower case, non-alphanumerics dropped).
 */
const ASCII_UNSAFE_ENCODINGS = new Set(
  (
    'sjis shiftjis mskanji win932 windows932 shiftjis2004 big5 win950 windows950 gbk win936 windows936 ' +
    'uhc win949 windows949 gb18030 johab'
  ).split(' '),
);

const EQUALS = 0x3d;

export interface StatementPolicyOptions {
  /** The role a restore runs as, when known: only its own default privileges may change. */
  owner?: string;
  noOwner?: boolean;
  noPrivileges?: boolean;
}

export class StatementPolicy {
  private kind = START;
  /** Inside the body of CREATE FUNCTION ... BEGIN ATOMIC, whose statements end with ';' too. */
  private inAtomicBody = false;
  /** Between pg_dump's own "BEGIN;" and "COMMIT;" lines (both removed). */
  private dumpTransactionOpen = false;
  /** The client_encoding value so far ('a' 'b' on two lines is one string); null if too long. */
  private encoding: string | null = '';

  /**
   * What the current statement is, for no-owner / no-privileges: those leave out `ALTER ... OWNER
   * TO` and `GRANT` / `REVOKE` / `ALTER DEFAULT PRIVILEGES`, as pg_restore -O -x does.
   */
  private statement = { alter: false, privileges: false, ownerTo: false, rename: false, lastWasOwner: false };
  /** Whether the statement the last end() closed is left out. */
  droppedLast = false;

  /** @param options.owner the role the restore runs as, when known: its own default privileges may change. */
  constructor(private readonly options: StatementPolicyOptions = {}) {}

  /** The lexer holds a statement's bytes back until its end when it may be left out. */
  get holdsStatement(): boolean {
    return (
      (this.statement.alter && (this.options.noOwner === true || this.options.noPrivileges === true)) ||
      (this.statement.privileges && this.options.noPrivileges === true)
    );
  }

  /** Whether the statement read so far is left out. */
  private get dropsStatement(): boolean {
    const { alter, privileges, ownerTo, rename } = this.statement;
    return (
      (this.options.noOwner === true && alter && ownerTo && !rename) ||
      (this.options.noPrivileges === true && privileges)
    );
  }

  /** Whether the next identifier, quoted identifier or literal should come with its text. */
  get wantsText(): boolean {
    return (
      this.kind === SET ||
      this.kind === SET_ENCODING ||
      this.kind === SET_ENCODING_LITERAL ||
      this.kind === DEFAULT_ROLES ||
      this.kind === RESET
    );
  }

  /** Whether COPY data lines follow the semicolon that ends the current statement. */
  get copyDataFollows(): boolean {
    return this.kind === COPY_STDIN;
  }

  /**
   * An unquoted identifier: the lower-cased key word, or null for any other word (whose text
   * comes only while wantsText is true).
   * startsPsqlStatement: nothing precedes it in psql's query buffer.
   */
  word(word: string | null, parenDepth: number, startsPsqlStatement: boolean): string | undefined {
    if (this.kind !== START && this.statement.alter && parenDepth === 0) {
      if (word === 'rename') this.statement.rename = true;
      if (this.statement.lastWasOwner && word === 'to') this.statement.ownerTo = true;
      this.statement.lastWasOwner = word === 'owner';
    }
    switch (this.kind) {
      case START:
        return this.firstWord(word, startsPsqlStatement);
      case PREPARE:
        this.kind = PLAIN;
        return word === 'transaction'
          ? 'PREPARE TRANSACTION is not allowed: the restore runs in one transaction'
          : undefined;
      case COPY:
        if (parenDepth === 0 && word === 'from') this.kind = COPY_FROM;
        else if (parenDepth === 0 && word === 'to') return 'COPY ... TO is not allowed in a restore script';
        return undefined;
      case COPY_FROM:
        if (word === 'stdin') {
          this.kind = COPY_STDIN;
          return undefined;
        }
        if (word === 'program')
          return 'COPY ... FROM PROGRAM is not allowed (it runs a command on the database server)';
        return copySourceRefusal();
      case SET:
        if (word === 'session' || word === 'local') return undefined;
        if (word === 'authorization' || word === 'role' || word === 'session_authorization') return OUTSIDE.session;
        this.kind = word === 'client_encoding' || word === 'names' ? SET_ENCODING : PLAIN;
        return undefined;
      case RESET:
        this.kind = PLAIN;
        return word === 'role' || word === 'session' || word === 'session_authorization' ? OUTSIDE.session : undefined;
      case ALTER:
        return this.afterAlterOrDrop(word, true);
      case DROP:
        return this.afterAlterOrDrop(word, false);
      case USER:
        this.kind = PLAIN;
        return word === 'mapping' ? undefined : OUTSIDE.role;
      case DEFAULT:
        this.kind = word === 'privileges' ? DEFAULT_PRIVILEGES : PLAIN;
        if (word === 'privileges') this.statement.privileges = true;
        return undefined;
      case DEFAULT_PRIVILEGES:
        this.kind = word === 'for' ? DEFAULT_FOR : PLAIN;
        return undefined;
      case DEFAULT_FOR:
        this.kind = word === 'role' || word === 'user' ? DEFAULT_ROLES : PLAIN;
        return undefined;
      case DEFAULT_ROLES:
        if (word === 'in' || word === 'grant' || word === 'revoke') {
          this.kind = PLAIN;
          return undefined;
        }
        return this.defaultsRole(word);
      case GRANT:
        if (parenDepth > 0) return undefined;
        if (word === 'on') this.kind = PLAIN;
        else if (word === 'to' || word === 'from') return OUTSIDE.membership;
        return undefined;
      case SET_ENCODING:
        if (word === 'to') return undefined;
        this.kind = PLAIN;
        return encodingRefusal(word);
      case SET_ENCODING_LITERAL:
        return this.endEncodingLiteral();
      case CREATE:
        if (word === 'or' || word === 'replace') return undefined;
        if (word === 'role' || word === 'group') return OUTSIDE.role;
        if (word === 'event') return OUTSIDE.event;
        if (word === 'user') {
          this.kind = USER;
          return undefined;
        }
        this.kind = word === 'function' || word === 'procedure' ? ROUTINE : PLAIN;
        return undefined;
      case ROUTINE:
        if (parenDepth === 0 && word === 'begin') this.kind = ROUTINE_BEGIN;
        return undefined;
      case ROUTINE_BEGIN:
        if (word === 'atomic') {
          this.inAtomicBody = true;
          this.kind = START;
        } else {
          this.kind = word === 'begin' ? ROUTINE_BEGIN : ROUTINE;
        }
        return undefined;
      default:
        return undefined;
    }
  }

  /** A double-quoted identifier (text only when wantsText was true at its start). */
  quoted(text: string | null): string | undefined {
    if (this.kind === DEFAULT_ROLES) return this.defaultsRole(text);
    // SET "role" / RESET "role": the quoted spelling of the same settings.
    if ((this.kind === SET || this.kind === RESET) && (text === 'role' || text === 'session_authorization')) {
      return OUTSIDE.session;
    }
    if (this.kind === RESET) {
      this.kind = PLAIN;
      return undefined;
    }
    if (this.kind === SET) {
      this.kind = text?.toLowerCase() === 'client_encoding' ? SET_ENCODING : PLAIN;
      return undefined;
    }
    if (this.kind === SET_ENCODING) {
      this.kind = PLAIN;
      return encodingRefusal(text);
    }
    return this.otherToken();
  }

  /** A string constant in any quoting, dollar quotes included. */
  literal(text: string | null): string | undefined {
    if (this.kind === SET_ENCODING) {
      this.kind = SET_ENCODING_LITERAL;
      this.encoding = text;
      return undefined;
    }
    if (this.kind === SET_ENCODING_LITERAL) {
      this.encoding = this.encoding === null || text === null ? null : this.encoding + text;
      return undefined;
    }
    return this.otherToken();
  }

  /** Any other token: number, parameter, operator, punctuation, psql variable. */
  other(byte: number): string | undefined {
    if (this.kind === SET_ENCODING && byte === EQUALS) return undefined;
    return this.otherToken();
  }

  /** A top-level semicolon. */
  end(): string | undefined {
    const reason = this.kind === SET_ENCODING_LITERAL ? this.endEncodingLiteral() : undefined;
    this.kind = START;
    this.droppedLast = this.dropsStatement;
    this.statement = { alter: false, privileges: false, ownerTo: false, rename: false, lastWasOwner: false };
    return reason;
  }

  /** A line pg_dump writes around its output, seen where psql starts a new statement. */
  frameLine(line: string): FrameVerdict {
    if (this.kind !== START || this.inAtomicBody) return 'keep';
    if (line === 'BEGIN;') {
      if (this.dumpTransactionOpen) return { refuse: 'BEGIN inside a BEGIN ... COMMIT block' };
      this.dumpTransactionOpen = true;
      return 'remove';
    }
    if (line === 'COMMIT;') {
      if (!this.dumpTransactionOpen) return 'keep';
      this.dumpTransactionOpen = false;
      return 'remove';
    }
    return /^\\(?:un)?restrict [A-Za-z0-9]+$/.test(line) ? 'remove' : 'keep';
  }

  /** At the end of the script. */
  finish(): string | undefined {
    if (this.dumpTransactionOpen) return 'the script ends inside a BEGIN; ... COMMIT; block (truncated file?)';
    return undefined;
  }

  private firstWord(word: string | null, startsPsqlStatement: boolean): string | undefined {
    this.statement.alter = word === 'alter';
    this.statement.privileges = word === 'grant' || word === 'revoke';
    if (this.inAtomicBody && word === 'end') {
      this.inAtomicBody = false;
      this.kind = PLAIN;
      return undefined;
    }
    if (word !== null && TRANSACTION_CONTROL.has(word)) {
      return `transaction control (${word.toUpperCase()}) is not allowed: the restore runs in one transaction`;
    }
    switch (word) {
      case 'prepare':
        this.kind = PREPARE;
        return undefined;
      case 'copy':
        // psql reads COPY data from the lines after the one that completes its query buffer,
        // so the data boundary is only known when COPY is that whole buffer.
        if (!startsPsqlStatement || this.inAtomicBody) return 'COPY must be a statement of its own';
        this.kind = COPY;
        return undefined;
      case 'set':
        this.kind = SET;
        return undefined;
      case 'reset':
        this.kind = RESET;
        return undefined;
      case 'create':
        this.kind = CREATE;
        return undefined;
      case 'alter':
        this.kind = ALTER;
        return undefined;
      case 'drop':
        this.kind = DROP;
        return undefined;
      case 'grant':
      case 'revoke':
        this.kind = GRANT;
        return undefined;
      default:
        this.kind = PLAIN;
        return undefined;
    }
  }

  private afterAlterOrDrop(word: string | null, alter: boolean): string | undefined {
    this.kind = PLAIN;
    if (word === 'role' || word === 'group') return OUTSIDE.role;
    if (word === 'user') {
      this.kind = USER;
      return undefined;
    }
    if (!alter) return undefined;
    if (word === 'system') return OUTSIDE.system;
    if (word === 'database') return OUTSIDE.database;
    if (word === 'event') return OUTSIDE.event;
    if (word === 'default') this.kind = DEFAULT;
    return undefined;
  }

  /** A role named after ALTER DEFAULT PRIVILEGES FOR ROLE: only the owner's own defaults may change. */
  private defaultsRole(name: string | null): string | undefined {
    if (this.options.owner === undefined) return undefined;
    return name === this.options.owner ? undefined : OUTSIDE.defaults(name ?? '(unreadable name)');
  }

  private otherToken(): string | undefined {
    this.statement.lastWasOwner = false;
    switch (this.kind) {
      case DEFAULT_ROLES:
      case GRANT:
        return undefined;
      case START:
      case SET:
      case SET_ENCODING:
      case CREATE:
      case PREPARE:
        this.kind = PLAIN;
        return undefined;
      case COPY_FROM:
        return copySourceRefusal();
      case SET_ENCODING_LITERAL:
        return this.endEncodingLiteral();
      case ROUTINE_BEGIN:
        this.kind = ROUTINE;
        return undefined;
      default:
        return undefined;
    }
  }

  private endEncodingLiteral(): string | undefined {
    this.kind = PLAIN;
    return encodingRefusal(this.encoding);
  }
}

function encodingRefusal(value: string | null): string | undefined {
  // Escapes (E'\x53JIS', U&'\0053JIS') could spell any name: only plain names are judged.
  if (value === null || !/^[\w\- ]*$/.test(value)) return `unusual client_encoding value ${JSON.stringify(value)}`;
  if (!ASCII_UNSAFE_ENCODINGS.has(value.toLowerCase().replace(/[^a-z0-9]/g, ''))) return undefined;
  return `client_encoding ${value} is not allowed: psql would read the rest of the script differently`;
}

function copySourceRefusal(): string {
  return 'COPY ... FROM must read from stdin (server-side files are not allowed)';
}
