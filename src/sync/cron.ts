// The cron schedules of spec.syncWindows, as ESO 2.9 reads them (robfig/cron v3 with the standard
// five fields and descriptors, evaluated in UTC): `minute hour day-of-month month day-of-week`,
// each field `*`, `?`, `a`, `a-b`, with an optional `/step`, comma-separated, month and weekday
// names in any case; `@yearly` … `@hourly`; `@every <Go duration>`.
// Why a hand parser: a schedule is tenant input. It is parsed by splitting on fixed characters,
// with no regular expression built at run time, its length is bounded, and the search for the
// next firing is bounded by iterations and by robfig's own horizon (five years), so no schedule
// can make a reconcile spin. Errors name the field and say what is wrong, never more of the input
// than the token at fault. Pure; no I/O.
import { DurationError, parseDurationMs } from '../go/duration.ts';

/** Longer schedules are refused (the CRD's maxLength, checked again for objects stored before it). */
export const MAX_SCHEDULE_LENGTH = 128;

interface FieldRange {
  min: number;
  max: number;
  names?: Readonly<Record<string, number>>;
}

const MINUTES: FieldRange = { min: 0, max: 59 };
const HOURS: FieldRange = { min: 0, max: 23 };
const DAYS_OF_MONTH: FieldRange = { min: 1, max: 31 };
const MONTHS: FieldRange = {
  min: 1, max: 12,
  names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
};
const DAYS_OF_WEEK: FieldRange = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

/** The values a field matches, and whether it was written as `*` or `?` (it changes day matching). */
interface FieldSet {
  values: Uint8Array;
  star: boolean;
}

export type CronSchedule =
  | { kind: 'fields'; minute: FieldSet; hour: FieldSet; dayOfMonth: FieldSet; month: FieldSet; dayOfWeek: FieldSet }
  /** `@every d`: robfig fires d (whole seconds, at least one) after the time it is asked about. */
  | { kind: 'every'; delayMs: number };

export class CronError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronError';
  }
}

function all(range: FieldRange): FieldSet {
  const values = new Uint8Array(range.max + 1);
  values.fill(1, range.min);
  return { values, star: true };
}

function only(range: FieldRange, value: number): FieldSet {
  const values = new Uint8Array(range.max + 1);
  values[value] = 1;
  return { values, star: false };
}

const DESCRIPTORS: Readonly<Record<string, () => CronSchedule>> = {
  '@yearly': () => fields(only(MINUTES, 0), only(HOURS, 0), only(DAYS_OF_MONTH, 1), only(MONTHS, 1), all(DAYS_OF_WEEK)),
  '@annually': () => DESCRIPTORS['@yearly']!(),
  '@monthly': () => fields(only(MINUTES, 0), only(HOURS, 0), only(DAYS_OF_MONTH, 1), all(MONTHS), all(DAYS_OF_WEEK)),
  '@weekly': () => fields(only(MINUTES, 0), only(HOURS, 0), all(DAYS_OF_MONTH), all(MONTHS), only(DAYS_OF_WEEK, 0)),
  '@daily': () => fields(only(MINUTES, 0), only(HOURS, 0), all(DAYS_OF_MONTH), all(MONTHS), all(DAYS_OF_WEEK)),
  '@midnight': () => DESCRIPTORS['@daily']!(),
  '@hourly': () => fields(only(MINUTES, 0), all(HOURS), all(DAYS_OF_MONTH), all(MONTHS), all(DAYS_OF_WEEK)),
};

function fields(minute: FieldSet, hour: FieldSet, dayOfMonth: FieldSet, month: FieldSet, dayOfWeek: FieldSet): CronSchedule {
  return { kind: 'fields', minute, hour, dayOfMonth, month, dayOfWeek };
}

function isDigits(s: string): boolean {
  if (s.length === 0 || s.length > 9) return false;
  for (const c of s) if (c < '0' || c > '9') return false;
  return true;
}

function valueOf(token: string, range: FieldRange, what: string): number {
  if (isDigits(token)) return Number(token);
  const named = range.names?.[token.toLowerCase()];
  if (named !== undefined) return named;
  throw new CronError(`${what}: ${JSON.stringify(token.slice(0, 16))} is not a number${range.names ? ' or a name' : ''}`);
}

/** One comma-separated part: `*`, `?`, `a`, `a-b`, each with an optional `/step` (robfig's getRange). */
function addRange(set: FieldSet, part: string, range: FieldRange, what: string): void {
  const slashes = part.split('/');
  if (slashes.length > 2) throw new CronError(`${what}: too many slashes in ${JSON.stringify(part.slice(0, 32))}`);
  const bounds = slashes[0]!.split('-');
  let start: number;
  let end: number;
  let star = false;
  if (bounds[0] === '*' || bounds[0] === '?') {
    start = range.min;
    end = range.max;
    star = true;
  } else {
    if (bounds.length > 2) throw new CronError(`${what}: too many hyphens in ${JSON.stringify(part.slice(0, 32))}`);
    start = valueOf(bounds[0]!, range, what);
    end = bounds.length === 2 ? valueOf(bounds[1]!, range, what) : start;
  }
  let step = 1;
  if (slashes.length === 2) {
    if (!isDigits(slashes[1]!)) throw new CronError(`${what}: step ${JSON.stringify(slashes[1]!.slice(0, 16))} is not a number`);
    step = Number(slashes[1]);
    // "a/step" means "a-max/step", as in robfig.
    if (bounds.length === 1) end = range.max;
    if (step > 1) star = false;
  }
  if (start < range.min) throw new CronError(`${what}: ${start} is below the minimum ${range.min}`);
  if (end > range.max) throw new CronError(`${what}: ${end} is above the maximum ${range.max}`);
  if (start > end) throw new CronError(`${what}: range start ${start} is beyond its end ${end}`);
  if (step === 0) throw new CronError(`${what}: the step must be a positive number`);
  for (let v = start; v <= end; v += step) set.values[v] = 1;
  if (star) set.star = true;
}

function parseField(text: string, range: FieldRange, what: string): FieldSet {
  const set: FieldSet = { values: new Uint8Array(range.max + 1), star: false };
  for (const part of text.split(',')) addRange(set, part, range, what);
  return set;
}

/** Parses a schedule; throws a CronError that says which part is wrong. */
export function parseCron(schedule: string): CronSchedule {
  if (schedule.length === 0) throw new CronError('empty schedule');
  if (schedule.length > MAX_SCHEDULE_LENGTH) throw new CronError(`longer than ${MAX_SCHEDULE_LENGTH} characters`);
  if (schedule.startsWith('@every ')) {
    let ms: number;
    try {
      ms = parseDurationMs(schedule.slice('@every '.length));
    } catch (e) {
      throw new CronError(`@every: ${e instanceof DurationError ? e.message : 'not a duration'}`);
    }
    // robfig: at least a second, truncated to whole seconds.
    return { kind: 'every', delayMs: Math.max(1000, Math.floor(ms / 1000) * 1000) };
  }
  if (schedule.startsWith('@')) {
    const descriptor = DESCRIPTORS[schedule];
    if (!descriptor) throw new CronError(`unknown descriptor ${JSON.stringify(schedule.slice(0, 16))}`);
    return descriptor();
  }
  const parts = schedule.split(' ').filter((p) => p.length > 0);
  if (parts.length !== 5) throw new CronError(`expected exactly 5 fields (minute hour day-of-month month day-of-week), found ${parts.length}`);
  return fields(
    parseField(parts[0]!, MINUTES, 'minute'),
    parseField(parts[1]!, HOURS, 'hour'),
    parseField(parts[2]!, DAYS_OF_MONTH, 'day-of-month'),
    parseField(parts[3]!, MONTHS, 'month'),
    parseField(parts[4]!, DAYS_OF_WEEK, 'day-of-week'),
  );
}

/** robfig's dayMatches: with either day field a star both must match, otherwise either may. */
function dayMatches(s: Extract<CronSchedule, { kind: 'fields' }>, d: Date): boolean {
  const dom = s.dayOfMonth.values[d.getUTCDate()] === 1;
  const dow = s.dayOfWeek.values[d.getUTCDay()] === 1;
  return s.dayOfMonth.star || s.dayOfWeek.star ? dom && dow : dom || dow;
}

/** Enough for any schedule within robfig's five-year horizon (months, then days, hours, minutes). */
const MAX_SEARCH_STEPS = 20_000;

/**
 * The first firing strictly after `afterMs` (robfig's Schedule.Next, in UTC, at whole minutes), or
 * undefined when there is none within five years (e.g. 30 February).
 */
export function nextFiring(s: CronSchedule, afterMs: number): number | undefined {
  const fromSecond = Math.floor(afterMs / 1000) * 1000;
  if (s.kind === 'every') return fromSecond + s.delayMs;
  let t = Math.ceil((fromSecond + 1000) / 60_000) * 60_000;
  const lastYear = new Date(t).getUTCFullYear() + 5;
  for (let i = 0; i < MAX_SEARCH_STEPS; i++) {
    const d = new Date(t);
    const [year, month, day, hour] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()];
    if (year > lastYear) return undefined;
    if (s.month.values[month + 1] !== 1) t = Date.UTC(year, month + 1, 1);
    else if (!dayMatches(s, d)) t = Date.UTC(year, month, day + 1);
    else if (s.hour.values[hour] !== 1) t = Date.UTC(year, month, day, hour + 1);
    else if (s.minute.values[d.getUTCMinutes()] !== 1) t += 60_000;
    else return t;
  }
  return undefined;
}

/**
 * Is `atMs` inside the window opened by the latest firing (ESO's isWithinSyncWindow): the firing
 * after `atMs - duration - 1s`, if it is not after `atMs`, opens a window that is closed at both
 * ends, [firing, firing + duration].
 */
export function windowActive(s: CronSchedule, durationMs: number, atMs: number): boolean {
  const opened = nextFiring(s, atMs - durationMs - 1000);
  return opened !== undefined && opened <= atMs && atMs <= opened + durationMs;
}
