import { useQuery } from '@urql/vue';
import { computed, reactive, watchEffect } from 'vue';
import type { ResultOf } from '@/graphql/graphql';
import { type JobFields, JobsQuery } from '@/graphql/jobs';

export type Job = ResultOf<typeof JobFields>;

export const isActive = (job: Pick<Job, 'state'>) => job.state === 'queued' || job.state === 'running';

/**
 * The jobs worth showing: those running now (from any browser or the CLI), and those that ran while
 * this page was open, until dismissed, so their outcome stays readable.
 */
export function useJobList() {
  const query = useQuery({
    query: JobsQuery,
    variables: { limit: 20 },
    requestPolicy: 'cache-and-network',
    // An empty list holds no typename for urql's cache to invalidate when a job is created.
    context: { additionalTypenames: ['Job'] },
  });
  const seen = reactive(new Set<string>());
  const dismissed = reactive(new Set<string>());

  watchEffect(() => {
    for (const job of query.data.value?.jobs ?? []) if (isActive(job)) seen.add(job.id);
  });

  const jobs = computed(() =>
    (query.data.value?.jobs ?? []).filter((job) => seen.has(job.id) && !dismissed.has(job.id)),
  );

  return {
    jobs,
    error: query.error,
    /** Shows a job this page started even if it ended before the list was read again. */
    follow: (id: string) => seen.add(id),
    dismiss: (id: string) => dismissed.add(id),
    refresh: () => query.executeQuery({ requestPolicy: 'network-only' }),
  };
}
