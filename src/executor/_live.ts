/**
 * Private: the workers alive now, threads and processes, counted so that
 * tests can check that nothing was left running (`_liveWorkers()`);
 * `process.getActiveResourcesInfo()` does not list worker threads.
 *
 * @module
 */

const live = new Set<object>();

/** Counts `worker` as alive; call the function returned when it has exited. */
export function track(worker: object): () => void {
  live.add(worker);
  return () => live.delete(worker);
}

/** How many workers of every pool (and sync functions) are alive. For tests. */
export function _liveWorkers(): number {
  return live.size;
}
