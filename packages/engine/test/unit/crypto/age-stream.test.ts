import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decryptStream,
  encryptTransform,
  generateAgeIdentity,
  isAgeHeader,
  parseIdentities,
  parseRecipient,
  recipientFingerprint,
  recipientOfIdentity,
} from '../../../src/crypto/age-stream.js';
import { CodedError, EngineError } from '../../../src/errors.js';

// Debian's age: what a bare machine restores with (docs/operations.md, "Encryption").
const AGE = '/usr/bin/age';
const AGE_KEYGEN = '/usr/bin/age-keygen';
const MB = 1024 * 1024;
// RSS grows by about 75 MB whatever the size (garbage waits for V8's next collection), so the
// streams are larger than the bound: anything that buffers the file cannot stay under it.
const SIZE = 160 * MB;
const RSS_BOUND = 110 * MB;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgbs-age-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs a program with stdin from `input`; resolves with its stdout's sha256 and length, or rejects with stderr. */
function run(
  command: string,
  args: string[],
  input: Readable | Buffer | null,
): Promise<{ sha256: string; bytes: number; out: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const hash = createHash('sha256');
    const small: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      if (bytes < MB) small.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve({ sha256: hash.digest('hex'), bytes, out: Buffer.concat(small) })
        : reject(new Error(`${command} exited ${code}: ${stderr}`)),
    );
    if (input instanceof Readable) input.pipe(child.stdin);
    else child.stdin.end(input ?? undefined);
  });
}

/** `size` bytes of incompressible data in 64 KiB chunks, hashed as they are produced. */
function generated(size: number): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let left = size;
  const stream = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const chunk = randomBytes(Math.min(64 * 1024, left));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

/** A pass-through that records the peak RSS growth (since it was made) while data flows through it. */
function rssProbe(): { probe: Transform; peakGrowth: () => number } {
  const base = process.memoryUsage.rss();
  let peak = base;
  const probe = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      peak = Math.max(peak, process.memoryUsage.rss());
      callback(null, chunk);
    },
  });
  return { probe, peakGrowth: () => peak - base };
}

/** A sink that hashes and counts what it gets. */
function hashingSink(): { sink: Writable; sha256: () => string; bytes: () => number } {
  const hash = createHash('sha256');
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback();
    },
  });
  return { sink, sha256: () => hash.digest('hex'), bytes: () => bytes };
}

async function keygen(name: string): Promise<{ file: string; identity: string; recipient: string }> {
  const file = join(dir, name);
  await run(AGE_KEYGEN, ['-o', file], null);
  const text = await readFile(file, 'utf8');
  const [identity] = parseIdentities(text);
  return { file, identity: identity!, recipient: /public key: (age1\S+)/.exec(text)![1]! };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(EngineError);
  return (error as EngineError).code;
}

describe('age streams', () => {
  it('a 160 MB stream encrypted by the module decrypts with age -d -i, with bounded memory', async () => {
    const { file: keyFile, recipient } = await keygen('key.txt');
    const source = generated(SIZE);
    const encrypted = new PassThrough();
    const decrypted = run(AGE, ['-d', '-i', keyFile], encrypted);
    const rss = rssProbe();
    await pipeline(source.stream, await encryptTransform({ recipients: [recipient] }), rss.probe, encrypted);
    const result = await decrypted;
    expect(result.bytes).toBe(SIZE);
    expect(result.sha256).toBe(source.sha256());
    expect(rss.peakGrowth()).toBeLessThan(RSS_BOUND);
  }, 120_000);

  it('a 160 MB file encrypted by age -r decrypts with the module, with bounded memory', async () => {
    const key = await keygen('key2.txt');
    const clear = join(dir, 'clear.bin');
    const source = generated(SIZE);
    await pipeline(source.stream, createWriteStream(clear));
    const sealed = join(dir, 'clear.bin.age');
    await run(AGE, ['-r', key.recipient, '-o', sealed, clear], null);
    await rm(clear);
    const out = hashingSink();
    const rss = rssProbe();
    await pipeline(await decryptStream(createReadStream(sealed), { identities: [key.identity] }), rss.probe, out.sink);
    expect(out.bytes()).toBe(SIZE);
    expect(out.sha256()).toBe(source.sha256());
    expect(rss.peakGrowth()).toBeLessThan(RSS_BOUND);
  }, 120_000);

  it('several recipients: each identity opens the file alone; an identity file with comments parses', async () => {
    const a = await keygen('a.txt');
    const b = await generateAgeIdentity();
    const encrypted = await collect(
      Readable.from([Buffer.from('hello, ')]).pipe(
        await encryptTransform({ recipients: [a.recipient, b.recipient, a.recipient] }),
      ),
    );
    expect(isAgeHeader(encrypted)).toBe(true);
    expect((await run(AGE, ['-d', '-i', a.file], encrypted)).out.toString()).toBe('hello, ');
    const text = await readFile(a.file, 'utf8');
    expect(text).toMatch(/^# created/);
    for (const identities of [[text], [b.identity]]) {
      expect((await collect(await decryptStream(Readable.from([encrypted]), { identities }))).toString()).toBe(
        'hello, ',
      );
    }
  });

  it('a wrong identity fails with key/wrong-identity before any byte is written', async () => {
    const right = await generateAgeIdentity();
    const wrong = await generateAgeIdentity();
    const encrypted = await collect(
      Readable.from([randomBytes(200_000)]).pipe(await encryptTransform({ recipients: [right.recipient] })),
    );
    const input = Readable.from([encrypted]);
    expect(await codeOf(decryptStream(input, { identities: [wrong.identity] }))).toBe('key/wrong-identity');
    expect(input.destroyed).toBe(true);
    // The caller opens its output once the stream is open, so a wrong identity creates nothing.
    const target = join(dir, 'never.bin');
    await expect(
      decryptStream(Readable.from([encrypted]), { identities: [wrong.identity] }).then((clear) =>
        pipeline(clear, createWriteStream(target)),
      ),
    ).rejects.toMatchObject({ code: 'key/wrong-identity' });
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a passphrase round trip; recipients and a passphrase together are refused', async () => {
    const passphrase = 'correct-horse-battery-staple-orbit';
    const encrypted = await collect(
      Readable.from([Buffer.from('secret')]).pipe(await encryptTransform({ passphrase, scryptWorkFactor: 10 })),
    );
    expect((await collect(await decryptStream(Readable.from([encrypted]), { passphrase }))).toString()).toBe('secret');
    expect(await codeOf(decryptStream(Readable.from([encrypted]), { passphrase: 'other' }))).toBe('key/wrong-identity');
    const { recipient } = await generateAgeIdentity();
    expect(await codeOf(encryptTransform({ recipients: [recipient], passphrase }))).toBe('key/mixed-recipients');
    expect(await codeOf(encryptTransform({ recipients: [] }))).toBe('key/no-recipient');
  });

  it('a damaged payload or a truncated file fails the stream with archive/corrupt; a clear file too', async () => {
    const { identity, recipient } = await generateAgeIdentity();
    const encrypted = await collect(
      Readable.from([randomBytes(300_000)]).pipe(await encryptTransform({ recipients: [recipient] })),
    );
    const flipped = Buffer.from(encrypted);
    flipped[flipped.length - 1000]! ^= 1;
    for (const bytes of [flipped, encrypted.subarray(0, encrypted.length - 70_000)]) {
      const clear = await decryptStream(Readable.from([bytes]), { identities: [identity] });
      expect(await codeOf(collect(clear))).toBe('archive/corrupt');
    }
    expect(await codeOf(decryptStream(Readable.from([Buffer.from('PGDMP...')]), { identities: [identity] }))).toBe(
      'archive/corrupt',
    );
  });

  it("an input that fails, while the header is being opened or later, fails with the input's own error, never archive/corrupt", async () => {
    const { identity, recipient } = await generateAgeIdentity();
    const encrypted = await collect(
      Readable.from([randomBytes(300_000)]).pipe(await encryptTransform({ recipients: [recipient] })),
    );
    const header = encrypted.indexOf('\n--- ') + 200;
    // Some bytes, then the read fails (a bucket's connection reset): in the header (while X25519
    // opens it) or after a few payload chunks. No unhandled 'error' event either way.
    const failingAfter = (bytes: number, error: Error) => {
      let sent = false;
      return new Readable({
        read() {
          if (sent) return;
          sent = true;
          this.push(encrypted.subarray(0, bytes));
          setImmediate(() => this.destroy(error));
        },
      });
    };
    for (const bytes of [header, 200_000]) {
      const storage = new CodedError('destination/unreachable', 's3://bucket/p cannot be reached (ECONNRESET).');
      const raw = Object.assign(new Error('socket reset'), { code: 'ECONNRESET' });
      for (const error of [storage, raw]) {
        const failed = await decryptStream(failingAfter(bytes, error), { identities: [identity] })
          .then(collect)
          .then(
            () => null,
            (e: unknown) => e,
          );
        expect(failed, `after ${bytes} bytes`).toBe(error);
      }
    }
  });

  it('a header sent a byte at a time opens, and an endless one is refused in linear time', async () => {
    const { identity, recipient } = await generateAgeIdentity();
    const clearBytes = randomBytes(70_000);
    const encrypted = await collect(
      Readable.from([clearBytes]).pipe(await encryptTransform({ recipients: [recipient] })),
    );
    const bytewise = (bytes: Buffer) =>
      Readable.from(
        (function* () {
          for (const byte of bytes) yield Buffer.of(byte);
        })(),
      );
    const headerEnd = encrypted.indexOf('\n--- ') + 100;
    const split = new Readable({ read() {} });
    for (const byte of encrypted.subarray(0, headerEnd)) split.push(Buffer.of(byte));
    split.push(encrypted.subarray(headerEnd));
    split.push(null);
    expect((await collect(await decryptStream(split, { identities: [identity] }))).equals(clearBytes)).toBe(true);
    // 1 MiB of stanza that never reaches its MAC line, a byte at a time: refused within the test's
    // timeout (rescanning the whole header on every byte took minutes).
    const endless = Buffer.concat([
      encrypted.subarray(0, encrypted.indexOf('\n') + 1),
      Buffer.alloc(1024 * 1024 + 10, 'A'),
    ]);
    expect(await codeOf(decryptStream(bytewise(endless), { identities: [identity] }))).toBe('archive/corrupt');
  }, 60_000);

  it('opens a file piped through another stream that has ended by the time the header is read', async () => {
    const { identity, recipient } = await generateAgeIdentity();
    const clearBytes = randomBytes(3 * MB);
    const encrypted = await collect(
      Readable.from([clearBytes]).pipe(await encryptTransform({ recipients: [recipient] })),
    );
    // The whole file in one chunk through a PassThrough: pushing the rest back would come after its end.
    const piped = Readable.from([encrypted]).pipe(new PassThrough());
    expect((await collect(await decryptStream(piped, { identities: [identity] }))).equals(clearBytes)).toBe(true);
  });

  it('recipients and identities are validated with coded errors that never echo the value', async () => {
    const { identity, recipient } = await generateAgeIdentity();
    expect(parseRecipient(` ${recipient}\n`)).toBe(recipient);
    expect(await recipientOfIdentity(identity)).toBe(recipient);
    const badChecksum = recipient.slice(0, -1) + (recipient.endsWith('q') ? 'p' : 'q');
    for (const bad of ['age1xyz', badChecksum, identity, 'ssh-ed25519 AAAA']) {
      const error = catchSync(() => parseRecipient(bad));
      expect(error.code).toBe('key/invalid-recipient');
    }
    await expect(encryptTransform({ recipients: [badChecksum] })).rejects.toMatchObject({
      code: 'key/invalid-recipient',
    });
    const badIdentity = identity.slice(0, -1) + (identity.endsWith('Q') ? 'P' : 'Q');
    for (const bad of ['# only a comment\n', recipient, `# key\n${badIdentity}\n`]) {
      const error = catchSync(() => parseIdentities(bad));
      expect(error.code).toBe('key/invalid-identity');
      expect(error.message).not.toContain(badIdentity);
    }
  });

  it('the fingerprint is the first 16 hex characters of the sha256 of the recipient string', () => {
    const recipient = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
    // printf %s age1ql3z… | sha256sum | cut -c1-16
    expect(recipientFingerprint(recipient)).toBe('cf7e568231315068');
  });
});

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function catchSync(run: () => unknown): EngineError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    return error as EngineError;
  }
  throw new Error('expected an error');
}
