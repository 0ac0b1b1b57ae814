import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sniffFormat } from '../../../src/archive/sniff.js';

describe('format sniffing', () => {
  it('recognises each format by its bytes', () => {
    expect(sniffFormat(Buffer.from('PGDMP\x01\x0e\x00'))).toBe('custom');
    const tar = Buffer.alloc(512);
    tar.write('ustar', 257, 'latin1');
    tar.write('toc.dat', 0);
    expect(sniffFormat(tar)).toBe('tar');
    expect(sniffFormat(gzipSync('SELECT 1;'))).toBe('plain-gzip');
    expect(sniffFormat(Buffer.from('--\n-- PostgreSQL database dump\n--\nSET x = 1;\n'))).toBe('plain');
  });

  it('accepts text cut inside a multi-byte character, refuses binary', () => {
    const text = Buffer.from('-- Zoë 日本語');
    expect(sniffFormat(text.subarray(0, text.length - 1))).toBe('plain');
    expect(sniffFormat(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00]))).toBeNull();
    expect(sniffFormat(Buffer.from([0xff, 0xfe, 0xfd, 0x41]))).toBeNull();
    expect(sniffFormat(Buffer.alloc(0))).toBeNull();
  });

  it('takes text for SQL only when it starts like SQL', () => {
    for (const sql of [
      'SELECT 1;',
      '  create table t (id int);',
      '/* c */ SET x = 1;',
      '\\! id\n',
      '\uFEFF-- c\n',
      '(VALUES (1));',
    ])
      expect(sniffFormat(Buffer.from(sql)), sql).toBe('plain');
    for (const text of ['# pgbs\n\nA PostgreSQL backup service.\n', "Don't restore me.\n", '{"json": true}\n', '   \n'])
      expect(sniffFormat(Buffer.from(text)), text).toBeNull();
  });
});
