/**
 * A form's state: values, per-field errors, a form-level error and a busy
 * flag. `submit` validates first, then runs the request and places the
 * server's errors beside the fields they name (the rest above the form).
 */
import { nextTick, reactive, ref } from 'vue'

import { asApiError } from '@/api/errors'

import { validate, type Rules } from './validation'

export function useForm<V extends Record<string, unknown>>(initial: V, rules: Rules<V> = {}) {
  const values = reactive({ ...initial }) as V
  const errors = reactive<Partial<Record<keyof V & string, string>>>({})
  const formError = ref('')
  const submitting = ref(false)

  function clearErrors(): void {
    for (const key of Object.keys(errors)) {
      delete errors[key as keyof typeof errors]
    }
    formError.value = ''
  }

  function reset(next: Partial<V> = {}): void {
    Object.assign(values, initial, next)
    clearErrors()
  }

  /** Show a failure: field messages beside known fields, anything else above the form. */
  function showError(error: unknown): void {
    const apiError = asApiError(error)
    const extra: string[] = []
    for (const [field, message] of Object.entries(apiError.fields)) {
      if (field in values) {
        ;(errors as Record<string, string>)[field] = message
      } else {
        extra.push(message)
      }
    }
    formError.value = [apiError.message, ...extra].join(' ')
  }

  /**
   * Validate, then run `action`. Returns true when it succeeded. On a
   * validation failure the first invalid field of `formElement` gets focus.
   */
  async function submit(
    action: (values: V) => Promise<unknown>,
    formElement?: HTMLFormElement | null,
  ): Promise<boolean> {
    if (submitting.value) {
      return false
    }
    clearErrors()
    const found = validate(values, rules)
    if (Object.keys(found).length) {
      Object.assign(errors, found)
      formError.value = 'Please correct the highlighted fields.'
      await nextTick()
      formElement?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus()
      return false
    }
    submitting.value = true
    try {
      await action(values)
      return true
    } catch (error) {
      showError(error)
      await nextTick()
      formElement?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus()
      return false
    } finally {
      submitting.value = false
    }
  }

  return { values, errors, formError, submitting, submit, reset, clearErrors, showError }
}
