import type { CombinedError } from '@urql/vue';
import { ref } from 'vue';
import { describeRefusal, describeRequestError } from '@/errors/messages';

/** What a page says after an action, above its content. */
export interface PageNotice {
  tone: 'success' | 'error';
  text: string;
}

/** A mutation's result field: its success (with `data`) or a coded refusal (CodedError). */
interface ResultField<T> {
  __typename: string;
  code?: string;
  message?: string;
  data?: T;
}

/**
 * The notice of a page whose actions are mutations. `settle` clears it, waits for the mutation and
 * returns the success's data; a failed request or a refusal becomes the error notice, and null.
 * What a success says is the caller's (`succeed`).
 */
export function useMutationNotice() {
  const notice = ref<PageNotice | null>(null);

  async function settle<D, T>(
    pending: PromiseLike<{ error?: CombinedError | undefined; data?: D | undefined }>,
    field: (data: D) => ResultField<T> | null | undefined,
    /** A refusal the caller handles itself (true): no notice. */
    handled?: (refusal: ResultField<T>) => boolean | Promise<boolean>,
  ): Promise<T | null> {
    notice.value = null;
    const result = await pending;
    if (result.error) {
      notice.value = { tone: 'error', text: describeRequestError(result.error) };
      return null;
    }
    const answer = (result.data === undefined ? undefined : field(result.data)) ?? undefined;
    if (answer && answer.__typename !== 'CodedError' && answer.data !== undefined) return answer.data;
    if (!(answer && handled && (await handled(answer))))
      notice.value = { tone: 'error', text: describeRefusal(answer) };
    return null;
  }

  const succeed = (text: string) => (notice.value = { tone: 'success', text });

  return { notice, settle, succeed };
}
