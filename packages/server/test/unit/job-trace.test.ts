import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { enableJobTrace, tracedBackpressure, withJobTrace } from '../../src/jobs/job-trace.js';
import type { Logger } from '../../src/logger.js';

/** A sink that takes `delayMs` per write and holds one byte: every write fills it. */
function slowSink(delayMs: number): Writable {
  return new Writable({
    highWaterMark: 1,
    write: (_chunk, _encoding, callback) => void setTimeout(callback, delayMs),
  });
}

async function writeAll(sink: Writable, chunks: number): Promise<void> {
  for (let i = 0; i < chunks; i++) {
    if (!sink.write(Buffer.alloc(16))) await new Promise((resolve) => sink.once('drain', resolve));
  }
  await new Promise<void>((resolve) => sink.end(resolve));
}

describe('job trace: time waiting for a stream', () => {
  const lines: Record<string, unknown>[] = [];
  const logger: Logger = { info: (_message, fields) => lines.push(fields ?? {}), warn: () => {}, error: () => {} };
  afterEach(() => void lines.splice(0));

  it('adds the time writers waited for drain to the step, once per full-then-drain', async () => {
    enableJobTrace(logger);
    await withJobTrace(
      'job-1',
      () => ({ kind: 'backup' }),
      async () => {
        const sink = slowSink(30);
        tracedBackpressure('storageWait', sink);
        await writeAll(sink, 5);
      },
    );
    const steps = lines[0]!.steps as Record<string, number>;
    // Five writes, each answered "full" and drained ~30 ms later (timers fire late, never early).
    expect(steps.storageWait).toBeGreaterThanOrEqual(5 * 25);
  });

  it('outside a traced job the stream is left as it is', async () => {
    const sink = slowSink(1);
    const write = sink.write;
    tracedBackpressure('storageWait', sink);
    expect(sink.write).toBe(write);
    await writeAll(sink, 2);
  });
});
