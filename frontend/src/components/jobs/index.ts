/**
 * How a job's result is shown, by kind: a component that takes the job's JSON
 * `result` as its one prop. A kind without one here shows its result as
 * formatted JSON (JsonResult). Adding a kind? Add its renderer beside these
 * (a component that falls back to JsonResult when the result is not the shape
 * it expects) and name it here; a project's own kinds go in src/project.ts
 * (projectJobResults). Load the larger ones lazily (defineAsyncComponent), so
 * the Jobs page only fetches a renderer when a result needs it.
 */
import { type Component, defineAsyncComponent } from 'vue'

import { projectJobResults } from '@/project'

import DemoResult from './DemoResult.vue'
import JsonResult from './JsonResult.vue'

export const jobResults: Readonly<Record<string, Component>> = {
  demo: DemoResult,
  'ml.train_classifier': defineAsyncComponent(() => import('./ClassifierResult.vue')),
  ...projectJobResults,
}

/** The component that shows a result of `kind`. */
export function resultComponent(kind: string): Component {
  return jobResults[kind] ?? JsonResult
}
