// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { h } from 'vue'

import { readClassifierResult } from '@/components/jobs/classifier'
import ClassifierResult from '@/components/jobs/ClassifierResult.vue'
import DemoResult from '@/components/jobs/DemoResult.vue'
import { resultComponent } from '@/components/jobs'
import JsonResult from '@/components/jobs/JsonResult.vue'

const IRIS = {
  accuracy: 0.9736842105263158,
  n_train: 112,
  n_test: 38,
  classes: ['setosa', 'versicolor', 'virginica'],
  confusion_matrix: [
    [12, 0, 0],
    [0, 12, 1],
    [0, 0, 13],
  ],
  cross_validation: { folds: 5, accuracy: [0.9, 1.0, 0.95, 0.95, 1.0] },
}

describe('readClassifierResult', () => {
  it('reads the reported shape', () => {
    expect(readClassifierResult(IRIS)).toEqual({
      accuracy: IRIS.accuracy,
      nTrain: 112,
      nTest: 38,
      classes: IRIS.classes,
      confusionMatrix: IRIS.confusion_matrix,
      crossValidation: IRIS.cross_validation.accuracy,
    })
  })

  it('refuses anything else', () => {
    expect(readClassifierResult(null)).toBeNull()
    expect(readClassifierResult({ ...IRIS, accuracy: '97%' })).toBeNull()
    expect(readClassifierResult({ ...IRIS, confusion_matrix: [[1, 2, 3]] })).toBeNull()
    expect(readClassifierResult({ ...IRIS, confusion_matrix: [[1], [2], [3]] })).toBeNull()
    expect(readClassifierResult({ ...IRIS, cross_validation: undefined })?.crossValidation).toBeNull()
  })
})

describe('ClassifierResult', () => {
  it('shows the accuracy, the sizes and the cross-validation mean', () => {
    const wrapper = mount(ClassifierResult, { props: { result: IRIS } })
    const stats = Object.fromEntries(
      wrapper.findAll('.result__stats > div').map((entry) => [entry.find('dt').text(), entry.find('dd').text()]),
    )

    expect(stats['Test accuracy']).toBe('97.4%')
    expect(stats['Cross-validation']).toMatch(/^96% *mean of 5 folds$/)
    expect(stats['Training samples']).toBe('112')
    expect(stats['Test samples']).toBe('38')
  })

  it('shows the confusion matrix as a table with its headers scoped', () => {
    const wrapper = mount(ClassifierResult, { props: { result: IRIS } })
    const table = wrapper.find('table')

    const caption = table.find('caption')
    expect(caption.text()).toContain('Confusion matrix')
    expect(wrapper.find('[role="region"]').attributes('aria-labelledby')).toBe(caption.attributes('id'))
    expect(table.findAll('thead th[scope="col"]').map((th) => th.text())).toEqual([
      'Actual',
      'setosa',
      'versicolor',
      'virginica',
    ])
    expect(table.find('thead th[scope="colgroup"]').text()).toBe('Predicted')
    const rows = table.findAll('tbody tr')
    expect(rows.map((row) => row.find('th[scope="row"]').text())).toEqual(IRIS.classes)
    expect(rows.map((row) => row.findAll('td').map((td) => td.text()))).toEqual([
      ['12', '0', '0'],
      ['0', '12', '1'],
      ['0', '0', '13'],
    ])
    // The correct predictions (the diagonal) stand out.
    expect(table.findAll('td.matrix__hit').map((td) => td.text())).toEqual(['12', '12', '13'])
  })

  it('shows a result of another shape as JSON', () => {
    const wrapper = mount(ClassifierResult, { props: { result: { accuracy: 'high' } } })

    expect(wrapper.find('table').exists()).toBe(false)
    expect(wrapper.find('pre').text()).toBe('{\n  "accuracy": "high"\n}')
  })
})

describe('DemoResult', () => {
  it('says how long the job slept', () => {
    expect(mount(DemoResult, { props: { result: { slept: 2 } } }).text()).toBe('Result Slept for 2 seconds.')
    expect(mount(DemoResult, { props: { result: { slept: 1 } } }).text()).toContain('Slept for 1 second.')
  })

  it('shows a result of another shape as JSON', () => {
    expect(mount(DemoResult, { props: { result: [1] } }).find('pre').exists()).toBe(true)
  })
})

describe('resultComponent', () => {
  it('picks the renderer of a kind, and JSON for a kind without one', async () => {
    expect(resultComponent('demo')).toBe(DemoResult)
    expect(resultComponent('someone.elses')).toBe(JsonResult)

    // The classifier's renderer is loaded when first shown.
    const wrapper = mount({ render: () => h(resultComponent('ml.train_classifier'), { result: IRIS }) })
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 0))
    await flushPromises()
    expect(wrapper.find('table caption').text()).toContain('Confusion matrix')
  })

  it('shows any result as indented JSON', () => {
    const wrapper = mount(JsonResult, { props: { result: { tokens: 3, words: ['a'] } } })

    expect(wrapper.find('pre').text()).toBe('{\n  "tokens": 3,\n  "words": [\n    "a"\n  ]\n}')
  })
})
