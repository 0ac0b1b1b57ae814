import { EngineError } from '../errors.js';
import type { StatementPolicy } from './plain-sql-policy.js';

/*
 * An incremental lexer that reads a script the way psql 15 does (src/fe_utils/psqlscan.l and
 * psql's MainLoop / handleCopyIn), so that it knows where psql sees meta-commands, where it
 * ends a query buffer and where COPY data starts and stops. Input arrives in chunks that can be
 * split anywhere; bytes whose meaning depends on what follows are carried into the next chunk.
 *
 * Where psql's reading could differ from this one, the lexer refuses the text instead of guessing:
 *  - a quote after an odd run of backslashes in a string: it ends '...' when
 *    standard_conforming_strings is on, which the script itself can turn off, but not E'...'.
 *    Without such quotes all kinds of strings end at the same place in either setting, so the
 *    lexer need not know which kind it is in;
 *  - numbers glued to letters, digits or '$' (psql versions lex them differently);
 *  - NUL bytes (psql reads lines with fgets() and loses whatever follows a NUL).
 */

/** Longest identifier, number, parameter, psql variable or dollar-quote tag accepted. */
const MAX_TOKEN = 4096;
/** Longest statement held back to be judged whole (no-owner / no-privileges): pg_dump's are short. */
const MAX_HELD = 1024 * 1024;
/** Longest line that can still be one of pg_dump's own framing lines (\restrict keys are 64 chars). */
const MAX_FRAME_LINE = 512;
/** Text kept of a literal or quoted identifier the policy asked for. */
const MAX_CAPTURE = 64;
/** Longest meta-command name quoted in an error. */
const MAX_META_NAME = 24;

const NUL = 0x00;
const TAB = 0x09;
const LF = 0x0a;
const FF = 0x0c;
const CR = 0x0d;
const SPACE = 0x20;
const DQUOTE = 0x22;
const DOLLAR = 0x24;
const AMP = 0x26;
const QUOTE = 0x27;
const LPAREN = 0x28;
const RPAREN = 0x29;
const STAR = 0x2a;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;

// Lexer states.
const TOP = 0;
const STRING = 1; // '...' of any kind (plain, E, B, X, N, U&)
const QUOTED_IDENT = 2; // "..." and U&"..."
const DOLLAR_BODY = 3;
const LINE_COMMENT = 4;
const BLOCK_COMMENT = 5;
const COPY_TAIL = 6; // rest of the line after "COPY ... FROM stdin;"
const COPY_DATA = 7;

// Byte classes at the top level (0: any other byte, a token of its own).
const C_SPACE = 1;
const C_LF = 2;
const C_IDENT = 3;
const C_DIGIT = 4;
const C_SPECIAL = 5;

const TOP_CLASS = new Uint8Array(256);
/** psql's ident_cont: [A-Za-z\200-\377_0-9$] */
const IDENT_CONT = new Uint8Array(256);
/** psql's dolq_cont: [A-Za-z\200-\377_0-9]; dolq_start is the same without digits. */
const TAG_CONT = new Uint8Array(256);
/** psql's variable_char: [A-Za-z\200-\377_0-9] */
const VARIABLE_CHAR = TAG_CONT;

for (let b = 0; b < 256; b++) {
  const letter = (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f || b >= 0x80;
  const digit = b >= 0x30 && b <= 0x39;
  if (letter) TOP_CLASS[b] = C_IDENT;
  if (digit) TOP_CLASS[b] = C_DIGIT;
  if (letter || digit) TAG_CONT[b] = 1;
  if (letter || digit || b === DOLLAR) IDENT_CONT[b] = 1;
}
TOP_CLASS[SPACE] = TOP_CLASS[TAB] = TOP_CLASS[CR] = TOP_CLASS[FF] = C_SPACE;
TOP_CLASS[LF] = C_LF;
for (const b of [NUL, DQUOTE, DOLLAR, QUOTE, LPAREN, RPAREN, MINUS, DOT, SLASH, COLON, SEMICOLON, BACKSLASH]) {
  TOP_CLASS[b] = C_SPECIAL;
}

/** The key words the policy and psql's heuristic look for: identifiers are compared, not copied. */
const KEYWORDS = (
  'abort atomic begin case client_encoding commit copy create end from function local names or prepare ' +
  'procedure program release replace rollback savepoint session set start stdin to transaction ' +
  'alter authorization database default drop event for grant group in mapping on privileges reset revoke ' +
  'role session_authorization system user owner rename'
).split(' ');
const KEYWORDS_BY_LENGTH: { word: string; bytes: Buffer }[][] = [];
for (const word of KEYWORDS) (KEYWORDS_BY_LENGTH[word.length] ??= []).push({ word, bytes: Buffer.from(word) });
const LOWER = new Uint8Array(256).map((_, b) => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b));

/** The key word spelled by buf[i, j), case-insensitively, or null. */
function keywordAt(buf: Buffer, i: number, j: number): string | null {
  const candidates = KEYWORDS_BY_LENGTH[j - i];
  if (candidates === undefined) return null;
  next: for (const { word, bytes } of candidates) {
    for (let k = 0; k < bytes.length; k++) if (LOWER[buf[i + k]!] !== bytes[k]) continue next;
    return word;
  }
  return null;
}

const isDigit = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x39;
const isUpper = (b: number): boolean => b >= 0x41 && b <= 0x5a;

/** Returned by scanners when the bytes at hand cannot decide (see needMore()). */
const NEED_MORE = -1;

const EMPTY = Buffer.alloc(0);
const NO_CR = -2;

export class PlainSqlLexer {
  private state = TOP;
  private carry: Buffer = EMPTY;
  private failure: EngineError | null = null;
  private emittedNewline = true;
  private emittedAny = false;

  // Position bookkeeping for error messages: `line` is the line number at `linePos` of `buf`.
  private buf: Buffer = EMPTY;
  private line = 1;
  private linePos = 0;
  private nulAt = -1;
  private crAt = -1;
  private removed: number[] = [];
  private stopAt = 0;

  // A statement that may be left out (no-owner / no-privileges) is held back from its first word
  // (at `holdFrom` in the current chunk; 0 once it began in an earlier one) to its semicolon.
  private holding = false;
  private holdFrom = 0;
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Held bytes of a statement that stays: they go out before the current chunk's. */
  private released: Buffer[] = [];

  /** At column 0 of a top-level line (pg_dump's framing lines are recognised only there). */
  private atLineStart = true;

  // psql's own view of its query buffer (psqlscan.l): it sends the buffer at a semicolon only
  // outside parentheses and outside what its heuristic takes for a BEGIN ... END routine body.
  private psqlPending = false;
  private parenDepth = 0;
  private beginDepth = 0;
  private identCount = 0;
  private readonly initials = [0, 0, 0, 0];

  // Inside a string: the run of backslashes just before the current position, and whether
  // the byte before that run was non-ASCII.
  private backslashRun = 0;
  private runAfterHighByte = false;
  private dollarTag: Buffer = EMPTY;
  private commentDepth = 0;
  private dataLineStart = true;

  private capturing = false;
  private readonly captured = Buffer.alloc(MAX_CAPTURE);
  private capturedLength = 0;

  constructor(private readonly policy: StatementPolicy) {}

  /** Validates one chunk; returns the bytes that may be passed on to psql. */
  push(chunk: Buffer): Buffer {
    if (this.failure) throw this.failure;
    return this.run(this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk, false);
  }

  /** Validates the end of the input; returns the last bytes to pass on. */
  end(): Buffer {
    if (this.failure) throw this.failure;
    // A held statement always ends first: a script that ends inside a statement is refused here.
    const last = this.run(this.carry, true);
    const reason = this.endOfInputRefusal();
    if (reason) this.fail(this.buf.length, reason);
    // Whatever the caller appends must never continue the script's last line.
    if (this.emittedAny && !this.emittedNewline) {
      return last.length > 0 ? Buffer.concat([last, Buffer.from('\n')]) : Buffer.from('\n');
    }
    return last;
  }

  private run(buf: Buffer, eof: boolean): Buffer {
    this.buf = buf;
    this.linePos = 0;
    this.nulAt = buf.indexOf(NUL);
    this.crAt = -1;
    this.removed = [];
    let pos = 0;
    while (pos < buf.length) {
      const next = this.step(buf, pos, eof);
      if (next === NEED_MORE) {
        pos = this.stopAt;
        break;
      }
      pos = next;
    }
    this.countLines(pos);
    this.carry = pos < buf.length ? Buffer.from(buf.subarray(pos)) : EMPTY;
    const released = this.released;
    this.released = [];
    if (!this.holding) return this.emit([...released, this.output(buf, 0, pos)]);
    const from = Math.min(this.holdFrom, pos);
    const held = this.output(buf, from, pos);
    this.heldBytes += held.length;
    if (this.heldBytes > MAX_HELD) this.fail(pos, 'a statement too long to judge for no-owner / no-privileges');
    this.held.push(Buffer.from(held));
    this.holdFrom = 0;
    return this.emit([...released, this.output(buf, 0, from)]);
  }

  private stopHolding(): void {
    this.holding = false;
    this.held = [];
    this.heldBytes = 0;
  }

  /** Processes from `pos` in the current state; returns the new position or NEED_MORE. */
  private step(buf: Buffer, pos: number, eof: boolean): number {
    switch (this.state) {
      case TOP:
        return this.top(buf, pos, eof);
      case STRING:
        return this.string(buf, pos, eof);
      case QUOTED_IDENT:
        return this.quotedIdent(buf, pos, eof);
      case DOLLAR_BODY:
        return this.dollarBody(buf, pos, eof);
      case LINE_COMMENT:
        return this.lineComment(buf, pos);
      case BLOCK_COMMENT:
        return this.blockComment(buf, pos, eof);
      case COPY_TAIL:
        return this.copyTail(buf, pos);
      default:
        return this.copyData(buf, pos, eof);
    }
  }

  /** Stops this chunk at `pos`, where the state is exactly as it was before the byte at `pos`. */
  private needMore(pos: number): number {
    this.stopAt = pos;
    return NEED_MORE;
  }

  /** buf[start, end) less the removed ranges. */
  private output(buf: Buffer, start: number, end: number): Buffer {
    let out: Buffer;
    if (this.removed.length === 0) {
      out = buf.subarray(start, end);
    } else {
      const pieces: Buffer[] = [];
      let from = start;
      for (let k = 0; k < this.removed.length; k += 2) {
        const [cut, resume] = [this.removed[k]!, this.removed[k + 1]!];
        if (resume <= from || cut >= end) continue;
        if (cut > from) pieces.push(buf.subarray(from, cut));
        from = resume;
      }
      if (end > from) pieces.push(buf.subarray(from, end));
      out = Buffer.concat(pieces);
    }
    return out;
  }

  /** What goes to psql now. */
  private emit(pieces: Buffer[]): Buffer {
    const out = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
    if (out.length > 0) {
      this.emittedAny = true;
      this.emittedNewline = out[out.length - 1] === LF;
    }
    return out;
  }

  // ---------------------------------------------------------------- top level

  private top(buf: Buffer, pos: number, eof: boolean): number {
    const len = buf.length;
    let i = pos;
    while (i < len) {
      const c = buf[i]!;
      if (this.atLineStart && !this.psqlPending && (c === BACKSLASH || c === 0x42 || c === 0x43)) {
        const next = this.frameLine(buf, i, eof);
        if (next === NEED_MORE) return this.needMore(i);
        if (next !== i) {
          i = next;
          continue;
        }
      }
      this.atLineStart = false;
      switch (TOP_CLASS[c]) {
        case C_SPACE:
          i++;
          break;
        case C_LF:
          i++;
          this.atLineStart = true;
          break;
        case C_IDENT: {
          const next = this.identifier(buf, i, eof);
          if (next === NEED_MORE) return this.needMore(i);
          i = next;
          break;
        }
        case C_DIGIT: {
          const next = this.number(buf, i, eof);
          if (next === NEED_MORE) return this.needMore(i);
          this.otherToken(i, c);
          i = next;
          break;
        }
        case C_SPECIAL: {
          const next = this.special(buf, i, eof);
          if (next === NEED_MORE) return this.needMore(i);
          if (this.state !== TOP) return next;
          i = next;
          break;
        }
        default:
          this.otherToken(i, c);
          i++;
      }
    }
    return i;
  }

  private special(buf: Buffer, i: number, eof: boolean): number {
    const c = buf[i]!;
    const next = buf[i + 1];
    if (
      next === undefined &&
      !eof &&
      (c === MINUS || c === SLASH || c === DOT || c === COLON || c === DOLLAR || c === BACKSLASH)
    ) {
      return NEED_MORE;
    }
    switch (c) {
      case QUOTE:
        this.beginLiteral(STRING);
        return i + 1;
      case DQUOTE:
        this.beginLiteral(QUOTED_IDENT);
        return i + 1;
      case DOLLAR:
        return this.dollar(buf, i, eof);
      case MINUS:
        if (next === MINUS) {
          this.state = LINE_COMMENT;
          return i + 2;
        }
        this.otherToken(i, c);
        return i + 1;
      case SLASH:
        if (next === STAR) {
          this.state = BLOCK_COMMENT;
          this.commentDepth = 0;
          return i + 2;
        }
        this.otherToken(i, c);
        return i + 1;
      case DOT: {
        const end = isDigit(next) ? this.number(buf, i, eof) : i + 1;
        if (end !== NEED_MORE) this.otherToken(i, c);
        return end;
      }
      case COLON:
        return this.colon(buf, i, eof);
      case LPAREN:
        this.otherToken(i, c);
        this.parenDepth++;
        return i + 1;
      case RPAREN:
        this.otherToken(i, c);
        if (this.parenDepth > 0) this.parenDepth--;
        return i + 1;
      case SEMICOLON:
        return this.semicolon(i);
      case BACKSLASH: {
        const nameEnd = metaCommandEnd(buf, i);
        // Waits for the whole name, so that the message does not depend on chunk boundaries.
        if (nameEnd === buf.length && nameEnd - i < MAX_META_NAME && !eof) return NEED_MORE;
        return this.fail(i, `psql meta-command "${printable(buf.toString('utf8', i, nameEnd))}" is not allowed`);
      }
      default:
        return this.fail(i, 'NUL byte in the script');
    }
  }

  private identifier(buf: Buffer, i: number, eof: boolean): number {
    const len = buf.length;
    let j = i + 1;
    while (j < len && IDENT_CONT[buf[j]!]) j++;
    if (j - i > MAX_TOKEN) return this.fail(i, 'identifier too long');
    if (j === len && !eof) return NEED_MORE;
    if (j - i === 1 && j < len) {
      const c = buf[i]! | 0x20;
      const next = buf[j]!;
      // B'..', E'..', N'..', X'..': the letter belongs to the literal, it is not an identifier.
      if (next === QUOTE && (c === 0x62 || c === 0x65 || c === 0x6e || c === 0x78)) return j;
      if (next === AMP && c === 0x75) {
        if (j + 1 >= len && !eof) return NEED_MORE;
        const after = buf[j + 1];
        if (after === QUOTE || after === DQUOTE) return j + 1; // U&'..' and U&"..."
        // psql passes a lone "u&" on without counting the u as an identifier.
        this.otherToken(i, buf[i]!);
        return j;
      }
    }
    // Text only for a SET value (an encoding name); otherwise only key words matter.
    const word = this.policy.wantsText ? buf.toString('latin1', i, j).toLowerCase() : keywordAt(buf, i, j);
    this.psqlIdentifier(word);
    const reason = this.policy.word(word, this.parenDepth, !this.psqlPending);
    this.psqlPending = true;
    if (reason) this.fail(i, reason);
    if (!this.holding && this.policy.holdsStatement) {
      this.holding = true;
      this.holdFrom = i;
    }
    return j;
  }

  /** Mirrors psqlscan.l's {identifier} rule: BEGIN ... END counting in CREATE FUNCTION/PROCEDURE. */
  private psqlIdentifier(word: string | null): void {
    const initials = this.initials;
    if (this.identCount === 0) initials.fill(0);
    if (
      this.identCount < 4 &&
      (word === 'create' || word === 'function' || word === 'procedure' || word === 'or' || word === 'replace')
    ) {
      initials[this.identCount] = word.charCodeAt(0);
    }
    this.identCount++;
    const second = initials[1];
    const fourth = initials[3];
    const f = 0x66;
    const p = 0x70;
    const routine =
      initials[0] === 0x63 &&
      (second === f || second === p || (second === 0x6f && initials[2] === 0x72 && (fourth === f || fourth === p)));
    if (!routine || this.parenDepth !== 0) return;
    if (word === 'begin') this.beginDepth++;
    else if (word === 'case') {
      if (this.beginDepth >= 1) this.beginDepth++;
    } else if (word === 'end' && this.beginDepth > 0) this.beginDepth--;
  }

  /** PostgreSQL 15's numeric literals; anything glued to one is refused (see top comment). */
  private number(buf: Buffer, i: number, eof: boolean): number {
    const len = buf.length;
    let j = i;
    while (j < len && isDigit(buf[j])) j++;
    if (j < len && buf[j] === DOT) {
      if (j + 1 >= len && !eof) return NEED_MORE;
      if (buf[j + 1] !== DOT || j === i) {
        j++;
        while (j < len && isDigit(buf[j])) j++;
      }
    }
    if (j < len && (buf[j]! | 0x20) === 0x65) {
      let k = j + 1;
      if (k < len && (buf[k] === PLUS || buf[k] === MINUS)) k++;
      if (k >= len && !eof) return NEED_MORE;
      if (!isDigit(buf[k])) return this.fail(i, 'malformed numeric literal');
      while (k < len && isDigit(buf[k])) k++;
      j = k;
    }
    if (j - i > MAX_TOKEN) return this.fail(i, 'numeric literal too long');
    if (j === len && !eof) return NEED_MORE;
    if (j < len && IDENT_CONT[buf[j]!]) return this.fail(i, 'malformed numeric literal');
    return j;
  }

  /** '$': a dollar quote, a parameter ($1) or a lone dollar sign. */
  private dollar(buf: Buffer, i: number, eof: boolean): number {
    const len = buf.length;
    const next = buf[i + 1];
    if (isDigit(next)) {
      let j = i + 2;
      while (j < len && isDigit(buf[j])) j++;
      if (j - i > MAX_TOKEN) return this.fail(i, 'parameter too long');
      if (j === len && !eof) return NEED_MORE;
      if (j < len && IDENT_CONT[buf[j]!]) return this.fail(i, 'malformed parameter');
      this.otherToken(i, DOLLAR);
      return j;
    }
    let j = i + 1;
    if (next !== undefined && TAG_CONT[next]) {
      while (j < len && TAG_CONT[buf[j]!]) j++;
      if (j - i > MAX_TOKEN) return this.fail(i, 'dollar-quote tag too long');
      if (j === len && !eof) return NEED_MORE;
    }
    if (j < len && buf[j] === DOLLAR) {
      this.dollarTag = Buffer.from(buf.subarray(i, j + 1));
      this.beginLiteral(DOLLAR_BODY);
      return j + 1;
    }
    // Not a delimiter: psql passes the '$' on and lexes what follows afresh.
    this.otherToken(i, DOLLAR);
    return i + 1;
  }

  /** ':' - typecast, ':=' or a psql variable reference, which psql replaces before lexing on. */
  private colon(buf: Buffer, i: number, eof: boolean): number {
    const len = buf.length;
    const next = buf[i + 1];
    if (next === COLON || next === EQUALS) {
      this.otherToken(i, COLON);
      return i + 2;
    }
    if (next === LBRACE) return this.fail(i, 'psql variable test :{?...} is not allowed');
    if (next !== undefined && VARIABLE_CHAR[next]) {
      let j = i + 1;
      let upper = false;
      for (; j < len && VARIABLE_CHAR[buf[j]!]; j++) {
        if (isUpper(buf[j]!)) upper = true;
      }
      if (j - i > MAX_TOKEN) return this.fail(i, 'psql variable name too long');
      if (j === len && !eof) return NEED_MORE;
      // psql's own variables (DBNAME, USER, VERSION, ...) are upper case; lower-case names
      // cannot be set without \set and stay as they are (e.g. an array slice a[1:n]).
      if (upper) return this.fail(i, 'psql variable reference is not allowed');
      this.otherToken(i, COLON);
      return j;
    }
    this.otherToken(i, COLON);
    return i + 1;
  }

  private semicolon(i: number): number {
    const copyData = this.policy.copyDataFollows;
    const reason = this.policy.end();
    if (reason) return this.fail(i, reason);
    if (this.holding) {
      if (this.policy.droppedLast) this.removed.push(this.holdFrom, i + 1);
      else this.released.push(...this.held);
      this.stopHolding();
    }
    const psqlSends = this.parenDepth === 0 && this.beginDepth === 0;
    if (copyData && !psqlSends) return this.fail(i, 'COPY must be a statement of its own');
    if (psqlSends) {
      this.psqlPending = false;
      this.identCount = 0;
    }
    if (copyData) this.state = COPY_TAIL;
    return i + 1;
  }

  private otherToken(i: number, byte: number): void {
    const reason = this.policy.other(byte);
    this.psqlPending = true;
    if (reason) this.fail(i, reason);
  }

  /**
   * pg_dump's own lines, recognised only alone on a line where psql starts a new query:
   * "\restrict KEY", "\unrestrict KEY", "BEGIN;" and "COMMIT;". Returns `i` when the line is
   * not one of them.
   */
  private frameLine(buf: Buffer, i: number, eof: boolean): number {
    const len = buf.length;
    const lf = buf.indexOf(LF, i);
    if (lf === -1 ? len - i > MAX_FRAME_LINE : lf - i > MAX_FRAME_LINE) return i;
    if (lf === -1 && !eof) return NEED_MORE;
    const lineEnd = lf === -1 ? len : lf;
    const textEnd = lineEnd > i && buf[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
    const verdict = this.policy.frameLine(buf.toString('latin1', i, textEnd));
    if (verdict === 'keep') return i;
    if (verdict !== 'remove') return this.fail(i, verdict.refuse);
    const next = lf === -1 ? len : lf + 1;
    this.removed.push(i, next);
    return next;
  }

  // ---------------------------------------------------------------- quoted text

  private beginLiteral(state: number): void {
    this.state = state;
    this.capturing = this.policy.wantsText;
    this.capturedLength = 0;
    this.backslashRun = 0;
    this.runAfterHighByte = false;
  }

  private capture(buf: Buffer, from: number, to: number): void {
    if (!this.capturing || this.capturedLength >= MAX_CAPTURE) return;
    this.capturedLength += buf.copy(this.captured, this.capturedLength, from, to);
  }

  private capturedText(): string | null {
    if (!this.capturing || this.capturedLength >= MAX_CAPTURE) return null;
    return this.captured.toString('utf8', 0, this.capturedLength);
  }

  private endLiteral(start: number): void {
    const kind = this.state;
    this.state = TOP;
    const reason =
      kind === QUOTED_IDENT ? this.policy.quoted(this.capturedText()) : this.policy.literal(this.capturedText());
    this.psqlPending = true;
    if (reason) this.fail(start, reason);
  }

  private string(buf: Buffer, pos: number, eof: boolean): number {
    const len = buf.length;
    let i = pos;
    for (;;) {
      const q = buf.indexOf(QUOTE, i);
      const end = q === -1 ? len : q;
      this.checkNul(i, end);
      this.capture(buf, i, end);
      let k = end - 1;
      while (k >= i && buf[k] === BACKSLASH) k--;
      let run = end - 1 - k;
      let afterHigh: boolean;
      if (k < i) {
        run += this.backslashRun;
        afterHigh = this.runAfterHighByte;
      } else {
        afterHigh = buf[k]! >= 0x80;
      }
      this.backslashRun = run;
      this.runAfterHighByte = afterHigh;
      if (q === -1) return len;
      if (run % 2 === 1) {
        return this.fail(q, "backslash before a quote: its meaning depends on standard_conforming_strings; write ''");
      }
      // In a client encoding like SJIS that byte pair could be one character, leaving an odd run.
      if (run > 0 && afterHigh) return this.fail(q, 'backslashes between a non-ASCII character and a quote');
      if (q + 1 >= len && !eof) return this.needMore(q);
      if (buf[q + 1] !== QUOTE) {
        this.endLiteral(q);
        return q + 1;
      }
      this.capture(buf, q, q + 1);
      this.backslashRun = 0;
      i = q + 2;
    }
  }

  private quotedIdent(buf: Buffer, pos: number, eof: boolean): number {
    const len = buf.length;
    let i = pos;
    for (;;) {
      const q = buf.indexOf(DQUOTE, i);
      const end = q === -1 ? len : q;
      this.checkNul(i, end);
      this.capture(buf, i, end);
      if (q === -1) return len;
      if (q + 1 >= len && !eof) return this.needMore(q);
      if (buf[q + 1] !== DQUOTE) {
        this.endLiteral(q);
        return q + 1;
      }
      this.capture(buf, q, q + 1);
      i = q + 2;
    }
  }

  private dollarBody(buf: Buffer, pos: number, eof: boolean): number {
    const tag = this.dollarTag;
    const close = buf.indexOf(tag, pos);
    if (close === -1) {
      // The last bytes may be the start of the closing delimiter.
      const keep = eof ? buf.length : Math.max(pos, buf.length - tag.length + 1);
      this.checkNul(pos, keep);
      this.capture(buf, pos, keep);
      return keep < buf.length ? this.needMore(keep) : keep;
    }
    this.checkNul(pos, close);
    this.capture(buf, pos, close);
    this.endLiteral(close);
    return close + tag.length;
  }

  // ---------------------------------------------------------------- comments

  /** "--" comments end at LF or CR: psql's lexer never sees the LF, but does see a CR. */
  private lineComment(buf: Buffer, pos: number): number {
    const lf = buf.indexOf(LF, pos);
    let end = lf === -1 ? buf.length : lf;
    // The first CR at or after pos, searched once per stretch (CR is rare).
    if (this.crAt !== NO_CR && this.crAt < pos) {
      const cr = buf.indexOf(CR, pos);
      this.crAt = cr === -1 ? NO_CR : cr;
    }
    if (this.crAt !== NO_CR && this.crAt < end) end = this.crAt;
    this.checkNul(pos, end);
    if (end < buf.length) this.state = TOP;
    return end;
  }

  private blockComment(buf: Buffer, pos: number, eof: boolean): number {
    const len = buf.length;
    let i = pos;
    while (i < len) {
      const c = buf[i]!;
      if (c === STAR || c === SLASH) {
        if (i + 1 >= len) {
          if (!eof) return this.needMore(i);
          i++;
          continue;
        }
        const next = buf[i + 1];
        if (c === STAR && next === SLASH) {
          i += 2;
          if (this.commentDepth === 0) {
            this.state = TOP;
            return i;
          }
          this.commentDepth--;
          continue;
        }
        if (c === SLASH && next === STAR) {
          this.commentDepth++;
          i += 2;
          continue;
        }
      } else if (c === NUL) {
        return this.fail(i, 'NUL byte in the script');
      }
      i++;
    }
    return i;
  }

  // ---------------------------------------------------------------- COPY data

  /** psql runs COPY at the semicolon and reads data from the next line; the rest of this line must be blank. */
  private copyTail(buf: Buffer, pos: number): number {
    const len = buf.length;
    for (let i = pos; i < len; i++) {
      const c = buf[i]!;
      if (c === LF) {
        this.state = COPY_DATA;
        this.dataLineStart = true;
        return i + 1;
      }
      if (c !== SPACE && c !== TAB && c !== CR && c !== FF) {
        return this.fail(i, 'text after "COPY ... FROM stdin;" on the same line');
      }
    }
    return len;
  }

  /** Data lines, any bytes but NUL, up to a line that is exactly "\." (psql's handleCopyIn). */
  private copyData(buf: Buffer, pos: number, eof: boolean): number {
    const len = buf.length;
    // Lines are counted here directly, the bulk of a dump being data lines.
    this.countLines(pos);
    let i = pos;
    while (i < len) {
      if (this.dataLineStart && buf[i] === BACKSLASH) {
        const marker = endOfDataLength(buf, i);
        if (marker > 0) {
          this.line++;
          this.linePos = i + marker;
          this.state = TOP;
          this.atLineStart = true;
          return i + marker;
        }
        if (!eof && mayBecomeEndOfData(buf, i)) return this.needMore(i);
      }
      const lf = buf.indexOf(LF, i);
      if (lf === -1) {
        this.checkNul(i, len);
        this.dataLineStart = false;
        return len;
      }
      if (this.nulAt >= i && this.nulAt < lf) this.fail(this.nulAt, 'NUL byte in COPY data');
      this.line++;
      i = lf + 1;
      this.linePos = i;
      this.dataLineStart = true;
    }
    return i;
  }

  // ---------------------------------------------------------------- errors and end of input

  private endOfInputRefusal(): string | undefined {
    switch (this.state) {
      case STRING:
        return 'unterminated quoted string at the end of the script';
      case QUOTED_IDENT:
        return 'unterminated quoted identifier at the end of the script';
      case DOLLAR_BODY:
        return 'unterminated dollar-quoted string at the end of the script';
      case BLOCK_COMMENT:
        return 'unterminated /* comment at the end of the script';
      case COPY_TAIL:
      case COPY_DATA:
        return 'COPY data is not terminated by a line "\\."';
      default:
        if (this.psqlPending) return 'the script ends inside a statement that psql has not sent yet';
        return this.policy.finish();
    }
  }

  private checkNul(from: number, to: number): void {
    if (this.nulAt >= from && this.nulAt < to) this.fail(this.nulAt, 'NUL byte in the script');
  }

  private countLines(to: number): void {
    if (to <= this.linePos) return;
    const buf = this.buf;
    let i = this.linePos;
    for (;;) {
      const lf = buf.indexOf(LF, i);
      if (lf === -1 || lf >= to) break;
      this.line++;
      i = lf + 1;
    }
    this.linePos = to;
  }

  private fail(pos: number, reason: string): never {
    const at = Math.min(pos, this.buf.length);
    this.countLines(at);
    const statement = excerpt(this.buf, at);
    this.failure = new EngineError('restore/unsafe-sql', `Unsafe SQL at line ${this.line}: ${reason}: ${statement}`, {
      line: this.line,
      statement,
    });
    throw this.failure;
  }
}

/** Whether the bytes from i to the end of the chunk begin "\.\n" or "\.\r\n". */
function mayBecomeEndOfData(buf: Buffer, i: number): boolean {
  switch (buf.length - i) {
    case 1:
      return true;
    case 2:
      return buf[i + 1] === DOT;
    case 3:
      return buf[i + 1] === DOT && buf[i + 2] === CR;
    default:
      return false;
  }
}

/** Length of a "\.\n" or "\.\r\n" line at i, else 0. */
function endOfDataLength(buf: Buffer, i: number): number {
  if (buf[i + 1] !== DOT) return 0;
  if (buf[i + 2] === LF) return 3;
  return buf[i + 2] === CR && buf[i + 3] === LF ? 4 : 0;
}

/** End of the meta-command name starting with the backslash at i (at least one byte after it). */
function metaCommandEnd(buf: Buffer, i: number): number {
  let j = Math.min(i + 2, buf.length);
  while (j < buf.length && j - i < MAX_META_NAME && buf[j]! > SPACE && buf[j] !== BACKSLASH) j++;
  return j;
}

/** A short piece of the line around `pos`, quoted, with control characters spelled out. */
function excerpt(buf: Buffer, pos: number): string {
  const lineStart = pos > 0 ? buf.lastIndexOf(LF, pos - 1) + 1 : 0;
  const lf = buf.indexOf(LF, pos);
  const lineEnd = lf === -1 ? buf.length : lf;
  const from = Math.max(lineStart, pos - 40);
  const to = Math.min(lineEnd, pos + 40);
  return `"${from > lineStart ? '…' : ''}${printable(buf.toString('utf8', from, to))}${to < lineEnd ? '…' : ''}"`;
}

function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => (c === '\t' ? ' ' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
