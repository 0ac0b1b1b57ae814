import { describe, expect, it } from 'vitest';
import { createProgressDisplay, formatEta, progressLine } from '../../src/cli/progress-display.js';

describe('CLI progress display', () => {
  it('formats an ETA', () => {
    expect(formatEta(null)).toBe('--:--');
    expect(formatEta(75)).toBe('01:15');
    expect(formatEta(3 * 3600 + 5)).toBe('3:00:05');
  });

  it('draws a bar with percent, phase, tables and the current table', () => {
    const line = progressLine(
      { percent: 50, phase: 'data', tablesDone: 2, tablesTotal: 4, etaSeconds: 10, currentTable: 'public.t' },
      10,
    );
    expect(line).toBe('[#####.....]  50.0% data 2/4 tables ETA 00:10 public.t');
  });

  it('writes plain lines at most once a second when not on a terminal, and on phase changes', () => {
    let now = 0;
    const written: string[] = [];
    const stream = { isTTY: false, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const display = createProgressDisplay(stream, () => now);
    now = 1000;
    display.update({ percent: 1, phase: 'data' });
    now = 1500;
    display.update({ percent: 2, phase: 'data' });
    now = 1600;
    display.update({ percent: 3, phase: 'post-data' });
    now = 2700;
    display.update({ percent: 4, phase: 'post-data' });
    expect(written.map((l) => l.match(/(\d+\.\d)%/)![1])).toEqual(['1.0', '3.0', '4.0']);
  });

  it('on a terminal, wipes a drawn bar for a log line and draws it again on the next update', () => {
    const written: string[] = [];
    const stream = {
      isTTY: true,
      columns: 100,
      write: (s: string) => written.push(s),
    } as unknown as NodeJS.WriteStream;
    const display = createProgressDisplay(stream);
    display.clear();
    expect(written).toEqual([]);
    display.update({ percent: 10, phase: 'data' });
    display.clear();
    expect(written.at(-1)).toBe('\r\x1b[K');
    display.end();
    expect(written.at(-1)).toBe('\r\x1b[K');
    display.update({ percent: 20, phase: 'data' });
    expect(written.at(-1)).toMatch(/^\r\[.* 20\.0% data/);
    display.end();
    expect(written.at(-1)).toBe('\n');
  });
});
