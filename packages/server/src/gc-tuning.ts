import { setFlagsFromString } from 'node:v8';

/**
 * Backups and restores stream gigabytes through Buffers held outside V8's heap. By default each
 * 64 MB of them starts a full collection, which marks the whole heap of the service: over a 1 GB
 * backup, dozens of them, most of the service's GC time in `pnpm bench`. Counted in the heap's
 * global limit instead, external memory starts about half as many (docs/benchmarks.md).
 */
export function tuneGarbageCollector(): void {
  setFlagsFromString('--external-memory-accounted-in-global-limit');
}
