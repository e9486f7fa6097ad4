// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'

import LoginPage from '@/pages/LoginPage.vue'

import { FakeApi } from '../support/fakeApi'

let api: FakeApi

beforeEach(() => {
  api = new FakeApi()
  // The app's session sends through the global fetch: route it to the fake API.
  vi.stubGlobal('fetch', api.fetch)
})

afterEach(() => {
  vi.unstubAllGlobals()
})

async function mountLogin() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', component: LoginPage },
      { path: '/', component: { template: '<p>Dashboard</p>' } },
      { path: '/:rest(.*)*', component: { template: '<p>Other</p>' } },
    ],
  })
  await router.push('/login')
  await router.isReady()
  const wrapper = mount(LoginPage, { global: { plugins: [router] }, attachTo: document.body })
  return { wrapper, router }
}

describe('LoginPage', () => {
  it('labels every input and names the button by what it does', async () => {
    const { wrapper } = await mountLogin()

    const labels = wrapper.findAll('label').map((label) => label.text().trim())
    expect(labels).toEqual(['Email', 'Password'])
    for (const input of wrapper.findAll('input')) {
      expect(wrapper.find(`label[for="${input.attributes('id')}"]`).exists()).toBe(true)
    }
    expect(wrapper.find('button[type="submit"]').text()).toBe('Log in')
    wrapper.unmount()
  })

  it('validates before sending: no request for an empty form', async () => {
    const { wrapper } = await mountLogin()

    await wrapper.find('form').trigger('submit')
    await flushPromises()

    expect(wrapper.text()).toContain('Enter your email address.')
    expect(wrapper.text()).toContain('Enter your password.')
    expect(api.log).toEqual([])
    expect(document.activeElement?.getAttribute('type')).toBe('email')
    wrapper.unmount()
  })

  it('shows the server message beside the form for a wrong password', async () => {
    const { wrapper } = await mountLogin()
    await wrapper.find('input[type="email"]').setValue('jane@example.com')
    await wrapper.find('input[type="password"]').setValue('wrong password')

    await wrapper.find('form').trigger('submit')
    await flushPromises()
    await vi.waitFor(() => expect(wrapper.find('[role="alert"]').exists()).toBe(true))

    expect(wrapper.find('[role="alert"]').text()).toBe('Incorrect email or password')
    wrapper.unmount()
  })
})
