import { describe, expect, it, vi } from 'vitest'

import * as client from '@/client'
import { ANOTHER_USER, ownerLabel, useOwnerNames } from '@/composables/useOwnerNames'

const base = { id: 1, is_active: true, is_superuser: false }

describe('ownerLabel', () => {
  it('says "You" for the viewer’s own rows', () => {
    expect(ownerLabel(1, { ...base, permissions: [] }, undefined)).toBe('You')
  })

  it('says "another user", never an id, to a viewer who may not read users', () => {
    expect(ownerLabel(2, { ...base, permissions: ['items:read_all'] }, 'Ann Lee')).toBe(ANOTHER_USER)
  })

  it('names the owner to a viewer who may read users, once the name is known', () => {
    const viewer = { ...base, permissions: ['items:read_all', 'users:read'] }
    expect(ownerLabel(2, viewer, 'Ann Lee')).toBe('Ann Lee')
    expect(ownerLabel(2, viewer, undefined)).toBe('…')
    expect(ownerLabel(2, { ...base, is_superuser: true, permissions: [] }, 'ann@example.com')).toBe('ann@example.com')
  })
})

describe('useOwnerNames', () => {
  function answer(status: number, body: unknown) {
    return { data: status < 400 ? body : undefined, error: status < 400 ? undefined : body, response: new Response(null, { status }) }
  }

  it('reads each other owner once, and only for a viewer who may read users', async () => {
    const asked: number[] = []
    vi.spyOn(client, 'readUserById').mockImplementation((async ({ path }: { path: { user_id: number } }) => {
      asked.push(path.user_id)
      return path.user_id === 3
        ? answer(404, { message: 'Not found' })
        : answer(200, { id: path.user_id, email: 'ann@example.com', full_name: 'Ann Lee' })
    }) as unknown as typeof client.readUserById)
    const viewer = { ...base, permissions: ['items:read_all', 'users:read'] }
    const owners = useOwnerNames(() => viewer)

    await owners.learn([1, 2, 2, 3])
    await owners.learn([2])

    expect(asked).toEqual([2, 3])
    expect(owners.label(1)).toBe('You')
    expect(owners.label(2)).toBe('Ann Lee')
    expect(owners.label(3)).toBe(ANOTHER_USER)

    const reader = useOwnerNames(() => ({ ...base, permissions: ['items:read_all'] }))
    await reader.learn([2])
    expect(asked).toEqual([2, 3])
    expect(reader.label(2)).toBe(ANOTHER_USER)
  })
})
