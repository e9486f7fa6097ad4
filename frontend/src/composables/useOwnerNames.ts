/**
 * Who owns a row, in words the viewer may see: "You" for their own; the
 * owner's name (or email) when the viewer may read users; else "another user"
 * (never an id, which means nothing to a person). Names are read once per
 * owner (GET /users/{id}) and kept for the page's life.
 */
import { reactive } from 'vue'

import { unwrap } from '@/api/errors'
import { hasPermission, type MaybeUser } from '@/auth/permissions'
import { readUserById } from '@/client'
import { displayName } from '@/lib/format'

export const ANOTHER_USER = 'Another user'

/** The words for an owner, from what is known of them (`undefined`: not read yet). */
export function ownerLabel(ownerId: number, viewer: MaybeUser, name: string | undefined): string {
  if (viewer && ownerId === viewer.id) return 'You'
  if (!hasPermission(viewer, 'users:read')) return ANOTHER_USER
  return name ?? '…'
}

export function useOwnerNames(viewer: () => MaybeUser) {
  const names = reactive(new Map<number, string>())
  const asked = new Set<number>()

  /** Read the names of the owners not known yet (only for a viewer allowed to). */
  async function learn(ownerIds: Iterable<number>): Promise<void> {
    const user = viewer()
    if (!hasPermission(user, 'users:read')) return
    const unknown = [...new Set(ownerIds)].filter((id) => id !== user?.id && !asked.has(id))
    await Promise.all(
      unknown.map(async (id) => {
        asked.add(id)
        try {
          names.set(id, displayName(await unwrap(readUserById({ path: { user_id: id } }))))
        } catch {
          // Deleted meanwhile, or refused: the row still says someone else owns it.
          names.set(id, ANOTHER_USER)
        }
      }),
    )
  }

  function label(ownerId: number): string {
    return ownerLabel(ownerId, viewer(), names.get(ownerId))
  }

  return { learn, label }
}
