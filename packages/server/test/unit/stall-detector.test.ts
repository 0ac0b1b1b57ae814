import type { Clock } from '@pgbs/engine';
import { describe, expect, it } from 'vitest';
import { StallWatch, type TargetSession, showsActivity } from '../../src/jobs/stall-detector.js';

const session = (over: Partial<TargetSession>): TargetSession => ({
  state: 'active',
  waitEventType: null,
  buildingIndex: false,
  ...over,
});

function setup(sessions: TargetSession[] | Error) {
  let now = 0;
  const clock: Clock = { now: () => now, setTimeout: () => ({ cancel: () => {} }) };
  const asked: string[] = [];
  const watch = new StallWatch({
    clock,
    stallMs: 600_000,
    applicationName: 'pgbs-backup-12345678',
    probe: async (name) => {
      asked.push(name);
      if (sessions instanceof Error) throw sessions;
      return sessions;
    },
  });
  return { watch, asked, advance: (ms: number) => (now += ms) };
}

describe('stall detection', () => {
  it('counts running statements and index builds as work, lock and client waits not', () => {
    expect(showsActivity([session({})])).toBe(true);
    expect(showsActivity([session({ waitEventType: 'IO' })])).toBe(true);
    expect(showsActivity([session({ waitEventType: 'Lock' })])).toBe(false);
    expect(showsActivity([session({ waitEventType: 'Client' })])).toBe(false);
    expect(showsActivity([session({ state: 'idle in transaction' })])).toBe(false);
    expect(showsActivity([session({ waitEventType: 'Lock', buildingIndex: true })])).toBe(true);
    expect(showsActivity([])).toBe(false);
  });

  it('fails with job/stalled after the timeout without bytes or server work, not before', async () => {
    const { watch, advance } = setup([session({ waitEventType: 'Lock' })]);
    expect(await watch.check(100)).toBeNull();
    advance(599_000);
    expect(await watch.check(100)).toBeNull();
    advance(1_000);
    expect((await watch.check(100))?.code).toBe('job/stalled');
  });

  it('moving bytes reset the clock without asking the server', async () => {
    const { watch, asked, advance } = setup([]);
    await watch.check(1);
    advance(500_000);
    expect(await watch.check(2)).toBeNull();
    advance(500_000);
    expect(await watch.check(2)).toBeNull(); // 500 s since the bytes moved
    expect(asked).toEqual(['pgbs-backup-12345678']);
  });

  it('a long index build (no bytes, an active session) is not a stall', async () => {
    const { watch, advance } = setup([session({ buildingIndex: true })]);
    await watch.check(5);
    for (let i = 0; i < 10; i++) {
      advance(300_000);
      expect(await watch.check(5)).toBeNull();
    }
    expect(watch.lastActivityAt).toBe(3_000_000);
  });

  it('a probe that fails counts as no work', async () => {
    const { watch, advance } = setup(new Error('connection refused'));
    await watch.check(0);
    advance(600_000);
    expect((await watch.check(0))?.code).toBe('job/stalled');
  });
});
