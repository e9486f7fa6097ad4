import { nextTick } from 'vue'
import { createRouter, createWebHistory, type RouteLocationNormalized, type RouteRecordRaw } from 'vue-router'

import { session } from '@/auth'
import { canOpen, type Permission } from '@/auth/permissions'
import { notify } from '@/lib/notices'
import { isPageLoadError, PAGE_LOAD_MESSAGE } from '@/lib/page-load'
import { safeRedirect } from '@/lib/redirect'
import { projectRoutes } from '@/project'

declare module 'vue-router' {
  interface RouteMeta {
    title?: string
    /** Signed-in users only (default true). */
    requiresAuth?: boolean
    /** For signed-out users only (log in, sign up): others go to the dashboard. */
    guestOnly?: boolean
    /** One of these permissions is needed. */
    permissions?: Permission[]
    /** 'auth' for the centred card of the sign-in pages; default: the app shell. */
    layout?: 'auth' | 'app' | 'auto'
  }
}

const APP_NAME = import.meta.env.VITE_PROJECT_NAME

// Every page is its own chunk: the login route loads only what it needs.
export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/pages/LoginPage.vue'),
    meta: { title: 'Log in', requiresAuth: false, guestOnly: true, layout: 'auth' },
  },
  {
    // Where single sign-on's callback sends the browser, the refresh cookie set.
    path: '/login/sso',
    name: 'login-sso',
    component: () => import('@/pages/SsoLandingPage.vue'),
    meta: { title: 'Signing in', requiresAuth: false, layout: 'auth' },
  },
  {
    path: '/signup',
    name: 'signup',
    component: () => import('@/pages/SignupPage.vue'),
    meta: { title: 'Sign up', requiresAuth: false, guestOnly: true, layout: 'auth' },
  },
  {
    path: '/recover-password',
    name: 'recover-password',
    component: () => import('@/pages/RecoverPasswordPage.vue'),
    meta: { title: 'Recover password', requiresAuth: false, guestOnly: true, layout: 'auth' },
  },
  {
    path: '/reset-password',
    name: 'reset-password',
    component: () => import('@/pages/ResetPasswordPage.vue'),
    meta: { title: 'Reset password', requiresAuth: false, layout: 'auth' },
  },
  {
    // The link in the verification email: FRONTEND_HOST + /verify-email?token=...
    path: '/verify-email',
    name: 'verify-email',
    component: () => import('@/pages/VerifyEmailPage.vue'),
    meta: { title: 'Verify email', requiresAuth: false, layout: 'auth' },
  },
  {
    path: '/',
    name: 'dashboard',
    component: () => import('@/pages/DashboardPage.vue'),
    meta: { title: 'Dashboard' },
  },
  {
    path: '/items',
    name: 'items',
    component: () => import('@/pages/ItemsPage.vue'),
    meta: { title: 'Items' },
  },
  {
    path: '/jobs',
    name: 'jobs',
    component: () => import('@/pages/JobsPage.vue'),
    meta: { title: 'Jobs' },
  },
  {
    path: '/admin/users',
    name: 'admin-users',
    component: () => import('@/pages/admin/UsersPage.vue'),
    meta: { title: 'Users', permissions: ['users:read'] },
  },
  {
    path: '/admin/groups',
    name: 'admin-groups',
    component: () => import('@/pages/admin/GroupsPage.vue'),
    meta: { title: 'Groups', permissions: ['groups:read'] },
  },
  {
    path: '/admin/groups/:id',
    name: 'admin-group',
    component: () => import('@/pages/admin/GroupPage.vue'),
    props: true,
    meta: { title: 'Group', permissions: ['groups:read'] },
  },
  {
    path: '/admin/audit',
    name: 'admin-audit',
    component: () => import('@/pages/admin/AuditLogPage.vue'),
    meta: { title: 'Audit log', permissions: ['audit:read'] },
  },
  {
    path: '/settings',
    name: 'settings',
    component: () => import('@/pages/SettingsPage.vue'),
    meta: { title: 'Settings' },
  },
  // This project's own pages (src/project.ts).
  ...projectRoutes,
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/pages/NotFoundPage.vue'),
    meta: { title: 'Page not found', requiresAuth: false, layout: 'auto' },
  },
]

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes,
  scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
})

router.beforeEach(async (to: RouteLocationNormalized, from: RouteLocationNormalized) => {
  // The first navigation waits for the refresh cookie to become a session.
  await session.restore()
  const user = session.state.user
  if (to.meta.guestOnly && user) {
    return safeRedirect(to.query.redirect)
  }
  if (to.meta.requiresAuth !== false && !user) {
    return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
  }
  if (!canOpen(user, to.meta)) {
    notify('You do not have permission to open that page.', 'error')
    return from.matched.length ? false : { name: 'dashboard' }
  }
  return true
})

let firstNavigation = true
router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · ${APP_NAME}` : APP_NAME
  if (firstNavigation) {
    firstNavigation = false
    return
  }
  // Move focus to the new page so keyboard and screen reader users start there.
  void nextTick(() => document.getElementById('main')?.focus({ preventScroll: true }))
})

// A page whose code cannot be fetched: say so (kept until dismissed) and stay
// where the user is.
router.onError((error) => {
  if (isPageLoadError(error)) {
    notify(PAGE_LOAD_MESSAGE, 'error', 0)
  }
})

session.onExpired(() => {
  notify('Your session has ended. Log in again.', 'info')
  const current = router.currentRoute.value
  void router.push({
    name: 'login',
    query: current.meta.requiresAuth === false ? {} : { redirect: current.fullPath },
  })
})
