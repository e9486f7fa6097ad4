import { describe, expect, it } from 'vitest'

import { ApiError } from '@/api/errors'
import {
  boundsText,
  fieldRules,
  formFields,
  initialValues,
  labelFor,
  paramsErrors,
  paramsFrom,
  type FormField,
} from '@/lib/schema-form'
import { validate } from '@/lib/validation'

// The schemas the API publishes (GET /jobs/kinds), as pydantic writes them.
const DEMO = {
  additionalProperties: false,
  properties: {
    seconds: {
      default: 0,
      description: 'How long to sleep',
      maximum: 60,
      minimum: 0,
      title: 'Seconds',
      type: 'number',
    },
    fail: { default: false, description: 'Fail at the end instead of succeeding', title: 'Fail', type: 'boolean' },
  },
  title: 'DemoParams',
  type: 'object',
}

const TRAIN_CLASSIFIER = {
  additionalProperties: false,
  properties: {
    dataset: {
      description: 'A dataset that scikit-learn ships',
      enum: ['iris', 'wine', 'breast_cancer', 'digits'],
      title: 'Dataset',
      type: 'string',
    },
    model: {
      description: 'The classifier to train',
      enum: ['logistic_regression', 'random_forest'],
      title: 'Model',
      type: 'string',
    },
    test_size: {
      default: 0.25,
      description: 'The share of the data held out for testing',
      maximum: 0.5,
      minimum: 0.1,
      title: 'Test Size',
      type: 'number',
    },
    random_state: {
      default: 0,
      description: 'Seed of the split and the model: the same seed, the same result',
      maximum: 4294967295,
      minimum: 0,
      title: 'Random State',
      type: 'integer',
    },
  },
  required: ['dataset', 'model'],
  title: 'TrainClassifierParams',
  type: 'object',
}

function field(fields: FormField[], name: string): FormField {
  const found = fields.find((candidate) => candidate.name === name)
  if (!found) throw new Error(`no field ${name}`)
  return found
}

function errorsOf(fields: FormField[], values: Record<string, unknown>) {
  return validate({ ...initialValues(fields), ...values }, fieldRules(fields))
}

describe('formFields', () => {
  it('reads the demo kind: a bounded number and a checkbox, with their defaults', () => {
    const fields = formFields(DEMO)

    expect(fields.map((each) => [each.name, each.type])).toEqual([
      ['seconds', 'number'],
      ['fail', 'boolean'],
    ])
    expect(field(fields, 'seconds')).toMatchObject({
      label: 'Seconds',
      integer: false,
      minimum: 0,
      maximum: 60,
      step: 'any',
      required: false,
      hint: 'How long to sleep. From 0 to 60.',
    })
    expect(field(fields, 'fail')).toMatchObject({ label: 'Fail', hint: 'Fail at the end instead of succeeding.' })
    expect(initialValues(fields)).toEqual({ seconds: '0', fail: false })
  })

  it('reads the classifier kind: required choices and an integer', () => {
    const fields = formFields(TRAIN_CLASSIFIER)

    expect(field(fields, 'dataset')).toMatchObject({
      type: 'choice',
      required: true,
      initial: '',
      options: [
        { key: 'iris', value: 'iris', label: 'Iris' },
        { key: 'wine', value: 'wine', label: 'Wine' },
        { key: 'breast_cancer', value: 'breast_cancer', label: 'Breast cancer' },
        { key: 'digits', value: 'digits', label: 'Digits' },
      ],
    })
    expect(field(fields, 'random_state')).toMatchObject({ type: 'number', integer: true, step: 1 })
    expect(field(fields, 'random_state').hint).toMatch(/^Seed of the split .* From 0 to 4.?294.?967.?295\.$/)
    expect(initialValues(fields)).toEqual({ dataset: '', model: '', test_size: '0.25', random_state: '0' })
  })

  it('writes pydantic’s title-cased names in sentence case but keeps a title of its own', () => {
    expect(labelFor('random_state', 'Random State')).toBe('Random state')
    expect(labelFor('test_size', undefined)).toBe('Test size')
    expect(labelFor('lr', 'Learning rate (η)')).toBe('Learning rate (η)')
  })

  it('follows $ref into $defs, and reads an optional value (anyOf with null)', () => {
    const fields = formFields({
      $defs: { Color: { enum: ['red', 'green'], title: 'Color', type: 'string' } },
      properties: {
        color: { $ref: '#/$defs/Color', default: 'green' },
        limit: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }], default: null, title: 'Limit' },
        mode: { const: 'fast', type: 'string' },
      },
      type: 'object',
    })

    expect(field(fields, 'color')).toMatchObject({ type: 'choice', initial: 'green' })
    expect(field(fields, 'limit')).toMatchObject({ type: 'number', integer: true, minimum: 1, initial: '' })
    expect(field(fields, 'mode')).toMatchObject({ type: 'choice', options: [{ key: 'fast', value: 'fast' }] })
  })

  it('names what it cannot render instead of failing', () => {
    const fields = formFields({
      properties: { tags: { type: 'array', items: { type: 'string' } }, blob: {} },
      required: ['tags'],
      type: 'object',
    })

    expect(fields).toMatchObject([
      { name: 'tags', type: 'unsupported', schemaType: 'array', required: true },
      { name: 'blob', type: 'unsupported', schemaType: 'unknown', required: false },
    ])
    expect(initialValues(fields)).toEqual({})
    expect(formFields(null)).toEqual([])
    expect(formFields({ type: 'object' })).toEqual([])
  })
})

describe('fieldRules', () => {
  it('requires a choice', () => {
    const fields = formFields(TRAIN_CLASSIFIER)

    expect(errorsOf(fields, {})).toEqual({ dataset: 'Choose one.', model: 'Choose one.' })
    expect(errorsOf(fields, { dataset: 'iris', model: 'random_forest' })).toEqual({})
  })

  it('keeps numbers within their bounds, and integers whole', () => {
    const fields = formFields(TRAIN_CLASSIFIER)
    const chosen = { dataset: 'iris', model: 'random_forest' }

    expect(errorsOf(fields, { ...chosen, test_size: '0.9' }).test_size).toBe('Test size must be from 0.1 to 0.5.')
    expect(errorsOf(fields, { ...chosen, test_size: 0.3 }).test_size).toBeUndefined()
    expect(errorsOf(fields, { ...chosen, random_state: '1.5' }).random_state).toBe('Enter a whole number.')
    expect(errorsOf(fields, { ...chosen, random_state: '-1' }).random_state).toMatch(/^Random state must be from 0 to/)
    // Left empty, an optional number is left out: the server applies its default.
    expect(errorsOf(fields, { ...chosen, test_size: '' })).toEqual({})
  })

  it('says one-sided and exclusive bounds', () => {
    expect(boundsText({ minimum: 1 })).toBe('at least 1')
    expect(boundsText({ exclusiveMinimum: 0, maximum: 1 })).toBe('more than 0 and at most 1')
    const fields = formFields({ properties: { rate: { type: 'number', exclusiveMinimum: 0 } }, type: 'object' })
    expect(errorsOf(fields, { rate: '0' }).rate).toBe('Rate must be more than 0.')
  })

  it('checks a string’s length and pattern', () => {
    const fields = formFields({
      properties: { code: { type: 'string', maxLength: 3, pattern: '^[A-Z]+$' } },
      required: ['code'],
      type: 'object',
    })

    expect(errorsOf(fields, {}).code).toBe('This field is required.')
    expect(errorsOf(fields, { code: 'ABCD' }).code).toBe('Code must be at most 3 characters.')
    expect(errorsOf(fields, { code: 'ab' }).code).toBe('Code is not in the expected format.')
    expect(errorsOf(fields, { code: 'AB' })).toEqual({})
  })
})

describe('paramsFrom', () => {
  it('sends numbers as numbers and choices as their values', () => {
    const fields = formFields(TRAIN_CLASSIFIER)
    const values = { ...initialValues(fields), dataset: 'wine', model: 'logistic_regression', random_state: 42 }

    expect(paramsFrom(fields, values)).toEqual({
      dataset: 'wine',
      model: 'logistic_regression',
      test_size: 0.25,
      random_state: 42,
    })
  })

  it('leaves out an empty optional value, and sends booleans', () => {
    const fields = formFields(DEMO)

    expect(paramsFrom(fields, { seconds: '', fail: true })).toEqual({ fail: true })
  })
})

describe('paramsErrors', () => {
  it('names a parameter’s error by the field, and keeps the others', () => {
    const error = new ApiError('Validation error', 422, {
      'params.seconds': 'Input should be less than or equal to 60',
      'params.model.deep': 'Bad',
      kind: 'Unknown kind',
    })

    const mapped = paramsErrors(error) as ApiError

    expect(mapped).toBeInstanceOf(ApiError)
    expect(mapped.status).toBe(422)
    expect(mapped.fields).toEqual({
      seconds: 'Input should be less than or equal to 60',
      model: 'Bad',
      kind: 'Unknown kind',
    })
  })

  it('leaves anything else alone', () => {
    const error = new TypeError('boom')
    expect(paramsErrors(error)).toBe(error)
  })
})
