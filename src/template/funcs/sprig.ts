// Sprig v3.3.0 function library (TxtFuncMap) over the Go value model.

import { checkListLength, checkStringLength } from '../budget.ts';
import { hash as cryptoHash, randomBytes, randomInt, randomUUID, createDecipheriv, createCipheriv, generateKeyPairSync, pbkdf2Sync } from 'node:crypto';
import { TypedInt, GoBytes, GoTime, mkSlice, mkMap, typeName, kindName, str, strBytes, goStringFromBytes, sortedKeys } from '../values.ts';
import { compareGoStrings } from '../../go/sort.ts';
import type { GoFunc } from '../values.ts';
import { GoError } from '../exec.ts';
import { sprintf, sprint } from '../fmt.ts';
import { quote as goQuote, isSpaceRune, isLetter, isDigit, utf8Bytes, parseInt64, formatFloat, RangeOrSyntax } from '../strconv.ts';
import { toInt64, toFloat64, strval, empty, asList, isNil, deepEqual, jsonMarshal, jsonUnmarshal, kindStr, nilDeref, setTimeFormatter } from './conv.ts';
import { b64encode, b64decode, b32encode, b32decode } from './encoding.ts';
import { compile, mustCompile, matchString, findString, findAllString, replaceAll, split as reSplit, quoteMeta } from './regexp.ts';
import { now, makeTime, formatTime, parseTime, unixSeconds, zeroTime, isValidZone, timeIn } from '../gotime.ts';
import { formatDurationNs as durationString, parseDurationNs as parseDuration } from '../../go/duration.ts';
import { semverFuncs } from './semver.ts';
import { bcrypt, htpasswd } from './htpasswd.ts';
import { certFuncs } from './certgen.ts';
import { urlParse, urlJoin } from './url.ts';

setTimeFormatter(formatTime);

const S = 'string';
const I = 'int';
const A = 'interface {}';
const MAP = 'map[string]interface {}';
const TIME = 'time.Time';

const i64 = (v: bigint): TypedInt => new TypedInt('int64', BigInt.asIntN(64, v));
const goInt = (v: bigint): bigint => BigInt.asIntN(64, v);
const strs = (a: string[]): unknown[] => mkSlice(a, '[]string');

function fnc(params: string[], fn: (...a: any[]) => unknown, variadic = false): GoFunc {
  return { params, fn, variadic };
}

// ------------------------------------------------------------ string helpers

function runes(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) out.push(ch.codePointAt(0)!);
  return out;
}

function fromRunes(r: number[]): string {
  let s = '';
  for (const c of r) s += String.fromCodePoint(c);
  return s;
}

function toUpperRune(r: number): number {
  if (r < 0x80) return r >= 0x61 && r <= 0x7a ? r - 32 : r;
  const u = String.fromCodePoint(r).toUpperCase();
  const cps = runes(u);
  return cps.length === 1 ? cps[0]! : r;
}

function toLowerRune(r: number): number {
  if (r < 0x80) return r >= 0x41 && r <= 0x5a ? r + 32 : r;
  if (r === 0x130) return 0x69;
  const u = String.fromCodePoint(r).toLowerCase();
  const cps = runes(u);
  return cps.length === 1 ? cps[0]! : r;
}

function toTitleRune(r: number): number {
  switch (r) {
    case 0x1c4: case 0x1c5: case 0x1c6: return 0x1c5;
    case 0x1c7: case 0x1c8: case 0x1c9: return 0x1c8;
    case 0x1ca: case 0x1cb: case 0x1cc: return 0x1cb;
    case 0x1f1: case 0x1f2: case 0x1f3: return 0x1f2;
  }
  return toUpperRune(r);
}

const upperRe = /^\p{Lu}$/u;
const lowerRe = /^\p{Ll}$/u;
const titleRe = /^\p{Lt}$/u;
const punctRe = /^\p{P}$/u;
const numberRe = /^\p{N}$/u;

function isUpper(r: number): boolean {
  if (r < 0x80) return r >= 0x41 && r <= 0x5a;
  return upperRe.test(String.fromCodePoint(r));
}
function isLower(r: number): boolean {
  if (r < 0x80) return r >= 0x61 && r <= 0x7a;
  return lowerRe.test(String.fromCodePoint(r));
}
function isTitle(r: number): boolean {
  return titleRe.test(String.fromCodePoint(r));
}
function isPunct(r: number): boolean {
  return punctRe.test(String.fromCodePoint(r));
}
function isNumber(r: number): boolean {
  return numberRe.test(String.fromCodePoint(r));
}

export function goUpper(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) { ascii = false; break; }
  if (ascii) return s.toUpperCase();
  return fromRunes(runes(s).map(toUpperRune));
}

export function goLower(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) { ascii = false; break; }
  if (ascii) return s.toLowerCase();
  return fromRunes(runes(s).map(toLowerRune));
}

function isSeparator(r: number): boolean {
  if (r <= 0x7f) {
    if ((r >= 0x30 && r <= 0x39) || (r >= 0x61 && r <= 0x7a) || (r >= 0x41 && r <= 0x5a) || r === 0x5f) return false;
    return true;
  }
  if (isLetter(r) || isDigit(r)) return false;
  return isSpaceRune(r);
}

function title(s: string): string {
  let prev = 0x20;
  return fromRunes(runes(s).map((r) => {
    const out = isSeparator(prev) ? toTitleRune(r) : r;
    prev = r;
    return out;
  }));
}

export function trimSpace(s: string): string {
  const r = runes(s);
  let a = 0;
  let b = r.length;
  while (a < b && isSpaceRune(r[a]!)) a++;
  while (b > a && isSpaceRune(r[b - 1]!)) b--;
  return fromRunes(r.slice(a, b));
}

function trimCutset(s: string, cutset: string): string {
  const set = new Set(runes(cutset));
  const r = runes(s);
  let a = 0;
  let b = r.length;
  while (a < b && set.has(r[a]!)) a++;
  while (b > a && set.has(r[b - 1]!)) b--;
  return fromRunes(r.slice(a, b));
}

// byte-index slicing like Go's s[a:b]
function bslice(s: string, a: number, b?: number): string | GoBytes {
  const bytes = utf8Bytes(s);
  const end = b ?? bytes.length;
  if (b === undefined && a > bytes.length) throw new GoError(`runtime error: slice bounds out of range [${a}:${bytes.length}]`);
  if (end > bytes.length) throw new GoError(`runtime error: slice bounds out of range [:${end}] with length ${bytes.length}`);
  if (a > end || a < 0) throw new GoError(`runtime error: slice bounds out of range [${a}:${end}]`);
  return goStringFromBytes(bytes.subarray(a, end));
}

// push(...items) passes every item as an argument: a long list (a template's data decides how
// long) runs out of stack. A loop does not.
function pushAll<T>(out: T[], items: ArrayLike<T>): void {
  for (let i = 0; i < items.length; i++) out.push(items[i]!);
}

function goRepeat(s: string, count: number): string {
  if (count < 0) throw new GoError('strings: negative Repeat count');
  checkStringLength(s.length * count, 'repeat');
  return s.repeat(count);
}

function byteLen(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function goSplit(s: string, sep: string, n = -1): string[] {
  if (n === 0) return [];
  if (sep === '') {
    const r = [...s];
    if (n < 0 || n >= r.length) return r;
    return [...r.slice(0, n - 1), r.slice(n - 1).join('')];
  }
  const parts = s.split(sep);
  if (n < 0 || parts.length <= n) return parts;
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

function wrapCustom(s: string, wrapLength: number, newLine: string, wrapLong: boolean): string {
  // byte-oriented port of goutils.WrapCustom
  if (s === '') return '';
  if (newLine === '') newLine = '\n';
  if (wrapLength < 1) wrapLength = 1;
  const b = utf8Bytes(s);
  const inLen = b.length;
  let offset = 0;
  const out: number[] = [];
  const nl = utf8Bytes(newLine);
  const lastSpace = (from: number, to: number): number => {
    for (let k = Math.min(to, inLen) - 1; k >= from; k--) if (b[k] === 0x20) return k - from;
    return -1;
  };
  while (inLen - offset > wrapLength) {
    if (b[offset] === 0x20) {
      offset++;
      continue;
    }
    const end = wrapLength + offset + 1;
    const spaceToWrapAt = lastSpace(offset, end) + offset;
    if (spaceToWrapAt >= offset) {
      pushAll(out, b.subarray(offset, spaceToWrapAt));
      pushAll(out, nl);
      offset = spaceToWrapAt + 1;
    } else if (wrapLong) {
      const e = wrapLength + offset;
      pushAll(out, b.subarray(offset, e));
      pushAll(out, nl);
      offset += wrapLength;
    } else {
      const e = wrapLength + offset;
      let index = -1;
      for (let k = e; k < inLen; k++) if (b[k] === 0x20) { index = k - e; break; }
      if (index === -1) {
        pushAll(out, b.subarray(offset));
        offset = inLen;
      } else {
        const sp = index + e;
        pushAll(out, b.subarray(offset, sp));
        pushAll(out, nl);
        offset = sp + 1;
      }
    }
  }
  pushAll(out, b.subarray(offset));
  return str(goStringFromBytes(Uint8Array.from(out)) as string | GoBytes);
}

function abbreviateFull(s: string, offset: number, maxWidth: number): string {
  if (s === '') return '';
  if (maxWidth < 4) return '';
  const len = byteLen(s);
  if (len <= maxWidth) return s;
  if (offset > len) offset = len;
  if (len - offset < maxWidth - 3) offset = len - (maxWidth - 3);
  if (offset <= 4) return str(bslice(s, 0, maxWidth - 3)) + '...';
  if (maxWidth < 7) return '';
  if (offset + maxWidth - 3 < len) return '...' + abbreviateFull(str(bslice(s, offset)), 0, maxWidth - 3);
  return '...' + str(bslice(s, len - (maxWidth - 3)));
}

function bytesAsRunes(s: string, keep: (c: number) => boolean): string {
  // goutils byte loops: each byte is treated as a rune
  let out = '';
  for (const c of utf8Bytes(s)) if (keep(c)) out += String.fromCharCode(c);
  return out;
}

function initials(s: string): string {
  if (s === '') return s;
  let out = '';
  let lastWasGap = true;
  for (const c of utf8Bytes(s)) {
    if (isSpaceRune(c)) lastWasGap = true;
    else if (lastWasGap) {
      out += String.fromCharCode(c);
      lastWasGap = false;
    }
  }
  return out;
}

function swapCase(s: string): string {
  let whitespace = true;
  return fromRunes(runes(s).map((ch) => {
    if (isUpper(ch) || isTitle(ch)) {
      whitespace = false;
      return toLowerRune(ch);
    }
    if (isLower(ch)) {
      if (whitespace) {
        whitespace = false;
        return toTitleRune(ch);
      }
      return toUpperRune(ch);
    }
    whitespace = isSpaceRune(ch);
    return ch;
  }));
}

function uncapitalize(s: string): string {
  let next = true;
  return fromRunes(runes(s).map((ch) => {
    if (isSpaceRune(ch)) {
      next = true;
      return ch;
    }
    if (next) {
      next = false;
      return toLowerRune(ch);
    }
    return ch;
  }));
}

function isConnector(r: number): boolean {
  return r === 0x2d || r === 0x5f || isSpaceRune(r);
}

function isAlphabet(r: number): boolean {
  if (!isLetter(r)) return false;
  if (r < 0x3400) return true;
  if (r >= 0x4e00 && r <= 0x9fcc) return false;
  if (r >= 0x3400 && r <= 0x4d85) return false;
  if (r >= 0x20000 && r <= 0x2b81d) return false;
  return true;
}

function toCamelCase(s: string, isBig: boolean): string {
  const r = runes(s);
  if (r.length === 0) return '';
  let out: number[] = [];
  let i = 0;
  let isFirstRuneUpper = false;
  let r0 = 0;
  let got = false;
  while (i < r.length) {
    r0 = r[i++]!;
    got = true;
    if (!isConnector(r0)) {
      isFirstRuneUpper = isUpper(r0);
      r0 = isBig ? toUpperRune(r0) : toLowerRune(r0);
      break;
    }
    out.push(r0);
  }
  if (i >= r.length) {
    if (got) out.push(r0);
    return fromRunes(out);
  }
  let r1: number;
  while (i < r.length) {
    r1 = r0;
    r0 = r[i++]!;
    if (isConnector(r0) && isConnector(r1)) {
      out.push(r1);
      continue;
    }
    if (isConnector(r1)) {
      isFirstRuneUpper = isUpper(r0);
      r0 = toUpperRune(r0);
    } else {
      if (isFirstRuneUpper) {
        if (isUpper(r0)) r0 = toLowerRune(r0);
        else isFirstRuneUpper = false;
      }
      out.push(r1);
    }
  }
  if (isFirstRuneUpper && !isBig) r0 = toLowerRune(r0);
  out.push(r0);
  return fromRunes(out);
}

type WordType = 0 | 1 | 2 | 3 | 4 | 5 | 6; // invalid, number, upper, alphabet, connector, punct, other
const INVALIDW = 0, NUMW = 1, UPPERW = 2, ALPHAW = 3, CONNW = 4, PUNCTW = 5, OTHERW = 6;

function nextWord(r: number[], start: number): [WordType, number, number] {
  // returns [type, wordStart, wordEnd]; remaining starts at wordEnd
  if (start >= r.length) return [INVALIDW, start, start];
  let i = start;
  const c = r[i++]!;
  let wt: WordType;
  if (isConnector(c)) {
    wt = CONNW;
    while (i < r.length && isConnector(r[i]!)) i++;
  } else if (isPunct(c)) {
    wt = PUNCTW;
    while (i < r.length && isPunct(r[i]!)) i++;
  } else if (isUpper(c)) {
    wt = UPPERW;
    if (i < r.length) {
      const n = r[i]!;
      if (isUpper(n)) {
        let j = i;
        while (j < r.length && isUpper(r[j]!)) j++;
        if (j < r.length && isAlphabet(r[j]!)) j--;
        i = j;
      } else if (isAlphabet(n)) {
        while (i < r.length && isAlphabet(r[i]!) && !isUpper(r[i]!)) i++;
      }
    }
  } else if (isAlphabet(c)) {
    wt = ALPHAW;
    while (i < r.length && isAlphabet(r[i]!) && !isUpper(r[i]!)) i++;
  } else if (isNumber(c)) {
    wt = NUMW;
    while (i < r.length && isNumber(r[i]!)) i++;
  } else {
    wt = OTHERW;
    while (i < r.length) {
      const n = r[i]!;
      if (isConnector(n) || isAlphabet(n) || isNumber(n) || isPunct(n)) break;
      i++;
    }
  }
  return [wt, start, i];
}

function camelCaseToLowerCase(s: string, connector: number): string {
  const r = runes(s);
  if (r.length === 0) return '';
  const out: number[] = [];
  const toLower = (wt: WordType, a: number, b: number): void => {
    if (wt !== UPPERW && wt !== CONNW) {
      for (let k = a; k < b; k++) out.push(r[k]!);
      return;
    }
    for (let k = a; k < b; k++) {
      const ch = r[k]!;
      if (isConnector(ch)) out.push(connector);
      else if (isUpper(ch)) out.push(toLowerRune(ch));
      else out.push(ch);
    }
  };
  let [wt, ws, we] = nextWord(r, 0);
  while (we < r.length) {
    if (wt !== CONNW) toLower(wt, ws, we);
    const prev = wt;
    const lastS = ws, lastE = we;
    [wt, ws, we] = nextWord(r, we);
    switch (prev) {
      case NUMW:
        while (wt === ALPHAW || wt === NUMW) {
          toLower(wt, ws, we);
          [wt, ws, we] = nextWord(r, we);
        }
        if (wt !== INVALIDW && wt !== PUNCTW && wt !== CONNW) out.push(connector);
        break;
      case CONNW:
        toLower(prev, lastS, lastE);
        break;
      case PUNCTW:
        break;
      default: {
        if (wt !== NUMW) {
          if (wt !== CONNW && wt !== PUNCTW) out.push(connector);
          break;
        }
        if (we >= r.length) break;
        const ls = ws, le = we;
        [wt, ws, we] = nextWord(r, we);
        if (wt !== ALPHAW) {
          toLower(NUMW, ls, le);
          if (wt !== CONNW && wt !== PUNCTW) out.push(connector);
          break;
        }
        out.push(connector);
        toLower(NUMW, ls, le);
        while (wt === ALPHAW || wt === NUMW) {
          toLower(wt, ws, we);
          [wt, ws, we] = nextWord(r, we);
        }
        if (wt !== INVALIDW && wt !== CONNW && wt !== PUNCTW) out.push(connector);
      }
    }
  }
  toLower(wt, ws, we);
  return fromRunes(out);
}

function shuffle(s: string): string {
  const r = runes(s);
  for (let i = r.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [r[i], r[j]] = [r[j]!, r[i]!];
  }
  return fromRunes(r);
}

function randString(count: number, alphabet: string): string {
  if (count < 0) throw new GoError(`Requested random string length ${count} is less than 0.`);
  checkStringLength(count, 'a random string function');
  let s = '';
  for (let i = 0; i < count; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}

const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
let ASCII = '';
for (let c = 32; c < 127; c++) ASCII += String.fromCharCode(c);

function adler32(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  for (const c of b) {
    a = (a + c) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

function hexHash(alg: string, v: string | GoBytes): string {
  // crypto.hash is the one-shot form (no Hash object); strings are hashed as UTF-8.
  return cryptoHash(alg, typeof v === 'string' ? v : v.b, 'hex');
}

// ------------------------------------------------------------ lists

function untilStep(start: bigint, stop: bigint, step: bigint): bigint[] {
  const v: bigint[] = [];
  if (step !== 0n) checkListLength((stop - start) / step, 'a list function');
  if (stop < start) {
    if (step >= 0n) return v;
    for (let i = start; i > stop; i += step) v.push(i);
    return v;
  }
  if (step <= 0n) return v;
  for (let i = start; i < stop; i += step) v.push(i);
  return v;
}

function intsSlice(a: bigint[]): unknown[] {
  return mkSlice(a, '[]int');
}

function seq(...params: bigint[]): string {
  let inc = 1n;
  let r: bigint[];
  switch (params.length) {
    case 0: return '';
    case 1: {
      const start = 1n;
      const end = params[0]!;
      if (end < start) inc = -1n;
      r = untilStep(start, end + inc, inc);
      break;
    }
    case 3: {
      const start = params[0]!;
      const end = params[2]!;
      const step = params[1]!;
      if (end < start) {
        inc = -1n;
        if (step > 0n) return '';
      }
      r = untilStep(start, end + inc, step);
      break;
    }
    case 2: {
      const start = params[0]!;
      const end = params[1]!;
      let step = 1n;
      if (end < start) step = -1n;
      r = untilStep(start, end + step, step);
      break;
    }
    default: return '';
  }
  return r.join(' ');
}

function strslice(v: unknown): string[] {
  if (Array.isArray(v)) {
    if (typeName(v) === '[]string') return v as string[];
    return v.filter((x) => !isNil(x)).map(strval);
  }
  if (isNil(v)) return [];
  return [strval(v)];
}

function toListCopy(v: unknown, what: string): unknown[] {
  return [...asList(v, what)];
}

function inList(h: unknown[], needle: unknown): boolean {
  return h.some((x) => deepEqual(needle, x));
}

function chunk(size: bigint, list: unknown): unknown[] {
  const l = asList(list, 'Cannot chunk type');
  const n = l.length;
  const sz = Number(size);
  const cs = Math.floor((n - 1) / sz) + 1;
  if (!Number.isFinite(cs) || cs < 0) throw new GoError('runtime error: makeslice: len out of range');
  const out: unknown[] = [];
  for (let i = 0; i < cs; i++) {
    let clen = sz;
    if (i === cs - 1) {
      clen = Math.floor(n % sz);
      if (clen === 0) clen = sz;
    }
    const c: unknown[] = [];
    for (let j = 0; j < clen; j++) {
      const ix = i * sz + j;
      if (ix >= n || ix < 0) throw new GoError(`reflect: slice index out of range`);
      c.push(l[ix]);
    }
    out.push(c);
  }
  return mkSlice(out, '[][]interface {}');
}

function sprigSlice(list: unknown, ...indices: unknown[]): unknown {
  const l = (() => {
    if (isNil(list)) throw new GoError(nilDeref);
    if (Array.isArray(list)) return list;
    throw new GoError(`list should be type of slice or array but ${kindStr(list)}`);
  })();
  if (l.length === 0) return null;
  const toInt = (v: unknown): number => Number(toInt64(v));
  const start = indices.length > 0 ? toInt(indices[0]) : 0;
  const end = indices.length < 2 ? l.length : toInt(indices[1]);
  if (start < 0 || end < start || end > l.length) throw new GoError('reflect.Value.Slice: slice index out of bounds');
  return mkSlice(l.slice(start, end), typeName(l));
}

// ------------------------------------------------------------ dicts

function asMap(v: unknown): Map<string, unknown> {
  return v as Map<string, unknown>;
}

function deepCopy(v: unknown): unknown {
  if (Array.isArray(v)) return mkSlice(v.map(deepCopy), typeName(v));
  if (v instanceof Map) {
    const m = new Map<string, unknown>();
    for (const [k, x] of v) m.set(k, deepCopy(x));
    return mkMap(m, typeName(v));
  }
  return v;
}

// mergo.Merge (no overwrite) / MergeWithOverwrite for map[string]interface{}
function mergeMaps(dst: Map<string, unknown>, src: Map<string, unknown>, overwrite: boolean): void {
  for (const [k, sv] of src) {
    const dv = dst.get(k);
    if (dst.has(k) && dv instanceof Map && sv instanceof Map && typeName(dv) === typeName(sv)) {
      mergeMaps(dv, sv, overwrite);
      continue;
    }
    if (!dst.has(k)) {
      dst.set(k, sv);
      continue;
    }
    if (dv instanceof Map && sv instanceof Map) {
      // different map types: mergo deep-merges into interface map
      if (overwrite) dst.set(k, sv);
      continue;
    }
    if (overwrite) {
      dst.set(k, sv);
    } else if (empty(dv) && !isNil(sv)) {
      dst.set(k, sv);
    }
  }
}

function dig(...ps: unknown[]): unknown {
  if (ps.length < 3) throw new GoError('dig needs at least three arguments');
  const last = ps[ps.length - 1];
  if (!(last instanceof Map) || typeName(last) !== MAP) {
    throw new GoError(`interface conversion: interface {} is ${isNil(last) ? 'nil' : typeName(last)}, not map[string]interface {}`);
  }
  const def = ps[ps.length - 2];
  const ks = ps.slice(0, ps.length - 2).map((k) => {
    if (typeof k !== 'string') throw new GoError(`interface conversion: interface {} is ${isNil(k) ? 'nil' : typeName(k)}, not string`);
    return k;
  });
  let dict: Map<string, unknown> = last;
  for (let i = 0; i < ks.length; i++) {
    if (!dict.has(ks[i]!)) return def;
    const step = dict.get(ks[i]!);
    if (i === ks.length - 1) return step;
    if (!(step instanceof Map) || typeName(step) !== MAP) {
      throw new GoError(`interface conversion: interface {} is ${isNil(step) ? 'nil' : typeName(step)}, not map[string]interface {}`);
    }
    dict = step;
  }
  return def;
}

// ------------------------------------------------------------ math

function decimalOp(a: unknown, rest: unknown[], op: 'add' | 'sub' | 'mul' | 'div'): number {
  // shopspring/decimal NewFromFloat uses the shortest repr; we use exact decimal arithmetic via BigInt
  let acc = Dec.fromFloat(toFloat64(a));
  for (const x of rest) {
    const d = Dec.fromFloat(toFloat64(x));
    switch (op) {
      case 'add': acc = acc.add(d); break;
      case 'sub': acc = acc.sub(d); break;
      case 'mul': acc = acc.mul(d); break;
      case 'div':
        if (d.m === 0n) throw new GoError('decimal division by 0');
        acc = acc.div(d);
        break;
    }
  }
  return acc.toFloat();
}

class Dec {
  readonly m: bigint;
  readonly e: number; // value = m * 10^e
  constructor(m: bigint, e: number) {
    this.m = m;
    this.e = e;
  }
  static fromFloat(f: number): Dec {
    if (!Number.isFinite(f)) throw new GoError(`Cannot create a Decimal from ${formatFloat(f, 'g', -1)}`);
    if (f === 0) return new Dec(0n, 0);
    const s = Math.abs(f).toExponential();
    const [mant, exp] = s.split('e');
    const digits = mant!.replace('.', '');
    const e = Number(exp) - (digits.length - 1);
    return new Dec(BigInt(digits) * (f < 0 ? -1n : 1n), e);
  }
  align(o: Dec): [bigint, bigint, number] {
    const e = Math.min(this.e, o.e);
    return [this.m * 10n ** BigInt(this.e - e), o.m * 10n ** BigInt(o.e - e), e];
  }
  add(o: Dec): Dec {
    const [a, b, e] = this.align(o);
    return new Dec(a + b, e);
  }
  sub(o: Dec): Dec {
    const [a, b, e] = this.align(o);
    return new Dec(a - b, e);
  }
  mul(o: Dec): Dec {
    return new Dec(this.m * o.m, this.e + o.e);
  }
  div(o: Dec): Dec {
    // shopspring DivisionPrecision = 16 digits after the decimal point, rounded half-up (QuoRem + round)
    const prec = 16;
    // value = (this.m/o.m) * 10^(this.e-o.e); compute q with `prec` fractional digits
    const shift = prec + (this.e - o.e);
    let num = this.m;
    let den = o.m;
    if (shift >= 0) num *= 10n ** BigInt(shift + 1);
    else den *= 10n ** BigInt(-shift - 1);
    let q = num / den; // one extra digit, truncated toward zero
    const neg = q < 0n;
    if (neg) q = -q;
    const last = q % 10n;
    q /= 10n;
    if (last >= 5n) q += 1n;
    return new Dec(neg ? -q : q, -prec);
  }
  toFloat(): number {
    if (this.m === 0n) return 0;
    return Number(`${this.m}e${this.e}`);
  }
}

function goRound(a: unknown, p: bigint, rOpt: number[]): number {
  const roundOn = rOpt.length > 0 ? rOpt[0]! : 0.5;
  const val = toFloat64(a);
  const places = Number(p);
  const pow = Math.pow(10, places);
  const digit = pow * val;
  const div = digit - Math.trunc(digit);
  const r = div >= roundOn ? Math.ceil(digit) : Math.floor(digit);
  return r / pow;
}

function toDecimal(v: unknown): TypedInt {
  const s = sprint([v]);
  try {
    const body = s[0] === '+' || s[0] === '-' ? s.slice(1) : s;
    if (!/^[0-7]+$/.test(body)) return i64(0n);
    return i64(parseInt64(s[0] === '-' ? '-0o' + body : '0o' + body));
  } catch (e) {
    if (e instanceof RangeOrSyntax) return i64(0n);
    throw e;
  }
}

// ------------------------------------------------------------ paths

function pathClean(p: string): string {
  if (p === '') return '.';
  const rooted = p[0] === '/';
  const parts = p.split('/');
  const out: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const s = (rooted ? '/' : '') + out.join('/');
  return s === '' ? '.' : s;
}

function pathBase(p: string): string {
  if (p === '') return '.';
  while (p.length > 0 && p[p.length - 1] === '/') p = p.slice(0, -1);
  const i = p.lastIndexOf('/');
  if (i >= 0) p = p.slice(i + 1);
  return p === '' ? '/' : p;
}

function pathDir(p: string): string {
  const i = p.lastIndexOf('/');
  return pathClean(p.slice(0, i + 1));
}

function pathExt(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

// ------------------------------------------------------------ crypto helpers

function encryptAES(password: string, plaintext: string): string {
  const key = Buffer.alloc(32);
  Buffer.from(password, 'utf8').copy(key);
  const content = Buffer.from(plaintext, 'utf8');
  const padding = 16 - (content.length % 16);
  const padded = Buffer.concat([content, Buffer.alloc(padding, padding)]);
  const iv = randomBytes(16);
  const c = createCipheriv('aes-256-cbc', key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([iv, c.update(padded), c.final()]).toString('base64');
}

function decryptAES(password: string, crypt64: string): string {
  const key = Buffer.alloc(32);
  Buffer.from(password, 'utf8').copy(key);
  const data = Buffer.from(b64decode(utf8Bytes(crypt64)));
  if (data.length < 16) throw new GoError('cipher text too short');
  const iv = data.subarray(0, 16);
  const body = data.subarray(16);
  if (body.length % 16 !== 0) throw new GoError('cipher text is not a multiple of the block size');
  const d = createDecipheriv('aes-256-cbc', key, iv);
  d.setAutoPadding(false);
  const out = Buffer.concat([d.update(body), d.final()]);
  const pad = out[out.length - 1] ?? 0;
  return str(goStringFromBytes(out.subarray(0, out.length - pad)) as string | GoBytes);
}

function genPrivateKey(typ: string): string {
  switch (typ) {
    case '':
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    case 'dsa':
      return 'Unsupported private key type: dsa';
    case 'ecdsa':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;
    case 'ed25519':
      return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  }
  return 'Unknown type ' + typ;
}

function unsupported(name: string): GoFunc {
  return { params: [A], variadic: true, fn: () => { throw new GoError(`${name} is not supported by Tessera`); } };
}

/**
 * hex.DecodeString as sprig's hexdec (ESO 2.9's sprig) calls it: the decoded bytes, or the error's
 * text in their place. Pairs are checked left to right; an odd last digit is checked before the
 * length error, as Go's hex.Decode does.
 */
function hexdecode(v: string | GoBytes): string | GoBytes {
  const src = strBytes(v);
  const nibble = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1);
  const invalid = (c: number): string => `encoding/hex: invalid byte: ${sprintf('%#U', [BigInt(c)])}`;
  const out = new Uint8Array(src.length >> 1);
  let i = 0;
  let j = 1;
  for (; j < src.length; j += 2) {
    const a = nibble(src[j - 1]!);
    const b = nibble(src[j]!);
    if (a < 0) return invalid(src[j - 1]!);
    if (b < 0) return invalid(src[j]!);
    out[i++] = (a << 4) | b;
  }
  if (src.length % 2 === 1) return nibble(src[j - 1]!) < 0 ? invalid(src[j - 1]!) : 'encoding/hex: odd length hex string';
  return goStringFromBytes(out);
}

// ------------------------------------------------------------ dates

function dateArg(date: unknown): GoTime {
  if (date instanceof GoTime) return date;
  if (date instanceof TypedInt && (date.kind === 'int64' || date.kind === 'int32')) return makeTime(date.v * 1_000_000_000n, 'Local');
  if (typeof date === 'bigint') return makeTime(date * 1_000_000_000n, 'Local');
  return now();
}

function dateInZone(fmt: string, date: unknown, zone: string): string {
  const t = dateArg(date);
  const loc = isValidZone(zone) ? zone : 'UTC';
  return formatTime(timeIn(t, loc), fmt);
}

function durationRound(d: unknown): string {
  let dur: bigint;
  if (typeof d === 'string') {
    try {
      dur = parseDuration(d);
    } catch {
      dur = 0n;
    }
  } else if (d instanceof TypedInt && d.kind === 'int64') dur = d.v;
  else if (d instanceof GoTime) dur = now().ns - d.ns;
  else dur = 0n;
  let u = dur < 0n ? -dur : dur;
  u = BigInt.asUintN(64, u);
  const hour = 3600n * 1_000_000_000n;
  const year = hour * 24n * 365n;
  const month = hour * 24n * 30n;
  const day = hour * 24n;
  const minute = 60n * 1_000_000_000n;
  const second = 1_000_000_000n;
  if (u > year) return (u / year).toString() + 'y';
  if (u > month) return (u / month).toString() + 'mo';
  if (u > day) return (u / day).toString() + 'd';
  if (u > hour) return (u / hour).toString() + 'h';
  if (u > minute) return (u / minute).toString() + 'm';
  if (u > second) return (u / second).toString() + 's';
  return '0s';
}

function roundDuration(d: bigint, m: bigint): bigint {
  let r = d % m;
  if (d < 0n) {
    r = -r;
    if (r + r < m) return d + r;
    return d - m + r;
  }
  if (r + r < m) return d - r;
  return d + m - r;
}

// ------------------------------------------------------------ table

export function sprigFuncs(): Map<string, GoFunc> {
  const m = new Map<string, GoFunc>();
  const def = (name: string, params: string[], fn: (...a: any[]) => unknown, variadic = false): void => {
    m.set(name, fnc(params, fn, variadic));
  };

  def('hello', [], () => 'Hello!');

  // dates
  def('ago', [A], (d: unknown) => {
    const t = d instanceof GoTime ? d : d instanceof TypedInt && d.kind === 'int64' ? makeTime(d.v * 1_000_000_000n, 'Local') : typeof d === 'bigint' ? makeTime(d * 1_000_000_000n, 'Local') : now();
    return durationString(roundDuration(now().ns - t.ns, 1_000_000_000n));
  });
  def('date', [S, A], (f: string, d: unknown) => dateInZone(f, d, 'Local'));
  def('date_in_zone', [S, A, S], dateInZone);
  def('dateInZone', [S, A, S], dateInZone);
  const dateModify = (f: string, d: GoTime): GoTime => {
    try {
      return makeTime(d.ns + parseDuration(f), d.loc);
    } catch {
      return d;
    }
  };
  const mustDateModify = (f: string, d: GoTime): GoTime => makeTime(d.ns + parseDuration(f), d.loc);
  def('date_modify', [S, TIME], dateModify);
  def('dateModify', [S, TIME], dateModify);
  def('must_date_modify', [S, TIME], mustDateModify);
  def('mustDateModify', [S, TIME], mustDateModify);
  def('duration', [A], (sec: unknown) => {
    let n = 0n;
    if (typeof sec === 'string') {
      try {
        n = parseInt64(sec, false);
      } catch {
        n = 0n;
      }
    } else if (sec instanceof TypedInt && sec.kind === 'int64') n = sec.v;
    return durationString(BigInt.asIntN(64, n * 1_000_000_000n));
  });
  def('durationRound', [A], durationRound);
  def('htmlDate', [A], (d: unknown) => dateInZone('2006-01-02', d, 'Local'));
  def('htmlDateInZone', [A, S], (d: unknown, z: string) => dateInZone('2006-01-02', d, z));
  def('now', [], () => now());
  def('toDate', [S, S], (f: string, s: string) => {
    try {
      return parseTime(f, s, 'Local');
    } catch {
      return zeroTime();
    }
  });
  def('mustToDate', [S, S], (f: string, s: string) => parseTime(f, s, 'Local'));
  def('unixEpoch', [TIME], (t: GoTime) => unixSeconds(t).toString());

  // strings
  def('abbrev', [I, S], (w: bigint, s: string) => (w < 4n ? s : abbreviateFull(s, 0, Number(w))));
  def('abbrevboth', [I, I, S], (l: bigint, r: bigint, s: string) => (r < 4n || (l > 0n && r < 7n) ? s : abbreviateFull(s, Number(l), Number(r))));
  def('trunc', [I, S], (c: bigint, s: string) => {
    const n = Number(c);
    const len = byteLen(s);
    if (n < 0 && len + n > 0) return bslice(s, len + n);
    if (n >= 0 && len > n) return bslice(s, 0, n);
    return s;
  });
  def('trim', [S], trimSpace);
  def('upper', [S], goUpper);
  def('lower', [S], goLower);
  def('title', [S], title);
  def('untitle', [S], uncapitalize);
  def('substr', [I, I, S], (a: bigint, b: bigint, s: string) => {
    const start = Number(a);
    const end = Number(b);
    if (start < 0) return bslice(s, 0, end);
    if (end < 0 || end > byteLen(s)) return bslice(s, start);
    return bslice(s, start, end);
  });
  def('repeat', [I, S], (c: bigint, s: string) => goRepeat(s, Number(c)));
  def('trimall', [S, S], (a: string, b: string) => trimCutset(b, a));
  def('trimAll', [S, S], (a: string, b: string) => trimCutset(b, a));
  def('trimSuffix', [S, S], (a: string, b: string) => (a !== '' && b.endsWith(a) ? b.slice(0, b.length - a.length) : b));
  def('trimPrefix', [S, S], (a: string, b: string) => (a !== '' && b.startsWith(a) ? b.slice(a.length) : b));
  def('nospace', [S], (s: string) => {
    if (s === '') return s;
    let all = true;
    for (const c of utf8Bytes(s)) if (isSpaceRune(c)) all = false;
    if (all) return s;
    return bytesAsRunes(s, (c) => !isSpaceRune(c));
  });
  def('initials', [S], initials);
  def('randAlphaNum', [I], (n: bigint) => randString(Number(n), ALPHA + DIGITS));
  def('randAlpha', [I], (n: bigint) => randString(Number(n), ALPHA));
  def('randAscii', [I], (n: bigint) => randString(Number(n), ASCII));
  def('randNumeric', [I], (n: bigint) => randString(Number(n), DIGITS));
  def('swapcase', [S], swapCase);
  def('shuffle', [S], shuffle);
  def('snakecase', [S], (s: string) => camelCaseToLowerCase(s, 0x5f));
  def('camelcase', [S], (s: string) => toCamelCase(s, true));
  def('kebabcase', [S], (s: string) => camelCaseToLowerCase(s, 0x2d));
  def('wrap', [I, S], (l: bigint, s: string) => wrapCustom(s, Number(l), '', false));
  def('wrapWith', [I, S, S], (l: bigint, sep: string, s: string) => wrapCustom(s, Number(l), sep, true));
  def('contains', [S, S], (sub: string, s: string) => s.includes(sub));
  def('hasPrefix', [S, S], (sub: string, s: string) => s.startsWith(sub));
  def('hasSuffix', [S, S], (sub: string, s: string) => s.endsWith(sub));
  def('quote', [A], (...a: unknown[]) => {
    if (a.length === 1) return isNil(a[0]) ? '' : goQuote(strval(a[0]));
    return a.filter((x) => !isNil(x)).map((x) => goQuote(strval(x))).join(' ');
  }, true);
  def('squote', [A], (...a: unknown[]) => a.filter((x) => !isNil(x)).map((x) => sprintf("'%v'", [x])).join(' '), true);
  def('cat', [A], (...a: unknown[]) => {
    const v = a.filter((x) => !isNil(x));
    return sprintf('%v '.repeat(v.length).trim(), v);
  }, true);
  def('indent', [I, S], (n: bigint, s: string) => {
    const pad = goRepeat(' ', Number(n));
    return pad + s.replaceAll('\n', '\n' + pad);
  });
  def('nindent', [I, S], (n: bigint, s: string) => {
    const pad = goRepeat(' ', Number(n));
    return '\n' + pad + s.replaceAll('\n', '\n' + pad);
  });
  def('replace', [S, S, S], (o: string, n: string, s: string) => {
    if (o === '') {
      // strings.Replace with empty old inserts n before each rune and at end
      return n + [...s].join(n) + (s.length > 0 ? n : '');
    }
    return s.replaceAll(o, n);
  });
  def('plural', [S, S, I], (one: string, many: string, c: bigint) => (c === 1n ? one : many));
  def('sha1sum', [S], (s: string) => hexHash('sha1', s));
  def('sha256sum', [S], (s: string) => hexHash('sha256', s));
  def('sha512sum', [S], (s: string) => hexHash('sha512', s));
  def('adler32sum', [S], (s: string) => String(adler32(utf8Bytes(s))));
  def('toString', [A], strval);
  def('atoi', [S], (s: string) => {
    try {
      return parseInt64(s, false);
    } catch (e) {
      if (e instanceof RangeOrSyntax && e.reason === 'range') return s.startsWith('-') ? -(1n << 63n) : (1n << 63n) - 1n;
      return 0n;
    }
  });
  def('int64', [A], (v: unknown) => i64(toInt64(v)));
  def('int', [A], (v: unknown) => goInt(toInt64(v)));
  def('float64', [A], toFloat64);
  def('seq', [I], seq, true);
  def('toDecimal', [A], toDecimal);
  def('split', [S, S], (sep: string, s: string) => {
    const parts = goSplit(s, sep);
    const r = new Map<string, unknown>();
    parts.forEach((p, i) => r.set('_' + i, p));
    return mkMap(r, 'map[string]string');
  });
  def('splitList', [S, S], (sep: string, s: string) => strs(goSplit(s, sep)));
  def('splitn', [S, I, S], (sep: string, n: bigint, s: string) => {
    const parts = goSplit(s, sep, Number(n));
    const r = new Map<string, unknown>();
    parts.forEach((p, i) => r.set('_' + i, p));
    return mkMap(r, 'map[string]string');
  });
  def('toStrings', [A], (v: unknown) => strs(strslice(v)));
  def('until', [I], (c: bigint) => intsSlice(untilStep(0n, c, c < 0n ? -1n : 1n)));
  def('untilStep', [I, I, I], (a: bigint, b: bigint, c: bigint) => intsSlice(untilStep(a, b, c)));

  // math
  def('add1', [A], (v: unknown) => i64(toInt64(v) + 1n));
  def('add', [A], (...v: unknown[]) => i64(v.reduce<bigint>((a, b) => BigInt.asIntN(64, a + toInt64(b)), 0n)), true);
  def('sub', [A, A], (a: unknown, b: unknown) => i64(toInt64(a) - toInt64(b)));
  def('div', [A, A], (a: unknown, b: unknown) => {
    const d = toInt64(b);
    if (d === 0n) throw new GoError('runtime error: integer divide by zero');
    const n = toInt64(a);
    if (n === -(1n << 63n) && d === -1n) return i64(n);
    return i64(n / d);
  });
  def('mod', [A, A], (a: unknown, b: unknown) => {
    const d = toInt64(b);
    if (d === 0n) throw new GoError('runtime error: integer divide by zero');
    const n = toInt64(a);
    if (d === -1n) return i64(0n);
    return i64(n % d);
  });
  def('mul', [A, A], (a: unknown, ...v: unknown[]) => i64(v.reduce<bigint>((x, y) => BigInt.asIntN(64, x * toInt64(y)), toInt64(a))), true);
  def('randInt', [I, I], (a: bigint, b: bigint) => {
    const n = b - a;
    if (n <= 0n) throw new GoError('invalid argument to Intn');
    return a + BigInt(Math.floor(Math.random() * Number(n)));
  });
  def('add1f', [A], (v: unknown) => decimalOp(v, [1n], 'add'));
  def('addf', [A], (...v: unknown[]) => decimalOp(0, v, 'add'), true);
  def('subf', [A, A], (a: unknown, ...v: unknown[]) => decimalOp(a, v, 'sub'), true);
  def('divf', [A, A], (a: unknown, ...v: unknown[]) => decimalOp(a, v, 'div'), true);
  def('mulf', [A, A], (a: unknown, ...v: unknown[]) => decimalOp(a, v, 'mul'), true);
  const max = (a: unknown, ...v: unknown[]): TypedInt => i64(v.reduce<bigint>((x, y) => { const b = toInt64(y); return b > x ? b : x; }, toInt64(a)));
  const min = (a: unknown, ...v: unknown[]): TypedInt => i64(v.reduce<bigint>((x, y) => { const b = toInt64(y); return b < x ? b : x; }, toInt64(a)));
  def('biggest', [A, A], max, true);
  def('max', [A, A], max, true);
  def('min', [A, A], min, true);
  const gomax = (x: number, y: number): number => {
    if (x === Infinity || y === Infinity) return Infinity;
    if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
    if (x === 0 && y === 0) return Object.is(x, -0) ? y : x;
    return x > y ? x : y;
  };
  const gomin = (x: number, y: number): number => {
    if (x === -Infinity || y === -Infinity) return -Infinity;
    if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
    if (x === 0 && y === 0) return Object.is(x, -0) ? x : y;
    return x < y ? x : y;
  };
  def('maxf', [A, A], (a: unknown, ...v: unknown[]) => v.reduce<number>((x, y) => gomax(x, toFloat64(y)), toFloat64(a)), true);
  def('minf', [A, A], (a: unknown, ...v: unknown[]) => v.reduce<number>((x, y) => gomin(x, toFloat64(y)), toFloat64(a)), true);
  def('ceil', [A], (a: unknown) => Math.ceil(toFloat64(a)));
  def('floor', [A], (a: unknown) => Math.floor(toFloat64(a)));
  def('round', [A, I, 'float64'], (a: unknown, p: bigint, ...r: number[]) => goRound(a, p, r), true);

  // lists
  def('join', [S, A], (sep: string, v: unknown) => strslice(v).join(sep));
  def('sortAlpha', [A], (v: unknown) => {
    if (Array.isArray(v)) return strs([...strslice(v)].sort(compareGoStrings));
    return strs([strval(v)]);
  });
  def('default', [A, A], (d: unknown, ...given: unknown[]) => (given.length === 0 || empty(given[0]) ? d : given[0]), true);
  def('empty', [A], empty);
  def('coalesce', [A], (...v: unknown[]) => v.find((x) => !empty(x)) ?? null, true);
  def('all', [A], (...v: unknown[]) => v.every((x) => !empty(x)), true);
  def('any', [A], (...v: unknown[]) => v.some((x) => !empty(x)), true);
  const compact = (l: unknown): unknown[] => asList(l, 'Cannot compact on type').filter((x) => !empty(x));
  def('compact', [A], compact);
  def('mustCompact', [A], compact);
  def('fromJson', [S], (s: string) => {
    try {
      return jsonUnmarshal(s);
    } catch (e) {
      if (e instanceof GoError) return null;
      throw e;
    }
  });
  def('mustFromJson', [S], jsonUnmarshal);
  def('toJson', [A], (v: unknown) => {
    try {
      return jsonMarshal(v);
    } catch (e) {
      if (e instanceof GoError) return '';
      throw e;
    }
  });
  def('mustToJson', [A], (v: unknown) => jsonMarshal(v));
  def('toPrettyJson', [A], (v: unknown) => {
    try {
      return jsonMarshal(v, true, '  ');
    } catch (e) {
      if (e instanceof GoError) return '';
      throw e;
    }
  });
  def('mustToPrettyJson', [A], (v: unknown) => jsonMarshal(v, true, '  '));
  def('toRawJson', [A], (v: unknown) => jsonMarshal(v, false));
  def('mustToRawJson', [A], (v: unknown) => jsonMarshal(v, false));
  def('ternary', [A, A, 'bool'], (t: unknown, f: unknown, c: boolean) => (c ? t : f));
  def('deepCopy', [A], (v: unknown) => {
    if (isNil(v)) throw new GoError('deepCopy error: reflect: call of reflect.Value.Type on zero Value');
    return deepCopy(v);
  });
  def('mustDeepCopy', [A], (v: unknown) => (isNil(v) ? null : deepCopy(v)));
  def('typeOf', [A], (v: unknown) => (isNil(v) ? '<nil>' : typeName(v)));
  def('typeIs', [S, A], (t: string, v: unknown) => t === (isNil(v) ? '<nil>' : typeName(v)));
  def('typeIsLike', [S, A], (t: string, v: unknown) => {
    const n = isNil(v) ? '<nil>' : typeName(v);
    return t === n || '*' + t === n;
  });
  def('kindOf', [A], (v: unknown) => kindName(v));
  def('kindIs', [S, A], (t: string, v: unknown) => t === kindName(v));
  def('deepEqual', [A, A], deepEqual);
  m.set('getHostByName', unsupported('getHostByName'));

  // paths
  def('base', [S], pathBase);
  def('dir', [S], pathDir);
  def('clean', [S], pathClean);
  def('ext', [S], pathExt);
  def('isAbs', [S], (p: string) => p.startsWith('/'));
  def('osBase', [S], pathBase);
  def('osClean', [S], pathClean);
  def('osDir', [S], pathDir);
  def('osExt', [S], pathExt);
  def('osIsAbs', [S], (p: string) => p.startsWith('/'));

  // encoding
  def('b64enc', [S], (s: string) => b64encode(strBytes(s)));
  def('b64dec', [S], (s: string) => {
    try {
      return goStringFromBytes(b64decode(strBytes(s)));
    } catch (e) {
      if (e instanceof GoError) return e.message;
      throw e;
    }
  });
  def('b32enc', [S], (s: string) => b32encode(strBytes(s)));
  def('b32dec', [S], (s: string) => {
    try {
      return goStringFromBytes(b32decode(strBytes(s)));
    } catch (e) {
      if (e instanceof GoError) return e.message;
      throw e;
    }
  });

  def('hexdec', [S], hexdecode);

  // lists & dicts
  def('tuple', [A], (...v: unknown[]) => v, true);
  def('list', [A], (...v: unknown[]) => v, true);
  def('dict', [A], (...v: unknown[]) => {
    const d = new Map<string, unknown>();
    for (let i = 0; i < v.length; i += 2) {
      const key = strval(v[i]);
      d.set(key, i + 1 >= v.length ? '' : v[i + 1]);
    }
    return d;
  }, true);
  def('get', [MAP, S], (d: Map<string, unknown>, k: string) => (d.has(k) ? d.get(k) : ''));
  def('set', [MAP, S, A], (d: Map<string, unknown>, k: string, v: unknown) => {
    d.set(k, v);
    return d;
  });
  def('unset', [MAP, S], (d: Map<string, unknown>, k: string) => {
    d.delete(k);
    return d;
  });
  def('hasKey', [MAP, S], (d: Map<string, unknown>, k: string) => d.has(k));
  def('pluck', [S, MAP], (k: string, ...ds: Map<string, unknown>[]) => ds.filter((d) => d.has(k)).map((d) => d.get(k)), true);
  def('keys', [MAP], (...ds: Map<string, unknown>[]) => strs(ds.flatMap((d) => sortedKeys(d))), true);
  def('pick', [MAP, S], (d: Map<string, unknown>, ...ks: string[]) => {
    const r = new Map<string, unknown>();
    for (const k of ks) if (d.has(k)) r.set(k, d.get(k));
    return r;
  }, true);
  def('omit', [MAP, S], (d: Map<string, unknown>, ...ks: string[]) => {
    const r = new Map<string, unknown>();
    const o = new Set(ks);
    for (const [k, v] of d) if (!o.has(k)) r.set(k, v);
    return r;
  }, true);
  const merge = (ow: boolean) => (dst: Map<string, unknown>, ...srcs: Map<string, unknown>[]): unknown => {
    for (const s of srcs) mergeMaps(asMap(dst), s, ow);
    return dst;
  };
  def('merge', [MAP, MAP], merge(false), true);
  def('mergeOverwrite', [MAP, MAP], merge(true), true);
  def('mustMerge', [MAP, MAP], merge(false), true);
  def('mustMergeOverwrite', [MAP, MAP], merge(true), true);
  def('values', [MAP], (d: Map<string, unknown>) => sortedKeys(d).map((k) => d.get(k)));
  const push = (l: unknown, v: unknown): unknown[] => [...toListCopy(l, 'Cannot push on type'), v];
  def('append', [A, A], push);
  def('push', [A, A], push);
  def('mustAppend', [A, A], push);
  def('mustPush', [A, A], push);
  const prepend = (l: unknown, v: unknown): unknown[] => [v, ...toListCopy(l, 'Cannot prepend on type')];
  def('prepend', [A, A], prepend);
  def('mustPrepend', [A, A], prepend);
  const first = (l: unknown): unknown => {
    const a = asList(l, 'Cannot find first on type');
    return a.length === 0 ? null : a[0];
  };
  def('first', [A], first);
  def('mustFirst', [A], first);
  const rest = (l: unknown): unknown[] => asList(l, 'Cannot find rest on type').slice(1);
  def('rest', [A], rest);
  def('mustRest', [A], rest);
  const last = (l: unknown): unknown => {
    const a = asList(l, 'Cannot find last on type');
    return a.length === 0 ? null : a[a.length - 1];
  };
  def('last', [A], last);
  def('mustLast', [A], last);
  const initial = (l: unknown): unknown[] => {
    const a = asList(l, 'Cannot find initial on type');
    return a.slice(0, Math.max(0, a.length - 1));
  };
  def('initial', [A], initial);
  def('mustInitial', [A], initial);
  const reverse = (l: unknown): unknown[] => [...asList(l, 'Cannot find reverse on type')].reverse();
  def('reverse', [A], reverse);
  def('mustReverse', [A], reverse);
  const uniq = (l: unknown): unknown[] => {
    const out: unknown[] = [];
    for (const x of asList(l, 'Cannot find uniq on type')) if (!inList(out, x)) out.push(x);
    return out;
  };
  def('uniq', [A], uniq);
  def('mustUniq', [A], uniq);
  const without = (l: unknown, ...o: unknown[]): unknown[] => asList(l, 'Cannot find without on type').filter((x) => !inList(o, x));
  def('without', [A, A], without, true);
  def('mustWithout', [A, A], without, true);
  const has = (needle: unknown, hay: unknown): boolean => {
    if (isNil(hay)) return false;
    return inList(asList(hay, 'Cannot find has on type'), needle);
  };
  def('has', [A, A], has);
  def('mustHas', [A, A], has);
  def('slice', [A, A], sprigSlice, true);
  def('mustSlice', [A, A], sprigSlice, true);
  def('concat', [A], (...lists: unknown[]) => {
    const res: unknown[] = [];
    for (const l of lists) {
      if (isNil(l)) throw new GoError(nilDeref);
      if (!Array.isArray(l)) throw new GoError(`Cannot concat type ${kindStr(l)} as list`);
      pushAll(res, l);
    }
    return res;
  }, true);
  def('dig', [A], dig, true);
  def('chunk', [I, A], chunk);
  def('mustChunk', [I, A], chunk);

  // crypto
  def('bcrypt', [S], bcrypt);
  def('htpasswd', [S, S, S], htpasswd);
  def('genPrivateKey', [S], genPrivateKey);
  def('derivePassword', ['uint32', S, S, S, S], derivePassword);
  for (const [k, v] of certFuncs()) m.set(k, v);
  def('encryptAES', [S, S], encryptAES);
  def('decryptAES', [S, S], decryptAES);
  def('randBytes', [I], (n: bigint) => {
    checkStringLength(Number(n), 'randBytes');
    return randomBytes(Number(n)).toString('base64');
  });
  def('uuidv4', [], () => randomUUID());

  for (const [k, v] of semverFuncs()) m.set(k, v);
  def('fail', [S], (msg: string) => {
    throw new GoError(msg);
  });

  // regex
  def('regexMatch', [S, S], (re: string, s: string) => {
    let r;
    try {
      r = compile(re);
    } catch (e) {
      if (e instanceof GoError) return false; // as Go's regexp.MatchString: an invalid pattern matches nothing
      throw e;
    }
    return matchString(r, s);
  });
  def('mustRegexMatch', [S, S], (re: string, s: string) => matchString(compile(re), s));
  const strsOrNil = (a: string[] | null): unknown[] => strs(a ?? []);
  def('regexFindAll', [S, S, I], (re: string, s: string, n: bigint) => strsOrNil(findAllString(mustCompile(re), s, Number(n))));
  def('mustRegexFindAll', [S, S, I], (re: string, s: string, n: bigint) => strsOrNil(findAllString(compile(re), s, Number(n))));
  def('regexFind', [S, S], (re: string, s: string) => findString(mustCompile(re), s));
  def('mustRegexFind', [S, S], (re: string, s: string) => findString(compile(re), s));
  def('regexReplaceAll', [S, S, S], (re: string, s: string, r: string) => replaceAll(mustCompile(re), s, r, false));
  def('mustRegexReplaceAll', [S, S, S], (re: string, s: string, r: string) => replaceAll(compile(re), s, r, false));
  def('regexReplaceAllLiteral', [S, S, S], (re: string, s: string, r: string) => replaceAll(mustCompile(re), s, r, true));
  def('mustRegexReplaceAllLiteral', [S, S, S], (re: string, s: string, r: string) => replaceAll(compile(re), s, r, true));
  def('regexSplit', [S, S, I], (re: string, s: string, n: bigint) => strsOrNil(reSplit(mustCompile(re), s, Number(n))));
  def('mustRegexSplit', [S, S, I], (re: string, s: string, n: bigint) => strsOrNil(reSplit(compile(re), s, Number(n))));
  def('regexQuoteMeta', [S], quoteMeta);

  def('urlParse', [S], urlParse);
  def('urlJoin', [MAP], urlJoin);
  return m;
}

// sprig derivePassword (Master Password algorithm v3)
const templates: Record<string, string[]> = {
  maximum: ['anoxxxxxxxxxxxxxxxxx', 'axxxxxxxxxxxxxxxxxno'],
  long: ['CvcvnoCvcvCvcv', 'CvcvCvcvnoCvcv', 'CvcvCvcvCvcvno', 'CvccnoCvcvCvcv', 'CvccCvcvnoCvcv', 'CvccCvcvCvcvno', 'CvcvnoCvccCvcv', 'CvcvCvccnoCvcv', 'CvcvCvccCvcvno', 'CvcvnoCvcvCvcc', 'CvcvCvcvnoCvcc', 'CvcvCvcvCvccno', 'CvccnoCvccCvcv', 'CvccCvccnoCvcv', 'CvccCvccCvcvno', 'CvcvnoCvccCvcc', 'CvcvCvccnoCvcc', 'CvcvCvccCvccno', 'CvccnoCvcvCvcc', 'CvccCvcvnoCvcc', 'CvccCvcvCvccno'],
  medium: ['CvcnoCvc', 'CvcCvcno'],
  short: ['Cvcn'],
  basic: ['aaanaaan', 'aannaaan', 'aaannaaa'],
  pin: ['nnnn'],
};
const passChars: Record<string, string> = {
  V: 'AEIOU', C: 'BCDFGHJKLMNPQRSTVWXYZ', v: 'aeiou', c: 'bcdfghjklmnpqrstvwxyz', A: 'AEIOUBCDFGHJKLMNPQRSTVWXYZ',
  a: 'AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz', n: '0123456789', o: "@&%?,=[]_:-+*$#!'^~;()/.", x: "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
};

function derivePassword(counter: TypedInt, passwordType: string, password: string, user: string, site: string): string {
  const tpls = templates[passwordType];
  if (!tpls) return `cannot find password template ${passwordType}`;
  // scrypt(password, "com.lyndir.masterpassword" + len(user) + user, N=32768, r=8, p=2, 64)
  const ns = 'com.lyndir.masterpassword';
  const u = Buffer.from(user, 'utf8');
  const salt = Buffer.concat([Buffer.from(ns), u32(u.length), u]);
  const key = scryptSync(Buffer.from(password, 'utf8'), salt);
  const s = Buffer.from(site, 'utf8');
  const seedMsg = Buffer.concat([Buffer.from(ns), u32(s.length), s, u32(Number(counter.v))]);
  const seed = hmac(key, seedMsg);
  const tpl = tpls[seed[0]! % tpls.length]!;
  let out = '';
  for (let i = 0; i < tpl.length; i++) {
    const chars = passChars[tpl[i]!]!;
    out += chars[seed[i + 1]! % chars.length];
  }
  return out;
}

import { scryptSync as nodeScrypt, createHmac } from 'node:crypto';
function scryptSync(pw: Buffer, salt: Buffer): Buffer {
  return nodeScrypt(pw, salt, 64, { N: 32768, r: 8, p: 2, maxmem: 256 * 1024 * 1024 });
}
function hmac(key: Buffer, msg: Buffer): Buffer {
  return createHmac('sha256', key).update(msg).digest();
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
void pbkdf2Sync;
