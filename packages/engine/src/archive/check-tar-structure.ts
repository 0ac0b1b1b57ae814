import type { Readable } from 'node:stream';
import { EngineError } from '../errors.js';

const BLOCK = 512;

/**
 * Walks a tar stream's member headers, skipping their data: every member's data must be there
 * and the archive must end with its zero block. pg_restore 15 does not check this: on a tar cut
 * inside a member it spins at full CPU forever (seen with a pg_dump -Ft file cut at 10000 bytes),
 * so truncated tars must be refused before it runs. Stops reading at the end-of-archive block.
 */
export async function checkTarStructure(content: Readable): Promise<void> {
  let offset = 0;
  let nextHeader = 0;
  let header = Buffer.alloc(0);
  for await (const chunk of content as AsyncIterable<Buffer>) {
    let position = 0;
    while (position < chunk.length) {
      if (offset < nextHeader) {
        const skip = Math.min(nextHeader - offset, chunk.length - position);
        position += skip;
        offset += skip;
        continue;
      }
      const take = Math.min(BLOCK - header.length, chunk.length - position);
      header = Buffer.concat([header, chunk.subarray(position, position + take)]);
      position += take;
      offset += take;
      if (header.length < BLOCK) continue;
      if (header.every((byte) => byte === 0)) return; // end-of-archive marker (returning closes the stream)
      const memberSize = parseOctal(header.subarray(124, 136));
      if (memberSize === null || header.subarray(257, 262).toString('latin1') !== 'ustar') {
        throw new EngineError(
          'archive/corrupt',
          `The tar archive has a damaged member header at byte ${offset - BLOCK}.`,
        );
      }
      nextHeader = offset + Math.ceil(memberSize / BLOCK) * BLOCK;
      header = Buffer.alloc(0);
    }
  }
  throw new EngineError('archive/truncated', 'The tar archive is truncated: it ends inside a member.');
}

function parseOctal(field: Buffer): number | null {
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : null;
}
