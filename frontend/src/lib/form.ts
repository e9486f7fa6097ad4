/**
 * A form's state: values, per-field errors, a form-level error and a busy
 * flag. `submit` validates first, then runs the request and places the
 * server's errors beside the fields they name; only what names no field of
 * the form goes in the banner above it.
 */
import { nextTick, reactive, ref } from 'vue'

import { asApiError, type ApiError } from '@/api/errors'

import { validate, type Rules } from './validation'

export interface FormOptions {
  /** The form's field for a name the server uses otherwise: `{ new_password: 'password' }`. */
  serverFields?: Record<string, string>
}

/**
 * Where a server error goes: each field message to the form's field it names
 * ("permissions.1" names `permissions`), and a banner for the rest (empty when
 * every message found its field).
 */
export function placeServerError(
  error: ApiError,
  formFields: readonly string[],
  serverFields: Record<string, string> = {},
): { fields: Record<string, string>; banner: string } {
  const fields: Record<string, string> = {}
  const unplaced: string[] = []
  for (const [name, message] of Object.entries(error.fields)) {
    const field = serverFields[name] ?? name.split('.')[0] ?? name
    if (formFields.includes(field) && !(field in fields)) {
      fields[field] = message
    } else {
      unplaced.push(message)
    }
  }
  const placed = Object.keys(fields).length > 0
  return { fields, banner: placed && !unplaced.length ? '' : [error.message, ...unplaced].join(' ') }
}

export function useForm<V extends Record<string, unknown>>(
  initial: V,
  rules: Rules<V> = {},
  options: FormOptions = {},
) {
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

  /** Show a failure: field messages beside their fields, anything else above the form. */
  function showError(error: unknown): void {
    const placed = placeServerError(asApiError(error), Object.keys(values), options.serverFields)
    Object.assign(errors, placed.fields)
    formError.value = placed.banner
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
