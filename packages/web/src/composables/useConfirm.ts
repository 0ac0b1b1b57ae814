import { type Component, type Ref, shallowRef } from 'vue';

/** An option shown in the dialog that does not gate the confirmation (e.g. restore flags). */
export interface ConfirmToggle {
  label: string;
  hint?: string;
  model: Ref<boolean>;
}

export interface ConfirmRequest {
  title: string;
  message: string;
  /** Shown prominently above the rest: what cannot be undone (a getter is read reactively). */
  warning?: string | (() => string);
  /**
   * The exact text the user must type before confirming (a file or database name); a getter when
   * the dialog itself can change it (a restore's chosen target).
   */
  typeToConfirm?: string | (() => string);
  /** A checkbox the user must tick before confirming. */
  acknowledgement?: string;
  toggles?: ConfirmToggle[];
  /** Rendered after the message: what the caller found out before asking (e.g. a restore's pre-flight). */
  details?: Component;
  /** Why confirming is impossible right now, read reactively; null when nothing stands in the way. */
  blockedReason?: () => string | null;
  confirmLabel?: string;
  cancelLabel?: string;
  danger?: boolean;
}

interface Pending {
  id: number;
  request: ConfirmRequest;
  settle(confirmed: boolean): void;
}

/** One dialog at a time for the whole app; ConfirmHost renders it. */
const pending = shallowRef<Pending | null>(null);
let lastId = 0;

export function useConfirm() {
  function confirm(request: ConfirmRequest): Promise<boolean> {
    // A newer question replaces an unanswered one, which counts as cancelled.
    pending.value?.settle(false);
    return new Promise((resolve) => {
      const entry: Pending = {
        id: ++lastId,
        request,
        settle(confirmed) {
          if (pending.value === entry) pending.value = null;
          resolve(confirmed);
        },
      };
      pending.value = entry;
    });
  }
  return { confirm };
}

/** For ConfirmHost only. */
export function useConfirmHost() {
  return { pending };
}
