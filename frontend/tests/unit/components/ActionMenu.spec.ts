// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import ActionMenu from '@/components/ActionMenu.vue'

function mountMenu() {
  const picked: string[] = []
  const actions = ['Edit', 'Deactivate', 'Delete'].map((label) => ({ label, select: () => picked.push(label) }))
  const wrapper = mount(ActionMenu, { props: { label: 'Actions for jane@example.com', actions }, attachTo: document.body })
  return { wrapper, picked }
}

const focused = () => document.activeElement?.textContent?.trim()

describe('ActionMenu', () => {
  it('is a menu button named after its row, closed at first', () => {
    const { wrapper } = mountMenu()
    const button = wrapper.get('button')
    expect(button.attributes('aria-haspopup')).toBe('menu')
    expect(button.attributes('aria-expanded')).toBe('false')
    expect(button.text()).toBe('Actions for jane@example.com')
    expect(wrapper.find('[role="menu"]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('opens on its first item, moves with the arrows and closes back to the button on Escape', async () => {
    const { wrapper } = mountMenu()
    const button = wrapper.get('button')
    await button.trigger('click')
    await flushPromises()
    const menu = wrapper.get('[role="menu"]')
    expect(button.attributes('aria-expanded')).toBe('true')
    expect(button.attributes('aria-controls')).toBe(menu.attributes('id'))
    expect(focused()).toBe('Edit')

    await menu.trigger('keydown', { key: 'ArrowDown' })
    expect(focused()).toBe('Deactivate')
    await menu.trigger('keydown', { key: 'End' })
    expect(focused()).toBe('Delete')
    await menu.trigger('keydown', { key: 'ArrowDown' })
    expect(focused()).toBe('Edit')
    await menu.trigger('keydown', { key: 'd' })
    expect(focused()).toBe('Deactivate')

    await menu.trigger('keydown', { key: 'Escape' })
    expect(wrapper.find('[role="menu"]').exists()).toBe(false)
    expect(document.activeElement).toBe(button.element)
    wrapper.unmount()
  })

  it('opens on its last item with the up arrow, and runs the item picked', async () => {
    const { wrapper, picked } = mountMenu()
    await wrapper.get('button').trigger('keydown', { key: 'ArrowUp' })
    await flushPromises()
    expect(focused()).toBe('Delete')

    await wrapper.get('[role="menuitem"]:nth-child(2)').trigger('click')
    expect(picked).toEqual(['Deactivate'])
    expect(wrapper.find('[role="menu"]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('closes on a press outside it', async () => {
    const { wrapper } = mountMenu()
    await wrapper.get('button').trigger('click')
    await flushPromises()
    document.body.dispatchEvent(new Event('pointerdown', { bubbles: true }))
    await flushPromises()
    expect(wrapper.find('[role="menu"]').exists()).toBe(false)
    wrapper.unmount()
  })
})
