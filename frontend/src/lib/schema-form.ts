/**
 * A form from a JSON Schema object (2020-12, as pydantic writes it): the
 * fields to show, their starting values, the rules checked before sending,
 * and the values turned back into the object the schema describes.
 *
 * It knows the shapes a parameters model usually has: numbers and integers
 * with bounds, booleans, strings, choices (`enum`, `const`), optional values
 * (`anyOf` with null) and references to `$defs`. Anything else becomes an
 * "unsupported" field that the form names instead of rendering.
 */
import { ApiError } from '@/api/errors'

import { formatNumber } from './format'
import { maxLength, minLength, type Rule, type Rules } from './validation'

/** A JSON value a choice stands for. */
export type ChoiceValue = string | number | boolean | null

export interface ChoiceOption {
  /** The option's value in the form (a select's values are strings). */
  key: string
  value: ChoiceValue
  label: string
}

interface FieldBase {
  /** The property's name: the key in the params object. */
  name: string
  label: string
  /** The property's description, a sentence. */
  description: string
  /** What to show under the input: the description and the bounds. */
  hint: string
  required: boolean
}

export interface ChoiceField extends FieldBase {
  type: 'choice'
  options: ChoiceOption[]
  /** The option's key to start with; '' for none. */
  initial: string
}

export interface NumberField extends FieldBase {
  type: 'number'
  integer: boolean
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  /** The input's step: 1 for integers, `multipleOf` when given, else any. */
  step: number | 'any'
  initial: string
}

export interface BooleanField extends FieldBase {
  type: 'boolean'
  initial: boolean
}

export interface TextField extends FieldBase {
  type: 'text'
  minLength?: number
  maxLength?: number
  pattern?: string
  initial: string
}

export interface UnsupportedField extends FieldBase {
  type: 'unsupported'
  /** What the schema says the value is (e.g. "array"), for the message. */
  schemaType: string
}

export type FormField = ChoiceField | NumberField | BooleanField | TextField | UnsupportedField

/** A form's values: strings for inputs and selects, booleans for checkboxes. */
export type FormValues = Record<string, string | number | boolean | null | undefined>

type Schema = Record<string, unknown>

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function numberOr(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** "random_state" -> "Random state". */
export function humanize(name: string): string {
  const words = name.replace(/[_-]+/g, ' ').replace(/\s+/g, ' ').trim()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/**
 * The field's label: its `title`, unless that is only the name title-cased
 * (pydantic's default, "Random State"), which reads better in sentence case.
 */
export function labelFor(name: string, title: string | undefined): string {
  const plain = (text: string) => text.replace(/[_-]+/g, ' ').replace(/\s+/g, ' ').trim().toLowerCase()
  return title && plain(title) !== plain(name) ? title : humanize(name)
}

function sentence(text: string): string {
  const trimmed = text.trim()
  if (!trimmed) {
    return ''
  }
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1)
  return /[.!?]$/.test(capital) ? capital : `${capital}.`
}

/** "from 0 to 60", "at least 1", "more than 0 and at most 1"; '' without bounds. */
export function boundsText(field: Pick<
  NumberField,
  'minimum' | 'maximum' | 'exclusiveMinimum' | 'exclusiveMaximum'
>): string {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = field
  if (minimum !== undefined && maximum !== undefined) {
    return `from ${formatNumber(minimum)} to ${formatNumber(maximum)}`
  }
  const lower =
    exclusiveMinimum !== undefined
      ? `more than ${formatNumber(exclusiveMinimum)}`
      : minimum !== undefined
        ? `at least ${formatNumber(minimum)}`
        : ''
  const upper =
    exclusiveMaximum !== undefined
      ? `less than ${formatNumber(exclusiveMaximum)}`
      : maximum !== undefined
        ? `at most ${formatNumber(maximum)}`
        : ''
  return [lower, upper].filter(Boolean).join(' and ')
}

/** A `$ref` into the root's `$defs` (or `definitions`), its siblings kept. */
function resolve(schema: Schema, root: Schema, depth = 0): Schema {
  if (depth > 8) {
    return schema
  }
  const ref = stringOr(schema.$ref)
  let base: Schema | undefined
  if (ref) {
    const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref)
    const defs = match ? root[match[1] as string] : undefined
    const target = isObject(defs) ? defs[decodeURIComponent(match?.[2] ?? '')] : undefined
    base = isObject(target) ? resolve(target, root, depth + 1) : undefined
  } else if (Array.isArray(schema.allOf) && schema.allOf.length === 1 && isObject(schema.allOf[0])) {
    base = resolve(schema.allOf[0], root, depth + 1)
  }
  if (!base) {
    return schema
  }
  const rest = { ...schema }
  delete rest.$ref
  delete rest.allOf
  return { ...base, ...rest }
}

/** The schema without its "or null" (`anyOf`/`oneOf` with a null branch, `type: [x, "null"]`). */
function withoutNull(schema: Schema, root: Schema): { schema: Schema; nullable: boolean } {
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key]
    if (Array.isArray(branches)) {
      const resolved = branches.filter(isObject).map((branch) => resolve(branch, root))
      const others = resolved.filter((branch) => branch.type !== 'null')
      if (others.length === 1 && resolved.length === branches.length) {
        const rest = { ...schema }
        delete rest[key]
        return { schema: { ...others[0], ...rest }, nullable: others.length < resolved.length }
      }
      return { schema, nullable: false }
    }
  }
  if (Array.isArray(schema.type)) {
    const types = schema.type.filter((type) => type !== 'null')
    if (types.length === 1) {
      return { schema: { ...schema, type: types[0] }, nullable: types.length < schema.type.length }
    }
  }
  return { schema, nullable: false }
}

function choiceKey(value: ChoiceValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

function choiceLabel(value: ChoiceValue): string {
  return typeof value === 'string' ? humanize(value) || value : String(value)
}

function isChoiceValue(value: unknown): value is ChoiceValue {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value)
}

function describeType(schema: Schema): string {
  if (typeof schema.type === 'string') {
    return schema.type
  }
  if (Array.isArray(schema.type)) {
    return schema.type.join(' or ')
  }
  if (schema.anyOf || schema.oneOf) {
    return 'one of several types'
  }
  return 'unknown'
}

function fieldFrom(name: string, raw: Schema, root: Schema, isRequired: boolean): FormField {
  const { schema, nullable } = withoutNull(resolve(raw, root), root)
  const description = sentence(stringOr(schema.description) ?? '')
  const base: FieldBase = {
    name,
    label: labelFor(name, stringOr(schema.title)),
    description,
    hint: description,
    required: isRequired,
  }
  const fallback = schema.default

  const values = Array.isArray(schema.enum) ? schema.enum : 'const' in schema ? [schema.const] : null
  if (values) {
    const options = values.filter(isChoiceValue).map((value) => ({
      key: choiceKey(value),
      value,
      label: value === null ? 'None' : choiceLabel(value),
    }))
    if (nullable && !options.some((option) => option.value === null)) {
      options.unshift({ key: choiceKey(null), value: null, label: 'None' })
    }
    const initial = isChoiceValue(fallback) && 'default' in schema ? choiceKey(fallback) : ''
    return { ...base, type: 'choice', options, initial }
  }

  switch (schema.type) {
    case 'number':
    case 'integer': {
      const integer = schema.type === 'integer'
      const field: NumberField = {
        ...base,
        type: 'number',
        integer,
        minimum: numberOr(schema.minimum),
        maximum: numberOr(schema.maximum),
        exclusiveMinimum: numberOr(schema.exclusiveMinimum),
        exclusiveMaximum: numberOr(schema.exclusiveMaximum),
        step: integer ? 1 : (numberOr(schema.multipleOf) ?? 'any'),
        initial: typeof fallback === 'number' ? String(fallback) : '',
      }
      const bounds = boundsText(field)
      field.hint = [description, bounds && sentence(bounds)].filter(Boolean).join(' ')
      return field
    }
    case 'boolean':
      return { ...base, type: 'boolean', initial: fallback === true }
    case 'string':
      return {
        ...base,
        type: 'text',
        minLength: numberOr(schema.minLength),
        maxLength: numberOr(schema.maxLength),
        pattern: stringOr(schema.pattern),
        initial: typeof fallback === 'string' ? fallback : '',
      }
    default:
      return { ...base, type: 'unsupported', schemaType: describeType(schema) }
  }
}

/** The fields of an object schema, in the order of its properties. */
export function formFields(schema: unknown): FormField[] {
  if (!isObject(schema) || !isObject(schema.properties)) {
    return []
  }
  const required = new Set(Array.isArray(schema.required) ? schema.required : [])
  return Object.entries(schema.properties).map(([name, property]) =>
    fieldFrom(name, isObject(property) ? property : {}, schema, required.has(name)),
  )
}

export function initialValues(fields: readonly FormField[]): FormValues {
  const values: FormValues = {}
  for (const field of fields) {
    if (field.type !== 'unsupported') {
      values[field.name] = field.initial
    }
  }
  return values
}

function text(value: unknown): string {
  return value == null ? '' : String(value).trim()
}

function numberRules(field: NumberField): Rule[] {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = field
  const bounds = boundsText(field)
  return [
    (value) => {
      const raw = text(value)
      if (raw === '') {
        return null
      }
      const number = Number(raw)
      if (!Number.isFinite(number)) {
        return field.integer ? 'Enter a whole number.' : 'Enter a number.'
      }
      if (field.integer && !Number.isInteger(number)) {
        return 'Enter a whole number.'
      }
      const outside =
        (minimum !== undefined && number < minimum) ||
        (maximum !== undefined && number > maximum) ||
        (exclusiveMinimum !== undefined && number <= exclusiveMinimum) ||
        (exclusiveMaximum !== undefined && number >= exclusiveMaximum)
      return outside ? `${field.label} must be ${bounds}.` : null
    },
  ]
}

function textRules(field: TextField): Rule[] {
  const rules: Rule[] = []
  if (field.minLength !== undefined) {
    rules.push(minLength(field.minLength, field.label))
  }
  if (field.maxLength !== undefined) {
    rules.push(maxLength(field.maxLength, field.label))
  }
  if (field.pattern !== undefined) {
    let pattern: RegExp | null = null
    try {
      pattern = new RegExp(field.pattern, 'u')
    } catch {
      // A pattern JavaScript cannot read: the server checks it.
    }
    if (pattern) {
      const compiled = pattern
      rules.push((value) => {
        const raw = value == null ? '' : String(value)
        return raw !== '' && !compiled.test(raw) ? `${field.label} is not in the expected format.` : null
      })
    }
  }
  return rules
}

/** The checks a value must pass before it is sent, from the schema. */
export function fieldRules(fields: readonly FormField[]): Rules<FormValues> {
  const rules: Rules<FormValues> = {}
  for (const field of fields) {
    const list: Rule[] = []
    if (field.required && field.type !== 'boolean' && field.type !== 'unsupported') {
      const message =
        field.type === 'choice' ? 'Choose one.' : field.type === 'number' ? 'Enter a number.' : 'This field is required.'
      list.push((value) => (text(value) === '' ? message : null))
    }
    if (field.type === 'number') {
      list.push(...numberRules(field))
    } else if (field.type === 'text') {
      list.push(...textRules(field))
    }
    if (list.length) {
      rules[field.name] = list
    }
  }
  return rules
}

/**
 * The params object to send: numbers as numbers, choices as their values.
 * An optional field left empty is left out, so the server applies its default.
 */
export function paramsFrom(fields: readonly FormField[], values: FormValues): Record<string, unknown> {
  const params: Record<string, unknown> = {}
  for (const field of fields) {
    const value = values[field.name]
    switch (field.type) {
      case 'boolean':
        params[field.name] = value === true
        break
      case 'number':
        if (text(value) !== '') {
          params[field.name] = Number(text(value))
        }
        break
      case 'choice': {
        const option = field.options.find((candidate) => candidate.key === value)
        if (option && (option.key !== '' || field.required)) {
          params[field.name] = option.value
        }
        break
      }
      case 'text':
        if (value != null && (String(value) !== '' || field.required)) {
          params[field.name] = String(value)
        }
        break
      case 'unsupported':
        break
    }
  }
  return params
}

/**
 * The API names a parameter's error `params.<name>` (`params.<name>.<more>`
 * for nested values): as `<name>`, so that the form shows it at the field.
 */
export function paramsErrors(error: unknown, prefix = 'params.'): unknown {
  if (!(error instanceof ApiError)) {
    return error
  }
  const fields: Record<string, string> = {}
  for (const [field, message] of Object.entries(error.fields)) {
    const name = field.startsWith(prefix) ? (field.slice(prefix.length).split('.')[0] ?? field) : field
    fields[name] = fields[name] ? `${fields[name]} ${message}` : message
  }
  return new ApiError(error.message, error.status, fields)
}
