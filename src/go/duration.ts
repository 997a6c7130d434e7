// Go's time.ParseDuration and Duration.String, written once: metav1.Duration fields
// (spec.refreshInterval, store requeue intervals), the operator's duration flags and the template
// functions (dateModify, duration, ago) all parse and print durations as Go does.
//
// Durations are int64 nanoseconds, held as bigint: a Number loses nanoseconds past 104 days, and
// Go's range (±292 years) must round-trip exactly.

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
const TWO_63 = 1n << 63n;
const MAX_INT64 = TWO_63 - 1n;

export class DurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DurationError';
  }
}

/**
 * Go's time.quote: ASCII as it is (with `"` and `\` escaped), every byte of anything else as \xNN.
 * Error texts match Go's byte for byte, also for the non-ASCII unit µs.
 */
function goTimeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x80 || c < 0x20) {
      for (const b of Buffer.from(ch, 'utf8')) out += `\\x${b.toString(16).padStart(2, '0')}`;
    } else {
      if (ch === '"' || ch === '\\') out += '\\';
      out += ch;
    }
  }
  return `${out}"`;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Go's leadingFraction: digits after the point; past int64 precision they are read and ignored. */
function leadingFraction(s: string): { value: bigint; scale: number; rest: string } {
  let i = 0;
  let value = 0n;
  let scale = 1;
  let overflow = false;
  for (; i < s.length && isDigit(s[i]); i++) {
    if (overflow) continue;
    if (value > MAX_INT64 / 10n) {
      overflow = true;
      continue;
    }
    const next = value * 10n + BigInt(s.charCodeAt(i) - 48);
    if (next > TWO_63) {
      overflow = true;
      continue;
    }
    value = next;
    scale *= 10;
  }
  return { value, scale, rest: s.slice(i) };
}

/**
 * Parses a Go duration string into nanoseconds, with Go's algorithm (including its float64
 * arithmetic for fractions, so "1.0000000001s" is exactly what Go makes of it). Throws
 * DurationError with Go's message.
 */
export function parseDurationNs(input: string): bigint {
  const invalid = (): DurationError => new DurationError(`time: invalid duration ${goTimeQuote(input)}`);
  let s = input;
  let negative = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) throw invalid();
    const whole = /^[0-9]*/.exec(s)![0];
    s = s.slice(whole.length);
    // Go's leadingInt refuses more than 2^63 before any unit is applied.
    const wholeValue = BigInt(whole === '' ? '0' : whole);
    if (wholeValue > TWO_63) throw invalid();
    let fraction = { value: 0n, scale: 1 };
    let hasFraction = false;
    if (s[0] === '.') {
      s = s.slice(1);
      const before = s.length;
      const read = leadingFraction(s);
      fraction = read;
      s = read.rest;
      hasFraction = s.length !== before;
    }
    if (whole === '' && !hasFraction) throw invalid(); // "." or ".s": no digits at all
    const unitText = /^[^0-9.]*/.exec(s)![0];
    s = s.slice(unitText.length);
    if (unitText === '') throw new DurationError(`time: missing unit in duration ${goTimeQuote(input)}`);
    const unit = NS_PER_UNIT.get(unitText);
    if (unit === undefined) throw new DurationError(`time: unknown unit ${goTimeQuote(unitText)} in duration ${goTimeQuote(input)}`);
    if (wholeValue > TWO_63 / unit) throw invalid();
    let value = wholeValue * unit;
    if (fraction.value > 0n) {
      // Go: v += uint64(float64(f) * (float64(unit) / scale)), truncated toward zero.
      value += BigInt(Math.trunc(Number(fraction.value) * (Number(unit) / fraction.scale)));
      if (value > TWO_63) throw invalid();
    }
    total += value;
    if (total > TWO_63) throw invalid();
  }
  if (negative) return -total;
  if (total > MAX_INT64) throw invalid();
  return total;
}

/** Parses a Go duration into milliseconds (fractions of a millisecond are kept). */
export function parseDurationMs(input: string): number {
  let ms = parsedMs.get(input);
  if (ms === undefined) {
    ms = Number(parseDurationNs(input)) / 1e6;
    // Every reconcile reads its object's interval, nearly always one of a handful of strings.
    if (input.length <= 32) {
      if (parsedMs.size >= PARSED_MS_MAX) parsedMs.clear();
      parsedMs.set(input, ms);
    }
  }
  return ms;
}

/** Durations parsed lately (valid ones only: an invalid one throws each time). Bounded. */
const parsedMs = new Map<string, number>();
const PARSED_MS_MAX = 256;

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
  const sign = ns < 0n ? '-' : '';
  let u = ns < 0n ? -ns : ns;
  if (u < 1_000_000_000n) {
    // Sub-second: the largest unit that keeps an integer part.
    if (u < 1_000n) return `${sign}${u}ns`;
    if (u < 1_000_000n) return `${sign}${fixed(u, 1_000n)}µs`;
    return `${sign}${fixed(u, 1_000_000n)}ms`;
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
