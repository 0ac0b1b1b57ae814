import type { IncomingMessage } from 'node:http';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UploadRefusal, parseMultipartUpload } from '../../src/http/multipart-upload.js';
import { SpooledFile, UploadSpool } from '../../src/storage/spooled-file.js';

type Part = [name: string, value: string] | [name: string, content: string, filename: string];

/** A complete request body as fetch encodes FormData (parts in this order). */
async function request(parts: Part[]): Promise<IncomingMessage> {
  const form = new FormData();
  for (const [name, value, filename] of parts) {
    if (filename === undefined) form.append(name, value);
    else form.append(name, new Blob([value]), filename);
  }
  const response = new Response(form);
  const body = Buffer.from(await response.arrayBuffer());
  return Object.assign(Readable.from([body]), {
    headers: { 'content-type': response.headers.get('content-type')! },
    complete: true,
  }) as unknown as IncomingMessage;
}

const operations = (variables: Record<string, unknown>) =>
  ['operations', JSON.stringify({ query: 'mutation($file: File!) { x }', variables })] as Part;
const map = (value: unknown) => ['map', JSON.stringify(value)] as Part;

describe('parseMultipartUpload', () => {
  let directory: string;
  let spool: UploadSpool;

  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'pgbs-multipart-'));
    spool = new UploadSpool(directory);
  });
  afterEach(async () => {
    await spool.cleanup();
    expect(await readdir(directory)).toEqual([]);
    await rm(directory, { recursive: true, force: true });
  });

  const parse = async (parts: Part[], limit = 1000) => parseMultipartUpload(await request(parts), spool, limit);
  const refusal = (parts: Part[], limit?: number) =>
    parse(parts, limit).then(
      () => {
        throw new Error('expected a refusal');
      },
      (error: unknown) => {
        expect(error).toBeInstanceOf(UploadRefusal);
        return { status: (error as UploadRefusal).status, code: (error as UploadRefusal).code };
      },
    );

  it('puts each file, spooled to disk, at every path the map names (nested ones too)', async () => {
    const params = await parse([
      operations({ file: null, input: { files: [null, null] } }),
      map({ 0: ['variables.file', 'variables.input.files.1'], 1: ['variables.input.files.0'] }),
      ['0', 'SELECT 1;', '../../etc/ev\u202eil\t.sql'],
      ['1', 'SELECT 22;', 'C:\\Users\\me\\zwei größen.sql'],
    ]);
    const variables = params.variables as { file: SpooledFile; input: { files: SpooledFile[] } };
    expect(variables.file).toBeInstanceOf(SpooledFile);
    expect(variables.input.files[1]).toBe(variables.file);
    expect(variables.file).toMatchObject({ filename: 'evil.sql', size: 9 });
    expect(variables.input.files[0]).toMatchObject({ filename: 'zwei größen.sql', size: 10 });
    expect(path.dirname(variables.file.path)).toBe(directory);
    expect(await readFile(variables.file.path, 'utf8')).toBe('SELECT 1;');
  });

  it('keeps a retained file through cleanup', async () => {
    const params = await parse([operations({ file: null }), map({ 0: ['variables.file'] }), ['0', 'x', 'a.sql']]);
    const file = (params.variables as { file: SpooledFile }).file;
    let release!: () => void;
    file.retainUntil(new Promise<void>((resolve) => (release = resolve)));
    await spool.cleanup();
    expect(await readdir(directory)).toHaveLength(1);
    release();
    await new Promise((resolve) => setTimeout(resolve, 50));
  });

  it.each<[string, Part[]]>([
    [
      'a file before "operations" and "map"',
      [['0', 'x', 'a.sql'], operations({ file: null }), map({ 0: ['variables.file'] })],
    ],
    ['"map" before "operations"', [map({ 0: ['variables.file'] }), operations({ file: null }), ['0', 'x', 'a.sql']]],
    [
      'a path that is not a null placeholder',
      [operations({ file: 'x' }), map({ 0: ['variables.file'] }), ['0', 'x', 'a.sql']],
    ],
    ['a path outside the variables', [operations({ file: null }), map({ 0: ['query'] }), ['0', 'x', 'a.sql']]],
    ['a file missing from the map', [operations({ file: null }), map({ 0: ['variables.file'] }), ['1', 'x', 'a.sql']]],
    ['a mapped file that never comes', [operations({ file: null }), map({ 0: ['variables.file'] })]],
    [
      'a file sent twice',
      [operations({ file: null }), map({ 0: ['variables.file'] }), ['0', 'x', 'a.sql'], ['0', 'y', 'b.sql']],
    ],
    ['batched operations', [['operations', '[{"query":"{ a }"}]'], map({}), ['0', 'x', 'a.sql']]],
    ['operations that are not JSON', [['operations', '{query'], map({}), ['0', 'x', 'a.sql']]],
    [
      'a third field',
      [operations({ file: null }), map({ 0: ['variables.file'] }), ['extra', '1'], ['0', 'x', 'a.sql']],
    ],
  ])('refuses %s (400)', async (_label, parts) => {
    expect(await refusal(parts)).toEqual({ status: 400, code: 'upload/invalid' });
  });

  it('follows only own properties: "__proto__" in a path pollutes nothing', async () => {
    const parts: Part[] = [
      operations({ file: null }),
      map({ 0: ['variables.__proto__.polluted'] }),
      ['0', 'x', 'a.sql'],
    ];
    expect(await refusal(parts)).toEqual({ status: 400, code: 'upload/invalid' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('counts all files against the limit (413), not only each one', async () => {
    const parts: Part[] = [
      operations({ a: null, b: null }),
      map({ 0: ['variables.a'], 1: ['variables.b'] }),
      ['0', 'x'.repeat(600), 'a.sql'],
      ['1', 'y'.repeat(600), 'b.sql'],
    ];
    expect(await refusal(parts)).toEqual({ status: 413, code: 'upload/too-large' });
  });

  it('accepts a file of exactly the limit and refuses one byte more', async () => {
    const file = (size: number): Part[] => [
      operations({ file: null }),
      map({ 0: ['variables.file'] }),
      ['0', 'z'.repeat(size), 'a.sql'],
    ];
    expect(((await parse(file(1000))).variables as { file: SpooledFile }).file.size).toBe(1000);
    expect(await refusal(file(1001))).toEqual({ status: 413, code: 'upload/too-large' });
  });
});
