// TEMPORARY debugging stub (line-based), to be replaced by the real lexer.
import { Transform } from 'node:stream';
import { EngineError } from '../errors.js';
export function plainSqlGuardStream(): Transform {
  let rest = '';
  const filter = (line: string): string | null => {
    if (/^\\(restrict|unrestrict) /.test(line) || line === 'BEGIN;' || line === 'COMMIT;') return null;
    if (/^\\(?!\.$)/.test(line)) throw new EngineError('restore/unsafe-sql', `meta-command: ${line.slice(0, 40)}`);
    return line;
  };
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      try {
        cb(
          null,
          lines
            .map(filter)
            .filter((l) => l !== null)
            .map((l) => l + '\n')
            .join(''),
        );
      } catch (e) {
        cb(e as Error);
      }
    },
    flush(cb) {
      try {
        const l = filter(rest);
        cb(null, l ?? '');
      } catch (e) {
        cb(e as Error);
      }
    },
  });
}
