/** limit/offset arguments, bounded: at most 500 rows a page. */
export function page(args: { limit?: number | null; offset?: number | null }): { limit: number; offset: number } {
  return {
    limit: Math.min(500, Math.max(1, args.limit ?? 50)),
    offset: Math.max(0, args.offset ?? 0),
  };
}

/** An optional ID argument as the modules take it. */
export const idOrNull = (id: string | number | null | undefined): string | null =>
  id === null || id === undefined ? null : String(id);
