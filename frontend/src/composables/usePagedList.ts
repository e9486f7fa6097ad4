/**
 * One list page's state, the same on every list: the page, the search and any
 * filters live in the URL (`?page=2&q=text&action=x`), so a reload, a shared link or the back button
 * shows the same rows; the newest request's answer wins; an emptied last page
 * steps back to the new last one.
 */
import { computed, ref, watch, type Ref } from 'vue'
import { useRoute, useRouter, type LocationQuery } from 'vue-router'

import { asApiError } from '@/api/errors'

export interface PageQuery {
  skip: number
  limit: number
  /** The search text, trimmed; empty for none. */
  q: string
  /** The filters named in the options (`filterKeys`), from the URL; empty for none. */
  filters?: Record<string, string>
}

export interface PagedResult<T> {
  data: T[]
  count: number
}

export interface PagedListOptions<T> {
  pageSize: number
  fetch: (query: PageQuery) => Promise<PagedResult<T>>
  /** Query-string keys of the list's filters (besides `q`). */
  filterKeys?: readonly string[]
}

function firstValue(query: LocationQuery, key: string): string {
  const value = query[key]
  return (Array.isArray(value) ? value[0] : value) ?? ''
}

/** A page number from the URL: anything but a positive whole number is page 1. */
export function pageFromQuery(query: LocationQuery): number {
  const text = firstValue(query, 'page')
  return /^\d+$/.test(text) ? Math.max(1, Number(text)) : 1
}

export function searchFromQuery(query: LocationQuery): string {
  return firstValue(query, 'q').trim()
}

export function usePagedList<T>({ pageSize, fetch, filterKeys = [] }: PagedListOptions<T>) {
  const route = useRoute()
  const router = useRouter()

  const rows = ref([]) as Ref<T[]>
  const count = ref(0)
  const loading = ref(true)
  const error = ref('')

  /** The search as applied (from the URL); `search` is the box's text. */
  const appliedSearch = computed(() => searchFromQuery(route.query))
  const search = ref(appliedSearch.value)
  const pages = computed(() => Math.max(1, Math.ceil(count.value / pageSize)))
  /** The filters as applied (from the URL). */
  const appliedFilters = computed(() =>
    Object.fromEntries(filterKeys.map((key) => [key, firstValue(route.query, key).trim()])),
  )

  function go(next: { page?: number; q?: string }): Promise<unknown> {
    const page = next.page ?? pageFromQuery(route.query)
    const q = next.q ?? appliedSearch.value
    return router.push({
      query: { ...route.query, page: page > 1 ? String(page) : undefined, q: q || undefined },
    })
  }

  const page = computed({
    get: () => pageFromQuery(route.query),
    set: (value: number) => void go({ page: value }),
  })

  // Only the newest request's answer is shown (paging or searching quickly can reorder answers).
  let latest = 0

  async function load(): Promise<void> {
    const request = ++latest
    loading.value = true
    error.value = ''
    try {
      const result = await fetch({
        skip: (page.value - 1) * pageSize,
        limit: pageSize,
        q: appliedSearch.value,
        ...(filterKeys.length ? { filters: appliedFilters.value } : {}),
      })
      if (request !== latest) return
      rows.value = result.data
      count.value = result.count
      // Past the end (the last row of the last page deleted, or an old link): the new last page.
      if (!result.data.length && result.count && page.value > 1) {
        page.value = Math.ceil(result.count / pageSize)
      }
    } catch (caught) {
      if (request !== latest) return
      error.value = asApiError(caught).message
    } finally {
      if (request === latest) loading.value = false
    }
  }

  watch([page, appliedSearch, () => JSON.stringify(appliedFilters.value)], load, { immediate: true })
  // Back and forward through searches: the box shows the search it lists.
  watch(appliedSearch, (applied) => {
    search.value = applied
  })

  /** Search for the box's text, from the first page. */
  function applySearch(): Promise<unknown> {
    return go({ page: 1, q: search.value.trim() })
  }

  function clearSearch(): Promise<unknown> {
    search.value = ''
    return applySearch()
  }

  /** Show the rows these filters select (empty values: none), from the first page. */
  function applyFilters(filters: Record<string, string>): Promise<unknown> {
    const query: LocationQuery = { ...route.query, page: null }
    for (const key of filterKeys) {
      const value = (filters[key] ?? '').trim()
      query[key] = value || null
    }
    const cleaned = Object.fromEntries(Object.entries(query).filter(([, value]) => value !== null))
    return router.push({ query: cleaned })
  }

  /** After adding a row: the newest are on page 1, so show it. */
  async function showFirstPage(): Promise<void> {
    if (page.value === 1) await load()
    else await go({ page: 1 })
  }

  return {
    rows,
    count,
    loading,
    error,
    page,
    pages,
    pageSize,
    search,
    appliedSearch,
    appliedFilters,
    load,
    applyFilters,
    applySearch,
    clearSearch,
    showFirstPage,
  }
}
