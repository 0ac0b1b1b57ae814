import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';

export interface TargetLabel {
  id: string;
  name: string;
  database: string;
  removed: boolean;
}

export const TargetLabelRef = builder.objectRef<TargetLabel>('TargetLabel').implement({
  description: 'The target a backup, job or audit entry concerns; a removed target keeps its name here.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    database: t.exposeString('database', {
      description:
        'Its database: the name that confirms a restore into it (a whole-server target: its maintenance database).',
    }),
    removed: t.exposeBoolean('removed', { description: 'The target was removed (its backups are kept).' }),
  }),
});

type Load = (id: string) => Promise<TargetLabel | null>;
interface Pending {
  resolve(label: TargetLabel | null): void;
  reject(error: unknown): void;
}
type Waiting = Map<string, Pending>;
const loaders = new WeakMap<GraphQLContext, Load>();

/**
 * One query per request for the targets of a whole list (the rows' resolvers run in one turn of
 * the event loop): ids are collected until the next turn, then read together.
 */
function batchLoader(context: GraphQLContext): Load {
  const cache = new Map<string, Promise<TargetLabel | null>>();
  let batch: Waiting | null = null;
  const flush = async (waiting: Waiting) => {
    batch = null;
    try {
      const names = await context.app.targets.names([...waiting.keys()]);
      for (const [id, label] of waiting) {
        const found = names.get(id);
        label.resolve(found ? { id, ...found } : null);
      }
    } catch (error) {
      for (const [id, label] of waiting) {
        cache.delete(id);
        label.reject(error);
      }
    }
  };
  return (id) => {
    const cached = cache.get(id);
    if (cached) return cached;
    if (!batch) {
      const waiting: Waiting = new Map();
      batch = waiting;
      setImmediate(() => void flush(waiting));
    }
    const waiting = batch;
    const label = new Promise<TargetLabel | null>((resolve, reject) => waiting.set(id, { resolve, reject }));
    cache.set(id, label);
    return label;
  };
}

/** The label of a row's target; null when it has none. */
export function targetLabel(context: GraphQLContext, targetId: string | null): Promise<TargetLabel | null> {
  if (!targetId) return Promise.resolve(null);
  let load = loaders.get(context);
  if (!load) {
    load = batchLoader(context);
    loaders.set(context, load);
  }
  return load(targetId);
}
