// Durations of metav1.Duration fields (spec.refreshInterval, "1h", "2h30m", "1.5s", "0") are Go
// durations: parsed and printed by src/go/duration.ts, re-exported here for the API layer. What
// this file adds is the bridge from a parsed duration to a Node timer.

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
