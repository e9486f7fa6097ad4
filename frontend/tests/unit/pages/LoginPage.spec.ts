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

async function mountLogin(path = '/login') {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', component: LoginPage },
      { path: '/', component: { template: '<p>Dashboard</p>' } },
      { path: '/:rest(.*)*', component: { template: '<p>Other</p>' } },
    ],
  })
  await router.push(path)
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
    // Only the list of single sign-on providers, asked on arrival.
    expect(api.log).toEqual(['GET /login/sso/'])
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

  it('offers a button per single sign-on provider, leading to its authorize endpoint', async () => {
    api.ssoProviders = [
      { name: 'corp', title: 'Corp Login' },
      { name: 'partner', title: 'Partner' },
    ]
    const { wrapper } = await mountLogin()
    await vi.waitFor(() => expect(wrapper.findAll('a.button')).toHaveLength(2))

    const links = wrapper.findAll('a.button')
    expect(links.map((link) => link.text())).toEqual(['Sign in with Corp Login', 'Sign in with Partner'])
    expect(links[0]?.attributes('href')).toBe('/api/v1/login/sso/corp/authorize')
    wrapper.unmount()
  })

  it('shows no single sign-on button when there is no provider', async () => {
    const { wrapper } = await mountLogin()
    await vi.waitFor(() => expect(api.calls('/login/sso/')).toBe(1))
    await new Promise((resolve) => setTimeout(resolve, 20))
    await flushPromises()

    expect(wrapper.text()).not.toContain('Sign in with')
    wrapper.unmount()
  })

  it('says why a single sign-on failed', async () => {
    const { wrapper } = await mountLogin('/login?sso_error=domain_not_allowed')
    await flushPromises()
    expect(wrapper.find('[role="alert"]').text()).toBe('Accounts of your email domain cannot sign in this way.')
    wrapper.unmount()

    const other = await mountLogin('/login?sso_error=something_new')
    await flushPromises()
    expect(other.wrapper.find('[role="alert"]').text()).toContain('Single sign-on failed')
    other.wrapper.unmount()
  })
})
