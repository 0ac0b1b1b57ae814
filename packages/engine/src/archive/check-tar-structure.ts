import { open } from 'node:fs/promises';
import { EngineError } from '../errors.js';

const BLOCK = 512;

/**
 * Walks a tar file's member headers (a few reads, however big the file): every member's data
 * must fit in the file and the archive must end with its zero block. pg_restore 15 does not
 * check this: on a tar cut inside a member it spins at full CPU forever (seen with a pg_dump -Ft
 * file cut at 10000 bytes), so truncated tars must be refused before it runs.
 */
export async function checkTarStructure(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const header = Buffer.alloc(BLOCK);
    let offset = 0;
    for (;;) {
      if (offset + BLOCK > size) throw truncated();
      await handle.read(header, 0, BLOCK, offset);
      if (header.every((byte) => byte === 0)) return; // end-of-archive marker
      const memberSize = parseOctal(header.subarray(124, 136));
      if (memberSize === null || header.subarray(257, 262).toString('latin1') !== 'ustar') {
        throw new EngineError('archive/corrupt', `The tar archive has a damaged member header at byte ${offset}.`);
      }
      offset += BLOCK + Math.ceil(memberSize / BLOCK) * BLOCK;
      if (offset > size) throw truncated();
    }
  } finally {
    await handle.close();
  }
}

function parseOctal(field: Buffer): number | null {
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : null;
}

function truncated(): EngineError {
  return new EngineError('archive/truncated', 'The tar archive is truncated: it ends inside a member.');
}
