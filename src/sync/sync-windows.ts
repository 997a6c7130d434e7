// spec.syncWindows (ESO 2.9): when a periodic refresh may run. `allow`: only while at least one
// window is open; `deny`: never while any window is open. Each window opens at its cron firing
// (src/sync/cron.ts, UTC) and stays open for its duration, both ends included. Pure: the caller
// hands in the time, and gets either "allowed" or the delay after which it is worth asking again.
// Why here and not only ESO's yes/no: a postponed refresh is requeued for the moment its window
// opens (or the deny window closes), instead of being retried with backoff until it does.
import type { ExternalSecretSyncWindows } from '../api/types.generated.ts';
import { DurationError, parseDurationMs } from '../go/duration.ts';
import { CronError, nextFiring, parseCron, windowActive, type CronSchedule } from './cron.ts';

export interface ParsedWindow {
  schedule: CronSchedule;
  durationMs: number;
}

export interface ParsedSyncWindows {
  kind: 'allow' | 'deny';
  windows: ParsedWindow[];
}

/** A schedule or duration the controller cannot use: `field` names it (spec.syncWindows.windows[i].…). */
export class SyncWindowError extends Error {
  readonly field: string;
  readonly detail: string;
  constructor(field: string, detail: string) {
    super(`${field}: ${detail}`);
    this.name = 'SyncWindowError';
    this.field = field;
    this.detail = detail;
  }
}

/** At most this many windows are evaluated (the CRD's maxItems; an older object may hold more). */
export const MAX_WINDOWS = 32;

/** Parses spec.syncWindows; undefined when absent or empty (no restriction). */
export function parseSyncWindows(sw: ExternalSecretSyncWindows | undefined): ParsedSyncWindows | undefined {
  if (!sw || !Array.isArray(sw.windows) || sw.windows.length === 0) return undefined;
  if (sw.windows.length > MAX_WINDOWS) throw new SyncWindowError('spec.syncWindows.windows', `at most ${MAX_WINDOWS} windows`);
  const windows = sw.windows.map((w, i): ParsedWindow => {
    const at = `spec.syncWindows.windows[${i}]`;
    let schedule: CronSchedule;
    try {
      schedule = parseCron(String(w.schedule ?? ''));
    } catch (e) {
      throw new SyncWindowError(`${at}.schedule`, e instanceof CronError ? e.message : 'not a cron schedule');
    }
    let durationMs: number;
    try {
      durationMs = parseDurationMs(String(w.duration ?? ''));
    } catch (e) {
      throw new SyncWindowError(`${at}.duration`, e instanceof DurationError ? e.message : 'not a duration');
    }
    if (!(durationMs >= 0)) throw new SyncWindowError(`${at}.duration`, 'must not be negative');
    return { schedule, durationMs };
  });
  return { kind: sw.kind === 'deny' ? 'deny' : 'allow', windows };
}

/** Is a periodic refresh allowed at `nowMs` (ESO's isPeriodicRefreshAllowedByWindows)? */
export function refreshAllowed(sw: ParsedSyncWindows, nowMs: number): boolean {
  const anyOpen = sw.windows.some((w) => windowActive(w.schedule, w.durationMs, nowMs));
  return sw.kind === 'deny' ? !anyOpen : anyOpen;
}

/** When nothing better is known, a postponed refresh asks again after this long. */
export const RECHECK_MS = 60 * 60_000;
/** A deny window may be followed by another; this many are stepped over before asking again later. */
const MAX_DENY_STEPS = 16;

/**
 * Undefined when a periodic refresh may run at `nowMs`; otherwise the delay (at least a second)
 * until it may: the next opening of an allow window, or the end of the open deny windows.
 */
export function postponedFor(sw: ParsedSyncWindows, nowMs: number): number | undefined {
  if (refreshAllowed(sw, nowMs)) return undefined;
  let at: number | undefined;
  if (sw.kind === 'allow') {
    for (const w of sw.windows) {
      const opens = nextFiring(w.schedule, nowMs);
      if (opens !== undefined && (at === undefined || opens < at)) at = opens;
    }
  } else {
    let t = nowMs;
    for (let i = 0; i < MAX_DENY_STEPS && !refreshAllowed(sw, t); i++) {
      // The latest close of the windows open at t; a second past it none of them is open.
      let closes = t;
      for (const w of sw.windows) {
        const opened = nextFiring(w.schedule, t - w.durationMs - 1000);
        if (opened !== undefined && opened <= t && t <= opened + w.durationMs) closes = Math.max(closes, opened + w.durationMs);
      }
      t = Math.floor(closes / 1000) * 1000 + 1000;
    }
    at = t;
  }
  return at === undefined ? RECHECK_MS : Math.min(RECHECK_MS, Math.max(1000, at - nowMs));
}
