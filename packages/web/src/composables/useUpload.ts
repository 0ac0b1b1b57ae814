import type { TadaDocumentNode } from 'gql.tada';
import { computed, onScopeDispose, ref, shallowRef } from 'vue';
import { type RunningUpload, type UploadOutcome, sendMultipart } from '@/api/multipart-upload';

export type UploadPhase = 'idle' | 'sending' | 'processing';

/** One upload at a time, with its progress and a way to abort it. Aborted when the component goes away. */
export function useUpload() {
  const phase = ref<UploadPhase>('idle');
  const loaded = ref(0);
  const total = ref(0);
  const current = shallowRef<RunningUpload<unknown> | null>(null);

  const percent = computed(() => (total.value > 0 ? (loaded.value / total.value) * 100 : 0));

  async function upload<Result, Variables extends { file: File }>(
    document: TadaDocumentNode<Result, Variables>,
    variables: Variables,
  ): Promise<UploadOutcome<Result>> {
    current.value?.abort();
    phase.value = 'sending';
    loaded.value = 0;
    total.value = variables.file.size;
    const running = sendMultipart(document, variables, {
      onProgress(progress) {
        loaded.value = progress.loaded;
        total.value = progress.total;
      },
      onSent() {
        phase.value = 'processing';
      },
    });
    current.value = running;
    try {
      return await running.outcome;
    } finally {
      if (current.value === running) {
        current.value = null;
        phase.value = 'idle';
      }
    }
  }

  function abort() {
    current.value?.abort();
  }

  onScopeDispose(abort);

  return { phase, loaded, total, percent, upload, abort };
}
