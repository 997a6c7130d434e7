// When an ExternalSecret must be synced, and when it is looked at again: refreshPolicy,
// refreshInterval, spec changes and repairs, as ESO decides them. Pure, so it is unit-tested.

export interface RefreshState {
  policy: 'Periodic' | 'OnChange' | 'CreatedOnce';
  /** refreshInterval in ms; 0 means "sync once". */
  refreshMs: number;
  /** status.refreshTime in ms since the epoch, NaN when never synced. */
  lastRefreshMs: number;
  /** status Ready is True. */
  ready: boolean;
  /** The spec, labels or annotations changed since the last sync (syncedResourceVersion). */
  specChanged: boolean;
  /** The Secret we own is missing or was edited (its content no longer matches our hash). */
  targetBroken: boolean;
  /** The target Secret exists. */
  targetExists: boolean;
  /**
   * A store the ExternalSecret reads from was deleted, or a ClusterSecretStore no longer admits its
   * namespace (spec.conditions, namespace labels). Absent: false.
   */
  storeUnavailable?: boolean;
  now: number;
}

export function refreshDue(s: RefreshState): boolean {
  // Never synced, or the last attempt failed: sync (errors are paced by the queue's backoff).
  if (Number.isNaN(s.lastRefreshMs) || !s.ready) return true;
  // A Ready ExternalSecret whose store is gone or no longer admits it must say so now, whatever
  // its policy or interval: the sync fails at once and reports why (Ready=False). The Secret is
  // left as it is.
  if (s.storeUnavailable === true) return true;
  switch (s.policy) {
    case 'CreatedOnce':
      return !s.targetExists;
    case 'OnChange':
      return s.specChanged || s.targetBroken;
    default:
      return s.specChanged || s.targetBroken || (s.refreshMs > 0 && s.now - s.lastRefreshMs >= s.refreshMs);
  }
}

/**
 * Delay before the next periodic look, or undefined when none is scheduled (OnChange,
 * CreatedOnce, refreshInterval 0: only changes and repairs trigger a sync then). The delay is
 * jittered within the last tenth of the interval, so refreshes that started together spread out.
 */
export function nextRefreshDelay(s: RefreshState, synced: boolean, random: () => number = Math.random): number | undefined {
  if (s.policy !== 'Periodic' || s.refreshMs <= 0) return undefined;
  const base = synced || Number.isNaN(s.lastRefreshMs) ? s.refreshMs : Math.max(1000, s.refreshMs - (s.now - s.lastRefreshMs));
  return Math.max(1000, base - random() * 0.1 * base);
}
