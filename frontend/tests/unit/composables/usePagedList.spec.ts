// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'

import { ApiError } from '@/api/errors'
import { pageFromQuery, usePagedList, type PageQuery } from '@/composables/usePagedList'

const ROWS = Array.from({ length: 25 }, (_, index) => ({ id: 25 - index, title: `Row ${25 - index}` }))

/** A list of 25 rows, searched by title, that records what it was asked. */
function fakeFetch(rows = ROWS) {
  const asked: PageQuery[] = []
  let fail = false
  async function fetch(query: PageQuery) {
    asked.push(query)
    if (fail) throw new ApiError('The service is temporarily unavailable. Try again shortly.', 503)
    const found = rows.filter((row) => row.title.toLowerCase().includes(query.q.toLowerCase()))
    return { data: found.slice(query.skip, query.skip + query.limit), count: found.length }
  }
  return { fetch, asked, failNext: (value: boolean) => (fail = value) }
}

async function mountList(
  url: string,
  fetch: (query: PageQuery) => Promise<{ data: unknown[]; count: number }>,
  filterKeys: string[] = [],
) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/list', component: { render: () => null } }],
  })
  await router.push(url)
  await router.isReady()
  let list!: ReturnType<typeof usePagedList<unknown>>
  const Host = defineComponent({
    setup() {
      list = usePagedList({ pageSize: 10, fetch, filterKeys })
      return () => h('div')
    },
  })
  const wrapper = mount(Host, { global: { plugins: [router] } })
  await flushPromises()
  return { list, router, wrapper }
}

describe('pageFromQuery', () => {
  it('reads a positive whole page number and takes anything else as page 1', () => {
    expect(pageFromQuery({ page: '3' })).toBe(3)
    expect(pageFromQuery({})).toBe(1)
    expect(pageFromQuery({ page: '0' })).toBe(1)
    expect(pageFromQuery({ page: '-2' })).toBe(1)
    expect(pageFromQuery({ page: '2abc' })).toBe(1)
    expect(pageFromQuery({ page: ['4', '5'] })).toBe(4)
  })
})

describe('usePagedList', () => {
  it('loads the page and the search the URL names', async () => {
    const api = fakeFetch()
    const { list } = await mountList('/list?page=2&q=row%201', api.fetch)

    expect(api.asked).toEqual([{ skip: 10, limit: 10, q: 'row 1' }])
    expect(list.page.value).toBe(2)
    expect(list.search.value).toBe('row 1')
    expect(list.rows.value).toHaveLength(1)
    expect(list.count.value).toBe(11)
    expect(list.loading.value).toBe(false)
  })

  it('keeps filters in the URL, loads them from the first page, and clears them', async () => {
    const api = fakeFetch()
    const { list, router } = await mountList('/list?page=2&action=a', api.fetch, ['action', 'actor'])

    expect(api.asked).toEqual([{ skip: 10, limit: 10, q: '', filters: { action: 'a', actor: '' } }])

    await list.applyFilters({ action: 'b', actor: ' x@example.com ' })
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ action: 'b', actor: 'x@example.com' })
    expect(api.asked.at(-1)).toEqual({ skip: 0, limit: 10, q: '', filters: { action: 'b', actor: 'x@example.com' } })

    await list.applyFilters({})
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({})
    expect(api.asked.at(-1)?.filters).toEqual({ action: '', actor: '' })
  })

  it('keeps a new page in the URL and loads it', async () => {
    const api = fakeFetch()
    const { list, router } = await mountList('/list', api.fetch)

    list.page.value = 3
    await flushPromises()

    expect(router.currentRoute.value.query).toEqual({ page: '3' })
    expect(api.asked.at(-1)).toEqual({ skip: 20, limit: 10, q: '' })
    expect(list.rows.value).toHaveLength(5)
  })

  it('searches from the first page and keeps the search in the URL', async () => {
    const api = fakeFetch()
    const { list, router } = await mountList('/list?page=2', api.fetch)

    list.search.value = '  Row 2 '
    await list.applySearch()
    await flushPromises()

    expect(router.currentRoute.value.query).toEqual({ q: 'Row 2' })
    expect(api.asked.at(-1)).toEqual({ skip: 0, limit: 10, q: 'Row 2' })

    await list.clearSearch()
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({})
    expect(list.search.value).toBe('')
  })

  it('shows the search of the URL when going back', async () => {
    const api = fakeFetch()
    const { list, router } = await mountList('/list?q=first', api.fetch)

    await router.push('/list?q=second')
    await flushPromises()
    expect(list.search.value).toBe('second')
    router.back()
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 0))
    await flushPromises()

    expect(list.search.value).toBe('first')
  })

  it('steps back to the last page when the one asked for is past the end', async () => {
    const api = fakeFetch()
    const { list, router } = await mountList('/list?page=9', api.fetch)
    await flushPromises()

    expect(router.currentRoute.value.query).toEqual({ page: '3' })
    expect(list.rows.value).toHaveLength(5)
  })

  it('says why a load failed, and loads again on demand', async () => {
    const api = fakeFetch()
    api.failNext(true)
    const { list } = await mountList('/list', api.fetch)

    expect(list.error.value).toBe('The service is temporarily unavailable. Try again shortly.')
    expect(list.rows.value).toEqual([])

    api.failNext(false)
    await list.load()
    expect(list.error.value).toBe('')
    expect(list.rows.value).toHaveLength(10)
  })

  it('shows only the newest answer when answers arrive out of order', async () => {
    const releases: (() => void)[] = []
    const { fetch } = fakeFetch()
    const slow = (query: PageQuery) =>
      new Promise<Awaited<ReturnType<typeof fetch>>>((resolve) => {
        releases.push(() => void fetch(query).then(resolve))
      })
    const { list } = await mountList('/list', slow)

    list.page.value = 2
    await flushPromises()
    expect(releases).toHaveLength(2)
    releases[1]?.()
    await flushPromises()
    releases[0]?.()
    await flushPromises()

    expect(list.page.value).toBe(2)
    expect((list.rows.value[0] as { id: number }).id).toBe(15)
  })
})
