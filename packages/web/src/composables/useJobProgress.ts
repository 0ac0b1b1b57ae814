import { useSubscription } from '@urql/vue';
import { type MaybeRefOrGetter, computed, toValue } from 'vue';
import { JobProgressSubscription } from '@/graphql/jobs';

/**
 * The live state of one job: the server sends its current snapshot first, then every update until
 * the job ends. `job` is undefined until the first message.
 */
export function useJobProgress(jobId: MaybeRefOrGetter<string>, options: { pause?: MaybeRefOrGetter<boolean> } = {}) {
  const subscription = useSubscription({
    query: JobProgressSubscription,
    variables: computed(() => ({ jobId: toValue(jobId) })),
    pause: computed(() => toValue(options.pause) ?? false),
  });
  return {
    job: computed(() => subscription.data.value?.jobProgress),
    error: subscription.error,
  };
}
