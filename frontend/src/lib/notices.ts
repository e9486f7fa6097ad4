/**
 * Short messages for the user that outlive a page change, like "Item
 * deleted" or "Your session has ended". Shown in a polite live region.
 */
import { reactive, readonly } from 'vue'

export type NoticeKind = 'success' | 'info' | 'error'

export interface Notice {
  id: number
  kind: NoticeKind
  text: string
}

const state = reactive<{ items: Notice[] }>({ items: [] })
let nextId = 1

export const notices = readonly(state)

export function dismissNotice(id: number): void {
  state.items = state.items.filter((notice) => notice.id !== id)
}

export function notify(text: string, kind: NoticeKind = 'success', timeoutMs = 6000): void {
  const id = nextId++
  state.items = [...state.items.slice(-2), { id, kind, text }]
  if (timeoutMs > 0) {
    setTimeout(() => dismissNotice(id), timeoutMs)
  }
}
