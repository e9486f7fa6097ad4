// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import { ApiError } from '@/api/errors'
import JobParamsForm from '@/components/JobParamsForm.vue'

const KIND = {
  name: 'ml.train_classifier',
  title: 'Train a classifier',
  params_schema: {
    properties: {
      dataset: { enum: ['iris', 'wine'], title: 'Dataset', type: 'string', description: 'A dataset' },
      test_size: { default: 0.25, maximum: 0.5, minimum: 0.1, title: 'Test Size', type: 'number' },
      random_state: { default: 0, maximum: 10, minimum: 0, title: 'Random State', type: 'integer' },
      verbose: { default: false, title: 'Verbose', type: 'boolean', description: 'Say more' },
      tags: { type: 'array', items: { type: 'string' } },
    },
    required: ['dataset'],
    type: 'object',
  },
}

function mountForm(start: (params: Record<string, unknown>) => Promise<unknown>) {
  return mount(JobParamsForm, { props: { kind: KIND, start }, attachTo: document.body })
}

function fieldOf(wrapper: ReturnType<typeof mountForm>, label: string) {
  const element = wrapper.findAll('label').find((candidate) => candidate.text().startsWith(label))
  if (!element) throw new Error(`no label ${label}`)
  return wrapper.find(`#${CSS.escape(element.attributes('for') ?? '')}`)
}

function describedBy(wrapper: ReturnType<typeof mountForm>, label: string): string {
  const ids = fieldOf(wrapper, label).attributes('aria-describedby')?.split(' ') ?? []
  return ids.map((id) => wrapper.find(`#${CSS.escape(id)}`).text()).join(' | ')
}

describe('JobParamsForm', () => {
  it('renders each property with its label, hint, bounds and default', () => {
    const wrapper = mountForm(async () => undefined)

    const select = fieldOf(wrapper, 'Dataset')
    expect(select.element.tagName).toBe('SELECT')
    expect(select.attributes('required')).toBeDefined()
    expect(select.findAll('option').map((option) => option.text())).toEqual(['Choose…', 'Iris', 'Wine'])
    expect(describedBy(wrapper, 'Dataset')).toBe('A dataset.')

    const size = fieldOf(wrapper, 'Test size')
    expect(size.attributes()).toMatchObject({ type: 'number', min: '0.1', max: '0.5', step: 'any' })
    expect((size.element as HTMLInputElement).value).toBe('0.25')
    expect(describedBy(wrapper, 'Test size')).toBe('From 0.1 to 0.5.')
    expect(fieldOf(wrapper, 'Random state').attributes('step')).toBe('1')

    expect(fieldOf(wrapper, 'Verbose').attributes('type')).toBe('checkbox')
    expect(describedBy(wrapper, 'Verbose')).toBe('Say more.')
    expect(wrapper.text()).toContain('This form cannot set “Tags” (a value of type array): the job uses its default.')
    wrapper.unmount()
  })

  it('checks the schema’s rules before sending, and focuses the first invalid field', async () => {
    const sent: Record<string, unknown>[] = []
    const wrapper = mountForm(async (params) => sent.push(params))

    await fieldOf(wrapper, 'Random state').setValue('2.5')
    await wrapper.find('form').trigger('submit')
    await flushPromises()

    expect(sent).toEqual([])
    expect(describedBy(wrapper, 'Dataset')).toBe('A dataset. | Choose one.')
    expect(describedBy(wrapper, 'Random state')).toContain('Enter a whole number.')
    expect(document.activeElement).toBe(fieldOf(wrapper, 'Dataset').element)
    wrapper.unmount()
  })

  it('sends the params typed as the schema says', async () => {
    const sent: Record<string, unknown>[] = []
    const wrapper = mountForm(async (params) => sent.push(params))

    await fieldOf(wrapper, 'Dataset').setValue('wine')
    await fieldOf(wrapper, 'Random state').setValue('7')
    await fieldOf(wrapper, 'Verbose').setValue(true)
    await wrapper.find('form').trigger('submit')
    await flushPromises()

    expect(sent).toEqual([{ dataset: 'wine', test_size: 0.25, random_state: 7, verbose: true }])
    wrapper.unmount()
  })

  it('shows the server’s errors at their fields, the others above the form', async () => {
    const wrapper = mountForm(async () => {
      throw new ApiError('Invalid parameters', 422, {
        'params.test_size': 'Too large for this dataset',
        params: 'Something else',
      })
    })

    await fieldOf(wrapper, 'Dataset').setValue('iris')
    await wrapper.find('form').trigger('submit')
    await flushPromises()

    expect(describedBy(wrapper, 'Test size')).toBe('From 0.1 to 0.5. | Too large for this dataset')
    expect(fieldOf(wrapper, 'Test size').attributes('aria-invalid')).toBe('true')
    expect(wrapper.find('[role="alert"]').text()).toBe('Invalid parameters Something else')
    expect(document.activeElement).toBe(fieldOf(wrapper, 'Test size').element)
    wrapper.unmount()
  })

  it('cannot start a kind whose required value it cannot set', () => {
    const wrapper = mount(JobParamsForm, {
      props: {
        kind: { name: 'x', title: 'X', params_schema: { properties: { rows: { type: 'array' } }, required: ['rows'] } },
        start: async () => undefined,
      },
    })

    expect(wrapper.text()).toContain('this kind of job cannot be started here.')
    expect(wrapper.find('button[type="submit"]').attributes('disabled')).toBeDefined()
  })
})
