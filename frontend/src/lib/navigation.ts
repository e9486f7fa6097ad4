import type { Permission } from '@/auth/permissions'

/** The navigation's icons (NavIcon.vue draws them). */
export type NavIconName = 'dashboard' | 'items' | 'jobs' | 'users' | 'groups' | 'audit' | 'settings'

/** A link in the app's navigation, shown to those with `permission` (everyone when unset). */
export interface NavEntry {
  to: string
  label: string
  icon: NavIconName
  permission?: Permission
}
