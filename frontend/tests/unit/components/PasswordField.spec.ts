// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { defineComponent, ref } from 'vue'

import PasswordField from '@/components/PasswordField.vue'
import { loadCommonPasswords } from '@/lib/passwords'

const Host = defineComponent({
  components: { PasswordField },
  setup: () => ({ value: ref('') }),
  template: '<PasswordField v-model="value" label="New password" hint="At least 8 characters." />',
})

describe('PasswordField', () => {
  it('is a labelled new-password input with its hint', () => {
    const wrapper = mount(Host)
    const input = wrapper.get('input')
    expect(input.attributes('type')).toBe('password')
    expect(input.attributes('autocomplete')).toBe('new-password')
    expect(wrapper.get('label').text()).toBe('New password')
    expect(wrapper.text()).toContain('At least 8 characters.')
  })

  it('says how strong the password is as it is typed, and when it is too common', async () => {
    const wrapper = mount(Host)
    const status = () => wrapper.get('[role="status"]').text()
    expect(status()).toBe('')

    await wrapper.get('input').setValue('plum')
    expect(status()).toBe('Strength: Too short')
    await wrapper.get('input').setValue('plum tiger kettle ocean')
    expect(status()).toBe('Strength: Strong')

    await loadCommonPasswords()
    await flushPromises()
    await wrapper.get('input').setValue('Password1')
    expect(status()).toBe('Strength: Too common')
    expect(wrapper.findAll('.password-strength__meter .filled')).toHaveLength(0)
  })
})
