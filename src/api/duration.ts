// Durations of metav1.Duration fields (spec.refreshInterval, "1h", "2h30m", "1.5s", "0") are Go
// durations: parsed and printed by src/go/duration.ts, re-exported here for the API layer. What
// this file adds is the bridge from a parsed duration to a Node timer.

import { DurationError, parseDurationMs } from '../go/duration.ts';

export { DurationError, formatDurationNs, isValidDuration, parseDurationMs, parseDurationNs } from '../go/duration.ts';

/**
 * The longest delay Node's setTimeout honours: 2^31-1 ms (≈ 24.8 days). A larger delay (and
 * NaN) makes Node fire the timer after 1 ms with a TimeoutOverflowWarning, so a refreshInterval
 * of 597 h would reconcile ~800 times a second instead of never.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A delay that is safe to hand to setTimeout: clamped to [0, MAX_TIMER_MS]; NaN counts as the
 * maximum (an unparseable or infinite delay must mean "later", never "now"). Every delay that
 * comes from a spec, a flag or a backoff goes through here before it reaches a timer.
 */
export function timerDelayMs(ms: number): number {
  if (Number.isNaN(ms)) return MAX_TIMER_MS;
  if (ms <= 0) return 0;
  return Math.min(ms, MAX_TIMER_MS);
}

/**
 * A store's spec.refreshInterval in ms, as ESO 2.9 reads it (SecretStoreSpec.GetRefreshInterval):
 * an integer is seconds (the v1beta1 and legacy v1 form), a string is a Go duration ("5m").
 * Absent, 0 or "0s" is 0: the controller's default applies; anything shorter than a second is a
 * second. Negative values and strings that are
 * not durations throw a DurationError naming the value (the CRD refuses both; an object stored
 * before the CRD was updated may still hold one).
 */
export function storeRefreshIntervalMs(value: number | string | undefined | null): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new DurationError(`invalid refreshInterval ${value}: must be a non-negative number of seconds`);
    return value * 1000;
  }
  const ms = parseDurationMs(value);
  if (ms < 0) throw new DurationError(`invalid refreshInterval ${JSON.stringify(value)}: must not be negative`);
  // Each validation calls the tenant's provider: "1ns" must not become a validation loop. One
  // second is the finest the integer form can say, so the string form says no finer.
  return ms > 0 ? Math.max(MIN_STORE_REFRESH_MS, ms) : 0;
}

/** The shortest store revalidation interval a tenant can ask for (the integer form's 1 s). */
export const MIN_STORE_REFRESH_MS = 1000;
