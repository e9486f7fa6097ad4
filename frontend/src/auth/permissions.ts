/**
 * What the signed-in user may do, from their effective `permissions`. The UI
 * uses it to hide what a user cannot do; the server enforces it regardless.
 */
import type { GroupUpdate, ItemPublic, UserPublic } from '@/client'

/** A permission name from the server's catalog (as typed in the spec). */
export type Permission = NonNullable<GroupUpdate['permissions']>[number]

/** The parts of a user that decide access (read-only, as the session exposes it). */
export type MaybeUser =
  | (Pick<UserPublic, 'id' | 'is_active' | 'is_superuser'> & { readonly permissions: readonly string[] })
  | null
  | undefined

export function hasPermission(user: MaybeUser, permission: Permission): boolean {
  if (!user || !user.is_active) {
    return false
  }
  return user.is_superuser || user.permissions.includes(permission)
}

export function hasAnyPermission(user: MaybeUser, permissions: readonly Permission[]): boolean {
  return permissions.some((permission) => hasPermission(user, permission))
}

export function canEditItem(user: MaybeUser, item: Pick<ItemPublic, 'owner_id'>): boolean {
  if (!user || !user.is_active) {
    return false
  }
  return item.owner_id === user.id || hasPermission(user, 'items:write_all')
}

export function canStartJobs(user: MaybeUser): boolean {
  return hasPermission(user, 'jobs:run')
}

/** A superuser cannot delete their own account (the API answers 403). */
export function canDeleteOwnAccount(user: MaybeUser): boolean {
  return !!user && !user.is_superuser
}

/** Route access, from the route's meta. */
export interface AccessRule {
  /** The route is for signed-in users (default true). */
  requiresAuth?: boolean
  /** The user needs one of these permissions. */
  permissions?: readonly Permission[]
}

export function canOpen(user: MaybeUser, rule: AccessRule): boolean {
  if (rule.requiresAuth === false) {
    return true
  }
  if (!user) {
    return false
  }
  return !rule.permissions?.length || hasAnyPermission(user, rule.permissions)
}
