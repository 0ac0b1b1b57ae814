import { useQuery } from '@urql/vue';
import { computed } from 'vue';
import { useRoute, useRouter } from 'vue-router';
import { TargetsQuery } from '@/graphql/targets';

/**
 * The live targets and the one a page works on, kept in the address (?target=name) so that the
 * dashboard can link to it and a reload keeps it; the first by name when none is asked for.
 */
export function useTargetChoice() {
  const route = useRoute();
  const router = useRouter();
  const targets = useQuery({
    query: TargetsQuery,
    requestPolicy: 'cache-and-network',
    context: { additionalTypenames: ['Target'] },
  });
  const list = computed(() => targets.data.value?.targets ?? []);
  const selected = computed({
    get: (): string => {
      const wanted = route.query['target'];
      if (typeof wanted === 'string' && list.value.some((target) => target.name === wanted)) return wanted;
      return list.value[0]?.name ?? '';
    },
    set: (name: string) => void router.replace({ query: { ...route.query, target: name } }),
  });
  return { targets, list, selected };
}
