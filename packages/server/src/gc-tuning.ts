import { setFlagsFromString } from 'node:v8';

/**
 * Backups and restores stream gigabytes through Buffers held outside V8's heap. By default every few
 * tens of MB of them start a full collection, which marks the service's whole heap: over a 1 GB
 * backup, dozens of them, most of the service's GC time in `pnpm bench`. Counted in the heap's
 * global limit instead, external memory starts far fewer (docs/benchmarks.md).
 */
export function tuneGarbageCollector(): void {
  setFlagsFromString('--external-memory-accounted-in-global-limit');
}
