/**
 * Errors from the API in one shape. The API answers every error with
 * `{message, errors?: {field: message}}`; a network failure has no answer at
 * all. Pages show `message` near what caused it and `fields` beside inputs.
 */

export class ApiError extends Error {
  readonly status: number
  readonly fields: Record<string, string>
  /** The whole answer, for errors that carry more than a message (a login's mfa_token). */
  readonly body: Record<string, unknown>

  constructor(
    message: string,
    status: number,
    fields: Record<string, string> = {},
    body: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.fields = fields
    this.body = body
  }
}

const NETWORK_MESSAGE = 'Could not reach the server. Check your connection and try again.'

const STATUS_MESSAGES: Record<number, string> = {
  401: 'Your session has ended. Log in again.',
  403: 'You are not allowed to do this.',
  404: 'Not found. It may have been deleted.',
  413: 'What you sent is too large.',
  429: 'Too many attempts. Wait a minute and try again.',
  503: 'The service is temporarily unavailable. Try again shortly.',
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A rate limit's answer, from its Retry-After (seconds) when it gives one. */
function tooManyAttempts(retryAfter: string | null): string {
  const seconds = Number(retryAfter)
  if (!retryAfter || !Number.isFinite(seconds) || seconds <= 0) {
    return STATUS_MESSAGES[429] ?? 'Too many attempts. Wait a minute and try again.'
  }
  const wait = Math.ceil(seconds)
  return `Too many attempts. Try again in ${wait} ${wait === 1 ? 'second' : 'seconds'}.`
}

/** Build an ApiError from what the generated client returned for a failure. */
export function toApiError(body: unknown, response: Response | undefined): ApiError {
  if (!response) {
    return new ApiError(NETWORK_MESSAGE, 0)
  }
  const status = response.status
  let message = STATUS_MESSAGES[status] ?? `The server answered with an error (${status}).`
  const fields: Record<string, string> = {}
  if (status === 429) {
    // The server's own text names the limit ("10 per 1 minute"): say when to come back.
    return new ApiError(tooManyAttempts(response.headers.get('Retry-After')), status)
  }
  if (isRecord(body)) {
    if (typeof body.message === 'string' && body.message) {
      message = body.message
    }
    if (isRecord(body.errors)) {
      for (const [field, text] of Object.entries(body.errors)) {
        fields[field] = typeof text === 'string' ? text : JSON.stringify(text)
      }
    }
  }
  return new ApiError(message, status, fields, isRecord(body) ? body : {})
}

/** Any thrown value as an ApiError, so callers handle one type. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) {
    return error
  }
  if (error instanceof Error && error.name === 'AbortError') {
    return new ApiError('The request was cancelled.', 0)
  }
  return new ApiError(NETWORK_MESSAGE, 0)
}

interface ClientResult<T> {
  data?: T
  error?: unknown
  response?: Response
}

/**
 * Await a generated SDK call and return its data, or throw an ApiError.
 * The SDK resolves (never rejects) with `{data, error, response}`.
 */
export async function unwrap<T>(call: Promise<ClientResult<T>>): Promise<T> {
  let result: ClientResult<T>
  try {
    result = await call
  } catch (error) {
    throw asApiError(error)
  }
  if (result.error !== undefined || !result.response?.ok) {
    throw toApiError(result.error, result.response)
  }
  return result.data as T
}
