/** The list with the item at `index` moved by `delta` places (kept within the list). */
export function moved<T>(list: readonly T[], index: number, delta: number): T[] {
  const to = Math.min(Math.max(index + delta, 0), list.length - 1);
  const next = [...list];
  const [item] = next.splice(index, 1);
  next.splice(to, 0, item as T);
  return next;
}

/** What an empty destination list means: the server's default. */
export const DEFAULT_DESTINATIONS = 'local (the default)';

/** What an empty recipient list means (the API cannot tell whether ENCRYPT_TO is set). */
export const NO_OWN_RECIPIENTS = 'ENCRYPT_TO if the server sets it, else stored unencrypted';
