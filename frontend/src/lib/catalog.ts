/** The permission catalog (GET /permissions/), read once per page load. */
import { unwrap } from '@/api/errors'
import type { Permission } from '@/client'
import { readPermissions } from '@/client'

let cached: Promise<Permission[]> | null = null

export function loadPermissionCatalog(): Promise<Permission[]> {
  cached ??= unwrap(readPermissions()).then(
    (answer) => answer.data,
    (error: unknown) => {
      cached = null
      throw error
    },
  )
  return cached
}
