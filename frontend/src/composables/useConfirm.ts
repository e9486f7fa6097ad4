/**
 * A confirmation dialog's state: what it asks about, whether it is open, busy
 * or showing why the action failed. `ask(subject)` opens it; `confirm()` runs
 * the action and closes it on success, or keeps it open with the error.
 */
import { computed, ref, type Ref } from 'vue'

import { asApiError } from '@/api/errors'

export function useConfirm<T>(action: (subject: T) => Promise<unknown>) {
  const subject = ref(null) as Ref<T | null>
  const busy = ref(false)
  const error = ref('')

  /** For `v-model:open`: closing forgets the subject and its error. */
  const open = computed({
    get: () => subject.value !== null,
    set: (value: boolean) => {
      if (!value) {
        subject.value = null
        error.value = ''
      }
    },
  })

  function ask(next: T): void {
    subject.value = next
    error.value = ''
  }

  /** Run the action once; true when it succeeded. */
  async function confirm(): Promise<boolean> {
    const current = subject.value
    if (current === null || busy.value) return false
    busy.value = true
    error.value = ''
    try {
      await action(current)
      subject.value = null
      return true
    } catch (caught) {
      error.value = asApiError(caught).message
      return false
    } finally {
      busy.value = false
    }
  }

  return { subject, open, busy, error, ask, confirm }
}
