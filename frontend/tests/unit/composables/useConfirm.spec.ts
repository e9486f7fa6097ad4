import { describe, expect, it } from 'vitest'

import { ApiError } from '@/api/errors'
import { useConfirm } from '@/composables/useConfirm'

describe('useConfirm', () => {
  it('opens on a subject and closes once the action succeeded', async () => {
    const done: string[] = []
    const confirm = useConfirm(async (name: string) => {
      done.push(name)
    })
    expect(confirm.open.value).toBe(false)

    confirm.ask('jane@example.com')
    expect(confirm.open.value).toBe(true)
    expect(await confirm.confirm()).toBe(true)

    expect(done).toEqual(['jane@example.com'])
    expect(confirm.open.value).toBe(false)
    expect(confirm.busy.value).toBe(false)
  })

  it('stays open with the reason when the action fails', async () => {
    const confirm = useConfirm(async () => {
      throw new ApiError('You are not allowed to do this.', 403)
    })
    confirm.ask(7)

    expect(await confirm.confirm()).toBe(false)
    expect(confirm.open.value).toBe(true)
    expect(confirm.error.value).toBe('You are not allowed to do this.')

    confirm.open.value = false
    expect(confirm.subject.value).toBeNull()
    expect(confirm.error.value).toBe('')
  })

  it('runs the action once while it is busy', async () => {
    let runs = 0
    let release!: () => void
    const confirm = useConfirm(
      () =>
        new Promise<void>((resolve) => {
          runs += 1
          release = resolve
        }),
    )
    confirm.ask('x')

    const first = confirm.confirm()
    expect(await confirm.confirm()).toBe(false)
    release()
    expect(await first).toBe(true)
    expect(runs).toBe(1)
  })
})
