// Minimal Go time.Time support: layout formatting/parsing, durations, zones via Intl.

import { GoTime, TypedInt } from './values.ts';
import type { GoFunc } from './values.ts';

const NS_PER_SEC = 1_000_000_000n;
export const ZERO_TIME_UNIX = -62135596800n; // 0001-01-01T00:00:00Z

const longDays = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const longMonths = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

function localZoneName(): string {
  const tz = process.env['TZ'];
  if (tz === '' || tz === 'UTC' || tz === 'UTC0') return 'UTC';
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

// offset (seconds east) and abbreviation of zone `loc` at unix ms
export function zoneAt(loc: string, ms: number): [number, string] {
  if (loc === 'UTC' || loc === '') return [0, 'UTC'];
  const iana = loc === 'Local' ? localZoneName() : loc;
  if (iana === 'UTC' || iana === 'Etc/UTC') return [0, 'UTC'];
  try {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: iana, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric', timeZoneName: 'short',
    }).formatToParts(new Date(ms));
    const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? 0);
    let y = get('year');
    const era = parts.find((p) => p.type === 'era');
    if (era && /B/.test(era.value)) y = 1 - y;
    const d = new Date(0);
    d.setUTCFullYear(y, get('month') - 1, get('day'));
    d.setUTCHours(get('hour'), get('minute'), get('second'), 0);
    const offset = Math.round((d.getTime() - Math.floor(ms / 1000) * 1000) / 1000);
    let abbr = parts.find((p) => p.type === 'timeZoneName')?.value ?? 'UTC';
    if (/^GMT[+-]/.test(abbr) || abbr === 'GMT' && offset !== 0) {
      // Go uses numeric abbreviations like "+03" when tzdata has none
      const sign = offset < 0 ? '-' : '+';
      const a = Math.abs(offset);
      const hh = String(Math.floor(a / 3600)).padStart(2, '0');
      const mm = Math.floor((a % 3600) / 60);
      abbr = sign + hh + (mm ? String(mm).padStart(2, '0') : '');
    }
    return [offset, abbr];
  } catch {
    return [0, 'UTC'];
  }
}

export function isValidZone(loc: string): boolean {
  if (loc === 'UTC' || loc === 'Local' || loc === '') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: loc });
    return true;
  } catch {
    return false;
  }
}

export function makeTime(ns: bigint, loc: string): GoTime {
  const ms = Number(floorDiv(ns, 1_000_000n));
  const [offset, zone] = zoneAt(loc, ms);
  return new GoTime(ns, offset, zone, loc);
}

export function timeIn(t: GoTime, loc: string): GoTime {
  return makeTime(t.ns, loc);
}

export function now(): GoTime {
  const ns = BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor((performance.now() % 1) * 1e6));
  return makeTime(ns, 'Local');
}

export function zeroTime(): GoTime {
  return new GoTime(ZERO_TIME_UNIX * NS_PER_SEC, 0, 'UTC', 'UTC');
}

interface Civil {
  year: number; month: number; day: number; hour: number; min: number; sec: number; nsec: number; wday: number; yday: number;
}

function civil(t: GoTime): Civil {
  const local = t.ns + BigInt(t.offset) * NS_PER_SEC;
  const secs = floorDiv(local, NS_PER_SEC);
  const nsec = Number(local - secs * NS_PER_SEC);
  const d = new Date(Number(secs) * 1000);
  const year = d.getUTCFullYear();
  const start = new Date(0);
  start.setUTCFullYear(year, 0, 1);
  start.setUTCHours(0, 0, 0, 0);
  const yday = Math.floor((d.getTime() - start.getTime()) / 86400000) + 1;
  return { year, month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), min: d.getUTCMinutes(), sec: d.getUTCSeconds(), nsec, wday: d.getUTCDay(), yday };
}

const pad = (n: number, w: number): string => {
  const s = String(Math.abs(n)).padStart(w, '0');
  return n < 0 ? '-' + s : s;
};

interface Tok { kind: 'lit' | 'std'; v: string; frac?: { ch: string; n: number; sep: string } }

function nextStd(layout: string, i: number): Tok | null {
  const s = layout.slice(i);
  const c = s[0];
  switch (c) {
    case 'J':
      if (s.startsWith('Jan')) return s.startsWith('January') ? { kind: 'std', v: 'January' } : { kind: 'std', v: 'Jan' };
      break;
    case 'M':
      if (s.startsWith('Mon')) {
        if (s.startsWith('Monday')) return { kind: 'std', v: 'Monday' };
        if (!/^Mon[a-z]/.test(s)) return { kind: 'std', v: 'Mon' };
      }
      if (s.startsWith('MST')) return { kind: 'std', v: 'MST' };
      break;
    case '0':
      if (s.length >= 2 && s[1]! >= '1' && s[1]! <= '6') return { kind: 'std', v: s.slice(0, 2) };
      if (s.startsWith('002')) return { kind: 'std', v: '002' };
      break;
    case '1':
      if (s.startsWith('15')) return { kind: 'std', v: '15' };
      return { kind: 'std', v: '1' };
    case '2':
      if (s.startsWith('2006')) return { kind: 'std', v: '2006' };
      return { kind: 'std', v: '2' };
    case '_':
      if (s.startsWith('_2')) {
        if (s.startsWith('_2006')) return { kind: 'lit', v: '_' };
        return { kind: 'std', v: '_2' };
      }
      if (s.startsWith('__2')) return { kind: 'std', v: '__2' };
      break;
    case '3': case '4': case '5':
      return { kind: 'std', v: c };
    case 'P':
      if (s.startsWith('PM')) return { kind: 'std', v: 'PM' };
      break;
    case 'p':
      if (s.startsWith('pm')) return { kind: 'std', v: 'pm' };
      break;
    case '-':
      for (const t of ['-07:00:00', '-070000', '-07:00', '-0700', '-07']) if (s.startsWith(t)) return { kind: 'std', v: t };
      break;
    case 'Z':
      for (const t of ['Z07:00:00', 'Z070000', 'Z07:00', 'Z0700', 'Z07']) if (s.startsWith(t)) return { kind: 'std', v: t };
      break;
    case '.': case ',':
      if (s.length >= 2 && (s[1] === '0' || s[1] === '9')) {
        const ch = s[1]!;
        let j = 1;
        while (j < s.length && s[j] === ch) j++;
        if (!(j < s.length && s[j]! >= '0' && s[j]! <= '9')) {
          // only a fractional second if following a seconds field; Go checks std before; we accept
          return { kind: 'std', v: s.slice(0, j), frac: { ch, n: j - 1, sep: c } };
        }
      }
      break;
  }
  return null;
}

function tokenize(layout: string): Tok[] {
  const toks: Tok[] = [];
  let lit = '';
  for (let i = 0; i < layout.length;) {
    const t = nextStd(layout, i);
    if (t === null || t.kind === 'lit') {
      lit += layout[i];
      i++;
      continue;
    }
    if (lit) {
      toks.push({ kind: 'lit', v: lit });
      lit = '';
    }
    toks.push(t);
    i += t.v.length;
  }
  if (lit) toks.push({ kind: 'lit', v: lit });
  return toks;
}

function fmtZone(off: number, tok: string): string {
  if (tok.startsWith('Z') && off === 0) return 'Z';
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const hh = pad(Math.floor(a / 3600), 2);
  const mm = pad(Math.floor((a % 3600) / 60), 2);
  const ss = pad(a % 60, 2);
  const t = tok.replace('Z', '-');
  switch (t) {
    case '-07': return sign + hh;
    case '-0700': return sign + hh + mm;
    case '-07:00': return sign + hh + ':' + mm;
    case '-070000': return sign + hh + mm + ss;
    case '-07:00:00': return sign + hh + ':' + mm + ':' + ss;
  }
  return '';
}

export function formatTime(t: GoTime, layout: string): string {
  const c = civil(t);
  let out = '';
  for (const tok of tokenize(layout)) {
    if (tok.kind === 'lit') {
      out += tok.v;
      continue;
    }
    if (tok.frac) {
      const digits = String(c.nsec).padStart(9, '0').slice(0, tok.frac.n);
      if (tok.frac.ch === '0') out += tok.frac.sep + digits;
      else {
        const trimmed = digits.replace(/0+$/, '');
        if (trimmed) out += tok.frac.sep + trimmed;
      }
      continue;
    }
    switch (tok.v) {
      case 'January': out += longMonths[c.month - 1]; break;
      case 'Jan': out += longMonths[c.month - 1]!.slice(0, 3); break;
      case 'Monday': out += longDays[c.wday]; break;
      case 'Mon': out += longDays[c.wday]!.slice(0, 3); break;
      case 'MST': out += t.zone; break;
      case '2006': out += c.year >= 0 && c.year < 10000 ? pad(c.year, 4) : String(c.year); break;
      case '06': out += pad(c.year % 100, 2); break;
      case '01': out += pad(c.month, 2); break;
      case '1': out += String(c.month); break;
      case '2': out += String(c.day); break;
      case '_2': out += String(c.day).padStart(2, ' '); break;
      case '02': out += pad(c.day, 2); break;
      case '__2': out += String(c.yday).padStart(3, ' '); break;
      case '002': out += pad(c.yday, 3); break;
      case '15': out += pad(c.hour, 2); break;
      case '3': out += String(c.hour % 12 === 0 ? 12 : c.hour % 12); break;
      case '03': out += pad(c.hour % 12 === 0 ? 12 : c.hour % 12, 2); break;
      case '4': out += String(c.min); break;
      case '04': out += pad(c.min, 2); break;
      case '5': out += String(c.sec); break;
      case '05': out += pad(c.sec, 2); break;
      case 'PM': out += c.hour >= 12 ? 'PM' : 'AM'; break;
      case 'pm': out += c.hour >= 12 ? 'pm' : 'am'; break;
      default: out += fmtZone(t.offset, tok.v);
    }
  }
  return out;
}

export function timeString(t: GoTime): string {
  return formatTime(t, '2006-01-02 15:04:05.999999999 -0700 MST');
}

export class TimeParseError extends Error {}

// time.ParseInLocation (subset: numeric fields, month/day names, zones, fractions)
// eslint-disable-next-line complexity -- transcribes Go's time.parse, one switch over layout elements, kept whole so it reads beside Go's source
export function parseTime(layout: string, value: string, loc: string): GoTime {
  const orig = value;
  let year = 1, month = 1, day = 1, hour = 0, min = 0, sec = 0, nsec = 0;
  let pm: boolean | null = null;
  let zoneOff: number | null = null;
  const fail = (elem: string, rest: string): never => {
    throw new TimeParseError(`parsing time ${JSON.stringify(orig)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(elem)}`);
  };
  const num = (elem: string, min_: number, max_: number): number => {
    let n = 0; // leading ASCII digits, at most max_
    while (n < max_ && n < value.length && value.charCodeAt(n) >= 0x30 && value.charCodeAt(n) <= 0x39) n++;
    if (n < min_) fail(elem, value);
    const digits = value.slice(0, n);
    value = value.slice(n);
    return Number(digits);
  };
  for (const tok of tokenize(layout)) {
    if (tok.kind === 'lit') {
      if (!value.startsWith(tok.v)) fail(tok.v, value);
      value = value.slice(tok.v.length);
      continue;
    }
    if (tok.frac) {
      if (value[0] !== '.' && value[0] !== ',') {
        if (tok.frac.ch === '9') continue;
        fail(tok.v, value);
      }
      const m = /^[.,](\d+)/.exec(value);
      if (!m) fail(tok.v, value);
      nsec = Number(m![1]!.slice(0, 9).padEnd(9, '0'));
      value = value.slice(m![0].length);
      continue;
    }
    switch (tok.v) {
      case '2006': {
        const m = /^\d{4}/.exec(value);
        if (!m) fail('2006', value);
        year = Number(m![0]);
        value = value.slice(4);
        break;
      }
      case '06': { const y = num('06', 2, 2); year = y >= 69 ? 1900 + y : 2000 + y; break; }
      case '01': month = num('01', 2, 2); break;
      case '1': month = num('1', 1, 2); break;
      case '02': day = num('02', 2, 2); break;
      case '2': day = num('2', 1, 2); break;
      case '_2': if (value[0] === ' ') value = value.slice(1); day = num('_2', 1, 2); break;
      case '15': hour = num('15', 2, 2); break;
      case '3': hour = num('3', 1, 2); break;
      case '03': hour = num('03', 2, 2); break;
      case '4': min = num('4', 1, 2); break;
      case '04': min = num('04', 2, 2); break;
      case '5': sec = num('5', 1, 2); break;
      case '05': {
        sec = num('05', 2, 2);
        const m = /^[.,](\d+)/.exec(value);
        if (m && !layout.includes('.0') && !layout.includes('.9')) {
          nsec = Number(m[1]!.slice(0, 9).padEnd(9, '0'));
          value = value.slice(m[0].length);
        }
        break;
      }
      case 'PM': case 'pm': {
        const m = /^(AM|PM|am|pm)/.exec(value);
        if (!m) fail(tok.v, value);
        pm = m![0].toUpperCase() === 'PM';
        value = value.slice(2);
        break;
      }
      case 'January': case 'Jan': {
        const names = tok.v === 'January' ? longMonths : longMonths.map((m) => m.slice(0, 3));
        const i = names.findIndex((n) => value.toLowerCase().startsWith(n.toLowerCase()));
        if (i < 0) fail(tok.v, value);
        month = i + 1;
        value = value.slice(names[i]!.length);
        break;
      }
      case 'Monday': case 'Mon': {
        const names = tok.v === 'Monday' ? longDays : longDays.map((m) => m.slice(0, 3));
        const i = names.findIndex((n) => value.toLowerCase().startsWith(n.toLowerCase()));
        if (i < 0) fail(tok.v, value);
        value = value.slice(names[i]!.length);
        break;
      }
      case 'MST': {
        const m = /^[A-Z]{3,5}|^[+-]\d\d/.exec(value);
        if (!m) fail('MST', value);
        if (m![0] === 'UTC' || m![0] === 'GMT') zoneOff = 0;
        value = value.slice(m![0].length);
        break;
      }
      default: {
        if (tok.v.startsWith('Z') && value[0] === 'Z') {
          zoneOff = 0;
          value = value.slice(1);
          break;
        }
        const m = /^([+-])(\d\d):?(\d\d)?(?::?(\d\d))?/.exec(value);
        if (!m) fail(tok.v, value);
        const sign = m![1] === '-' ? -1 : 1;
        zoneOff = sign * (Number(m![2]) * 3600 + Number(m![3] ?? 0) * 60 + Number(m![4] ?? 0));
        value = value.slice(m![0].length);
      }
    }
  }
  if (value.length > 0) throw new TimeParseError(`parsing time ${JSON.stringify(orig)}: extra text: ${JSON.stringify(value)}`);
  if (pm !== null) {
    if (pm && hour < 12) hour += 12;
    else if (!pm && hour === 12) hour = 0;
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, min, sec, 0);
  if (d.getUTCDate() !== day || month < 1 || month > 12) {
    throw new TimeParseError(`parsing time ${JSON.stringify(orig)}: day out of range`);
  }
  const localSecs = BigInt(Math.floor(d.getTime() / 1000));
  if (zoneOff !== null) {
    const ns = (localSecs - BigInt(zoneOff)) * NS_PER_SEC + BigInt(nsec);
    const t = makeTime(ns, loc);
    if (t.offset === zoneOff) return t;
    return new GoTime(ns, zoneOff, zoneOff === 0 ? 'UTC' : '', '');
  }
  // interpret in loc: guess offset then correct
  let [off] = zoneAt(loc, Number(localSecs) * 1000);
  [off] = zoneAt(loc, (Number(localSecs) - off) * 1000);
  const ns = (localSecs - BigInt(off)) * NS_PER_SEC + BigInt(nsec);
  return makeTime(ns, loc);
}

export function unixSeconds(t: GoTime): bigint {
  return floorDiv(t.ns, NS_PER_SEC);
}

export function goTimeMethods(t: GoTime): Map<string, GoFunc> {
  const c = (): Civil => civil(t);
  return new Map<string, GoFunc>([
    ['Unix', { params: [], fn: () => new TypedInt('int64', unixSeconds(t)) }],
    ['UnixNano', { params: [], fn: () => new TypedInt('int64', t.ns) }],
    ['UnixMilli', { params: [], fn: () => new TypedInt('int64', floorDiv(t.ns, 1000000n)) }],
    ['Format', { params: ['string'], fn: (l: string) => formatTime(t, l) }],
    ['String', { params: [], fn: () => timeString(t) }],
    ['UTC', { params: [], fn: () => makeTime(t.ns, 'UTC') }],
    ['Local', { params: [], fn: () => makeTime(t.ns, 'Local') }],
    ['Year', { params: [], fn: () => BigInt(c().year) }],
    ['Day', { params: [], fn: () => BigInt(c().day) }],
    ['YearDay', { params: [], fn: () => BigInt(c().yday) }],
    ['Hour', { params: [], fn: () => BigInt(c().hour) }],
    ['Minute', { params: [], fn: () => BigInt(c().min) }],
    ['Second', { params: [], fn: () => BigInt(c().sec) }],
    ['Nanosecond', { params: [], fn: () => BigInt(c().nsec) }],
    ['IsZero', { params: [], fn: () => t.ns === ZERO_TIME_UNIX * NS_PER_SEC }],
  ]);
}
