/**
 * This project's own pages: their routes and their links in the navigation.
 *
 * A project made with `make new-project` adds its pages here rather than in
 * router.ts and AppLayout.vue: the base ships these lists empty and never changes
 * them, so `make update-from-upstream` merges the base's own pages without touching
 * this project's.
 *
 *     export const projectRoutes: RouteRecordRaw[] = [
 *       { path: '/things', name: 'things', component: () => import('@/pages/ThingsPage.vue'), meta: { title: 'Things' } },
 *     ]
 *     export const projectNav: NavEntry[] = [{ to: '/things', label: 'Things', icon: 'items' }]
 *
 * Its job kinds (backend/app/kinds/project.py) show their results with a
 * component of their own, taking the job's `result` (without one, as JSON);
 * loaded lazily, so that the Jobs page fetches it only when a result needs it:
 *
 *     export const projectJobResults: Record<string, Component> = {
 *       'nlp.summarize': defineAsyncComponent(() => import('@/components/jobs/SummaryResult.vue')),
 *     }
 */
import type { Component } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

import type { NavEntry } from '@/lib/navigation'

export const projectRoutes: RouteRecordRaw[] = []

export const projectNav: NavEntry[] = []

export const projectJobResults: Record<string, Component> = {}
