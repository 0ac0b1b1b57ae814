import type { Readable } from 'node:stream';

/** Calls onLine for every complete line of a text stream (stderr of a tool). */
export function forEachLine(stream: Readable, onLine: (line: string) => void): Promise<void> {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) onLine(line.replace(/\r$/, ''));
  });
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.once('end', () => {
      if (rest) onLine(rest);
      resolve();
    });
  });
}

/** Keeps the last N lines, for error messages without unbounded memory. */
export class LineTail {
  private readonly lines: string[] = [];
  constructor(private readonly limit = 50) {}
  push(line: string): void {
    this.lines.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
    if (this.lines.length > this.limit) this.lines.shift();
  }
  all(): readonly string[] {
    return this.lines;
  }
}
