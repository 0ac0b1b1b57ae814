import { vi } from 'vitest';

/** Whether `value` holds `secret` in a string, a few objects deep (Vue's and the DOM's graphs are not walked whole). */
function holds(value: unknown, secret: string, depth: number, seen: Set<object>): boolean {
  if (typeof value === 'string') return value.includes(secret);
  if (depth === 0 || typeof value !== 'object' || value === null || seen.has(value)) return false;
  seen.add(value);
  const children = value instanceof Map ? [...value.entries()].flat() : Object.values(value);
  return children.some((child) => holds(child, secret, depth - 1, seen));
}

/**
 * Watches every Map written to from now on (urql keeps its cache and its replays in Maps), to ask
 * later which still holds a secret. stop() ends the watch; the maps are kept only until then.
 */
export function watchMaps() {
  const maps = new Set<Map<unknown, unknown>>();
  const set = Map.prototype.set;
  const spy = vi.spyOn(Map.prototype, 'set').mockImplementation(function (this: Map<unknown, unknown>, key, value) {
    maps.add(this);
    return set.call(this, key, value);
  });
  return {
    /** How many watched maps still hold the secret in a key or a value. */
    holding: (secret: string) =>
      [...maps].filter((map) => [...map.entries()].some((entry) => holds(entry, secret, 6, new Set()))).length,
    stop() {
      spy.mockRestore();
      maps.clear();
    },
  };
}
