import { describe, expect, it } from 'vitest'

import { canDeleteOwnAccount, canEditItem, canOpen, canStartJobs, hasPermission } from '@/auth/permissions'

const member = { id: 2, is_active: true, is_superuser: false, permissions: ['users:read', 'jobs:run'] }
const plain = { id: 3, is_active: true, is_superuser: false, permissions: [] as string[] }
const superuser = { id: 1, is_active: true, is_superuser: true, permissions: [] as string[] }
const inactive = { ...member, is_active: false }

describe('hasPermission', () => {
  it('grants what the user’s groups grant and nothing else', () => {
    expect(hasPermission(member, 'users:read')).toBe(true)
    expect(hasPermission(member, 'users:write')).toBe(false)
  })

  it('grants everything to a superuser', () => {
    expect(hasPermission(superuser, 'groups:write')).toBe(true)
    expect(hasPermission(superuser, 'items:write_all')).toBe(true)
  })

  it('grants nothing to an inactive or missing user', () => {
    expect(hasPermission(inactive, 'users:read')).toBe(false)
    expect(hasPermission(null, 'users:read')).toBe(false)
  })
})

describe('item and job actions', () => {
  it('lets the owner edit an item and others only with items:write_all', () => {
    expect(canEditItem(plain, { owner_id: 3 })).toBe(true)
    expect(canEditItem(plain, { owner_id: 9 })).toBe(false)
    expect(canEditItem({ ...plain, permissions: ['items:write_all'] }, { owner_id: 9 })).toBe(true)
  })

  it('lets only jobs:run holders and superusers start jobs', () => {
    expect(canStartJobs(member)).toBe(true)
    expect(canStartJobs(plain)).toBe(false)
    expect(canStartJobs(superuser)).toBe(true)
  })

  it('does not offer a superuser to delete their own account', () => {
    expect(canDeleteOwnAccount(plain)).toBe(true)
    expect(canDeleteOwnAccount(superuser)).toBe(false)
  })
})

describe('canOpen (route access)', () => {
  it('opens public routes to everyone', () => {
    expect(canOpen(null, { requiresAuth: false })).toBe(true)
  })

  it('closes signed-in routes to a signed-out visitor', () => {
    expect(canOpen(null, {})).toBe(false)
  })

  it('opens an admin route only with one of its permissions', () => {
    expect(canOpen(member, { permissions: ['users:read'] })).toBe(true)
    expect(canOpen(plain, { permissions: ['users:read'] })).toBe(false)
    expect(canOpen(superuser, { permissions: ['groups:read'] })).toBe(true)
  })
})
