/**
 * Run `tick` every `intervalMs` while `active()` is true and the component is
 * mounted. Ticks never overlap, and polling pauses while the tab is hidden.
 */
import { onBeforeUnmount, watch, type WatchSource } from 'vue'

export function usePolling(
  tick: () => Promise<void>,
  active: WatchSource<boolean>,
  intervalMs = 1000,
): void {
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  let running = false
  let isActive = false

  function schedule(): void {
    clearTimeout(timer)
    if (!stopped && isActive) {
      timer = setTimeout(run, intervalMs)
    }
  }

  async function run(): Promise<void> {
    if (stopped || running || !isActive) {
      return
    }
    if (typeof document !== 'undefined' && document.hidden) {
      schedule()
      return
    }
    running = true
    try {
      await tick()
    } catch {
      // The next tick tries again; the page shows the error.
    } finally {
      running = false
      schedule()
    }
  }

  const stopWatch = watch(
    active,
    (value) => {
      isActive = value
      schedule()
    },
    { immediate: true },
  )

  onBeforeUnmount(() => {
    stopped = true
    stopWatch()
    clearTimeout(timer)
  })
}
