/** The permission catalog (GET /permissions/), read once per page load. */
import { unwrap } from '@/api/errors'
import type { PermissionPublic } from '@/client'
import { readPermissions } from '@/client'

let cached: Promise<PermissionPublic[]> | null = null

export function loadPermissionCatalog(): Promise<PermissionPublic[]> {
  cached ??= unwrap(readPermissions()).then(
    (answer) => answer.data,
    (error: unknown) => {
      cached = null
      throw error
    },
  )
  return cached
}
