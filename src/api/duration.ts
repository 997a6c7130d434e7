// Go time.ParseDuration and Duration.String, as used by metav1.Duration fields such as
// spec.refreshInterval ("1h", "2h30m", "1.5s", "0").

const NS_PER_UNIT: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['µs', 1_000n], // U+00B5 micro sign
  ['μs', 1_000n], // U+03BC Greek small letter mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);
const MAX_INT64 = (1n << 63n) - 1n;

export class DurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DurationError';
  }
}

/** Parses a Go duration string into nanoseconds. Throws DurationError like Go's errors. */
export function parseDurationNs(input: string): bigint {
  const orig = input;
  let s = input;
  let negative = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw new DurationError(`time: invalid duration ${JSON.stringify(orig)}`);
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || (s[0]! >= '0' && s[0]! <= '9'))) {
      throw new DurationError(`time: invalid duration ${JSON.stringify(orig)}`);
    }
    const intMatch = /^[0-9]*/.exec(s)![0];
    s = s.slice(intMatch.length);
    let fraction = '';
    if (s[0] === '.') {
      s = s.slice(1);
      fraction = /^[0-9]*/.exec(s)![0];
      s = s.slice(fraction.length);
    }
    if (intMatch === '' && fraction === '') {
      // "." or ".s": no digits at all
      throw new DurationError(`time: invalid duration ${JSON.stringify(orig)}`);
    }
    const unitMatch = /^[^0-9.]*/.exec(s)![0];
    s = s.slice(unitMatch.length);
    if (unitMatch === '') throw new DurationError(`time: missing unit in duration ${JSON.stringify(orig)}`);
    const unit = NS_PER_UNIT.get(unitMatch);
    if (unit === undefined) {
      throw new DurationError(`time: unknown unit ${JSON.stringify(unitMatch)} in duration ${JSON.stringify(orig)}`);
    }
    let value = BigInt(intMatch === '' ? '0' : intMatch) * unit;
    if (fraction !== '') {
      // Go truncates the fractional part towards zero at nanosecond precision.
      const scale = 10n ** BigInt(fraction.length);
      value += (BigInt(fraction) * unit) / scale;
    }
    total += value;
    if (total > MAX_INT64 + (negative ? 1n : 0n)) {
      throw new DurationError(`time: invalid duration ${JSON.stringify(orig)}`);
    }
  }
  return negative ? -total : total;
}

/** Parses a Go duration into milliseconds (fractions of a millisecond are kept). */
export function parseDurationMs(input: string): number {
  return Number(parseDurationNs(input)) / 1e6;
}

export function isValidDuration(input: string): boolean {
  try {
    parseDurationNs(input);
    return true;
  } catch {
    return false;
  }
}

/** Go's Duration.String(): "1h0m0s", "1.5s", "300ms", "0s". */
export function formatDurationNs(ns: bigint): string {
  if (ns === 0n) return '0s';
  const negative = ns < 0n;
  let u = negative ? -ns : ns;
  const sign = negative ? '-' : '';
  if (u < 1_000_000_000n) {
    // Sub-second: use the largest unit that keeps an integer part.
    let unit: string;
    let div: bigint;
    if (u < 1_000n) return `${sign}${u}ns`;
    if (u < 1_000_000n) { unit = 'µs'; div = 1_000n; } else { unit = 'ms'; div = 1_000_000n; }
    return `${sign}${fixed(u, div)}${unit}`;
  }
  const h = u / 3_600_000_000_000n;
  u -= h * 3_600_000_000_000n;
  const m = u / 60_000_000_000n;
  u -= m * 60_000_000_000n;
  const secs = `${fixed(u, 1_000_000_000n)}s`;
  if (h > 0n) return `${sign}${h}h${m}m${secs}`;
  if (m > 0n) return `${sign}${m}m${secs}`;
  return `${sign}${secs}`;
}

function fixed(value: bigint, div: bigint): string {
  const whole = value / div;
  const rest = value % div;
  if (rest === 0n) return whole.toString();
  const digits = div.toString().length - 1;
  const frac = rest.toString().padStart(digits, '0').replace(/0+$/, '');
  return `${whole}.${frac}`;
}

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
