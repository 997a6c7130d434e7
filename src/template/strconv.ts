// Go strconv / unicode / utf8 helpers used by the template engine.
// Strings are JS strings (UTF-16); Go counts bytes of their UTF-8 encoding.

const decoder = new TextDecoder('utf-8');

export class SyntaxError_ extends Error {}

export function utf8Bytes(s: string): Uint8Array {
  // Buffer.from is ~10x faster than TextEncoder for short strings; return a plain Uint8Array view.
  const b = Buffer.from(s, 'utf8');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

export function bytesToString(b: Uint8Array): string {
  return decoder.decode(b);
}

// Number of UTF-8 bytes of s (fast path for ASCII).
export function utf8Len(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

const printRe = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const graphicExtraRe = /^[\p{Zs}]$/u;

// unicode.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space.
export function isPrint(r: number): boolean {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return false;
  return printRe.test(String.fromCodePoint(r));
}

export function isGraphic(r: number): boolean {
  if (isPrint(r)) return true;
  if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return false;
  return graphicExtraRe.test(String.fromCodePoint(r));
}

const letterRe = /^\p{L}$/u;
const digitRe = /^\p{Nd}$/u;
const spaceRe = /^\s$/u;

export function isLetter(r: number): boolean {
  if (r < 0x80) return (r >= 0x41 && r <= 0x5a) || (r >= 0x61 && r <= 0x7a);
  return letterRe.test(String.fromCodePoint(r));
}

export function isDigit(r: number): boolean {
  if (r < 0x80) return r >= 0x30 && r <= 0x39;
  return digitRe.test(String.fromCodePoint(r));
}

// unicode.IsSpace
export function isSpaceRune(r: number): boolean {
  switch (r) {
    case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d: case 0x20: case 0x85: case 0xa0:
      return true;
  }
  if (r < 0x100) return false;
  return r !== 0xfeff && spaceRe.test(String.fromCodePoint(r));
}

const hexDigits = '0123456789abcdef';

function appendEscapedRune(out: string[], r: number, quote: number, asciiOnly: boolean, graphicOnly: boolean): void {
  if (r === quote || r === 0x5c) {
    out.push('\\' + String.fromCodePoint(r));
    return;
  }
  if (asciiOnly) {
    if (r < 0x80 && isPrint(r)) {
      out.push(String.fromCodePoint(r));
      return;
    }
  } else if (isPrint(r) || (graphicOnly && isGraphic(r))) {
    out.push(String.fromCodePoint(r));
    return;
  }
  switch (r) {
    case 0x07: out.push('\\a'); return;
    case 0x08: out.push('\\b'); return;
    case 0x0c: out.push('\\f'); return;
    case 0x0a: out.push('\\n'); return;
    case 0x0d: out.push('\\r'); return;
    case 0x09: out.push('\\t'); return;
    case 0x0b: out.push('\\v'); return;
  }
  if (r < 0x20 || r === 0x7f) {
    out.push('\\x' + hexDigits[r >> 4]! + hexDigits[r & 0xf]!);
  } else if (r >= 0xd800 && r <= 0xdfff) {
    // lone surrogate: Go would see invalid UTF-8 bytes; emit replacement escape
    out.push('\\ufffd');
  } else if (r < 0x10000) {
    out.push('\\u' + r.toString(16).padStart(4, '0'));
  } else {
    out.push('\\U' + r.toString(16).padStart(8, '0'));
  }
}

// strconv.Quote / QuoteToASCII / QuoteToGraphic
const plainQuotable = /^[ !#-[\]-~]*$/; // printable ASCII except " and \

export function quote(s: string, asciiOnly = false, graphicOnly = false): string {
  if (plainQuotable.test(s)) return '"' + s + '"';
  // Copy runs of plain characters as slices; escape the rest rune by rune.
  const out: string[] = ['"'];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x7f && c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    if (i > start) out.push(s.slice(start, i));
    const r = s.codePointAt(i)!;
    if (r > 0xffff) i++;
    appendEscapedRune(out, r, 0x22, asciiOnly, graphicOnly);
    start = i + 1;
  }
  if (start < s.length) out.push(s.slice(start));
  out.push('"');
  return out.join('');
}

export function quoteRune(r: number, asciiOnly = false): string {
  if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff) || r < 0) r = 0xfffd;
  const out: string[] = ["'"];
  appendEscapedRune(out, r, 0x27, asciiOnly, false);
  out.push("'");
  return out.join('');
}

export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (r === 0xfeff) return false;
    if (r < 0x80) {
      if ((r < 0x20 && r !== 0x09) || r === 0x60 || r === 0x7f) return false;
    }
    if (r === 0xfffd) return false; // Go rejects invalid UTF-8; a literal U+FFFD is fine but we cannot distinguish
  }
  return true;
}

function unhex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

// strconv.UnquoteChar. s is a JS string; returns [value, isMultibyteRune/isByte, tail].
// byteValue=true means value is a raw byte (\x or octal escape), not a rune.
export function unquoteChar(s: string, quoteCh: number): { value: number; isByte: boolean; tail: string } {
  const c0 = s.codePointAt(0);
  if (c0 === undefined) throw new SyntaxError_('invalid syntax');
  if (c0 === quoteCh && (quoteCh === 0x27 || quoteCh === 0x22)) throw new SyntaxError_('invalid syntax');
  if (c0 !== 0x5c) {
    const w = c0 > 0xffff ? 2 : 1;
    return { value: c0, isByte: false, tail: s.slice(w) };
  }
  if (s.length <= 1) throw new SyntaxError_('invalid syntax');
  const c = s.charCodeAt(1);
  let rest = s.slice(2);
  switch (c) {
    case 0x61: return { value: 7, isByte: false, tail: rest };
    case 0x62: return { value: 8, isByte: false, tail: rest };
    case 0x66: return { value: 12, isByte: false, tail: rest };
    case 0x6e: return { value: 10, isByte: false, tail: rest };
    case 0x72: return { value: 13, isByte: false, tail: rest };
    case 0x74: return { value: 9, isByte: false, tail: rest };
    case 0x76: return { value: 11, isByte: false, tail: rest };
    case 0x78: case 0x75: case 0x55: {
      const n = c === 0x78 ? 2 : c === 0x75 ? 4 : 8;
      if (rest.length < n) throw new SyntaxError_('invalid syntax');
      let v = 0;
      for (let j = 0; j < n; j++) {
        const x = unhex(rest.charCodeAt(j));
        if (x < 0) throw new SyntaxError_('invalid syntax');
        v = v * 16 + x;
      }
      rest = rest.slice(n);
      if (c === 0x78) return { value: v, isByte: true, tail: rest };
      if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new SyntaxError_('invalid syntax');
      return { value: v, isByte: false, tail: rest };
    }
    case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x36: case 0x37: {
      let v = c - 0x30;
      if (rest.length < 2) throw new SyntaxError_('invalid syntax');
      for (let j = 0; j < 2; j++) {
        const x = rest.charCodeAt(j) - 0x30;
        if (x < 0 || x > 7) throw new SyntaxError_('invalid syntax');
        v = v * 8 + x;
      }
      if (v > 255) throw new SyntaxError_('invalid syntax');
      return { value: v, isByte: true, tail: rest.slice(2) };
    }
    case 0x5c: return { value: 0x5c, isByte: false, tail: rest };
    case 0x27: case 0x22:
      if (c !== quoteCh) throw new SyntaxError_('invalid syntax');
      return { value: c, isByte: false, tail: rest };
    default:
      throw new SyntaxError_('invalid syntax');
  }
}

function pushRuneBytes(out: number[], r: number): void {
  if (r < 0x80) out.push(r);
  else if (r < 0x800) out.push(0xc0 | (r >> 6), 0x80 | (r & 0x3f));
  else if (r < 0x10000) out.push(0xe0 | (r >> 12), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
  else out.push(0xf0 | (r >> 18), 0x80 | ((r >> 12) & 0x3f), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
}

// strconv.Unquote for "..." `...` and '...'
export function unquote(s: string): string {
  const n = s.length;
  if (n < 2) throw new SyntaxError_('invalid syntax');
  const q = s.charCodeAt(0);
  if (q !== s.charCodeAt(n - 1)) throw new SyntaxError_('invalid syntax');
  const body = s.slice(1, n - 1);
  if (q === 0x60) {
    if (body.includes('`')) throw new SyntaxError_('invalid syntax');
    return body.includes('\r') ? body.replaceAll('\r', '') : body;
  }
  if (q !== 0x22 && q !== 0x27) throw new SyntaxError_('invalid syntax');
  if (body.includes('\n')) throw new SyntaxError_('invalid syntax');
  if (!body.includes('\\') && !body.includes(String.fromCharCode(q))) {
    if (q === 0x22) return body;
    if (q === 0x27) {
      const cps = [...body];
      if (cps.length === 1) return body;
    }
  }
  const bytes: number[] = [];
  let rest = body;
  while (rest.length > 0) {
    const { value, isByte, tail } = unquoteChar(rest, q);
    rest = tail;
    if (isByte) bytes.push(value);
    else pushRuneBytes(bytes, value);
    if (q === 0x27 && rest.length !== 0) throw new SyntaxError_('invalid syntax');
  }
  return bytesToString(Uint8Array.from(bytes));
}

// ---- integer parsing (strconv.ParseInt / ParseUint with base 0) ----

function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0') {
    const c = s[1]!.toLowerCase();
    if (c === 'b' || c === 'o' || c === 'x') {
      hex = c === 'x';
      i = 2;
      saw = '0';
    }
  }
  for (; i < s.length; i++) {
    const ch = s[i]!;
    if ((ch >= '0' && ch <= '9') || (hex && /[a-fA-F]/.test(ch))) {
      saw = '0';
      continue;
    }
    if (ch === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

// Returns bigint or throws with Go-ish reason: 'syntax' | 'range'
export function parseUint(s: string, base0 = true): bigint {
  if (s.length === 0) throw new RangeOrSyntax('syntax');
  let base = 10;
  let body = s;
  let allowUnderscore = false;
  if (base0) {
    if (s[0] === '0') {
      if (s.length >= 3 && (s[1] === 'b' || s[1] === 'B')) { base = 2; body = s.slice(2); }
      else if (s.length >= 3 && (s[1] === 'o' || s[1] === 'O')) { base = 8; body = s.slice(2); }
      else if (s.length >= 3 && (s[1] === 'x' || s[1] === 'X')) { base = 16; body = s.slice(2); }
      else { base = 8; body = s.slice(1); }
    }
    allowUnderscore = true;
  }
  let v = 0n;
  const b = BigInt(base);
  let sawUnderscore = false;
  for (const ch of body) {
    if (ch === '_' && allowUnderscore) { sawUnderscore = true; continue; }
    const d = unhex(ch.charCodeAt(0));
    const dd = ch >= '0' && ch <= '9' ? ch.charCodeAt(0) - 48 : d;
    if (dd < 0 || dd >= base) throw new RangeOrSyntax('syntax');
    v = v * b + BigInt(dd);
  }
  if (sawUnderscore && !underscoreOK(s)) throw new RangeOrSyntax('syntax');
  if (v > 0xffffffffffffffffn) throw new RangeOrSyntax('range');
  return v;
}

export class RangeOrSyntax extends Error {
  readonly reason: 'syntax' | 'range';
  constructor(reason: 'syntax' | 'range') {
    super(reason === 'syntax' ? 'invalid syntax' : 'value out of range');
    this.reason = reason;
  }
}

export function parseInt64(s: string, base0 = true): bigint {
  if (s.length === 0) throw new RangeOrSyntax('syntax');
  let neg = false;
  let body = s;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    body = s.slice(1);
  }
  const u = parseUint(body, base0);
  if (!neg && u > 0x7fffffffffffffffn) throw new RangeOrSyntax('range');
  if (neg && u > 0x8000000000000000n) throw new RangeOrSyntax('range');
  return neg ? -u : u;
}

// strconv.ParseFloat(s, 64) including hex floats, inf/nan and underscores (base-prefixed only)
export function parseFloat64(s: string): number {
  const orig = s;
  let t = s;
  let sign = 1;
  if (t[0] === '+' || t[0] === '-') {
    if (t[0] === '-') sign = -1;
    t = t.slice(1);
  }
  const lower = t.toLowerCase();
  if (lower === 'inf' || lower === 'infinity') return sign * Infinity;
  if (lower === 'nan') return NaN;
  if (t.includes('_')) {
    if (!underscoreOK(orig)) throw new RangeOrSyntax('syntax');
    t = t.replaceAll('_', '');
  }
  if (/^0[xX]/.test(t)) {
    const m = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(t);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw new RangeOrSyntax('syntax');
    const ip = m[1]!;
    const fp = m[2] ?? '';
    let mant = BigInt('0x' + (ip + fp || '0'));
    let exp = Number(m[3]) - 4 * fp.length;
    // exact conversion: mant * 2^exp
    let v: number;
    if (mant === 0n) v = 0;
    else {
      // scale to avoid precision loss: use Number on big mantissa with rounding via string
      const bits = mant.toString(2).length;
      if (bits > 64) {
        const shift = bits - 64;
        const sticky = (mant & ((1n << BigInt(shift)) - 1n)) !== 0n ? 1n : 0n;
        mant = (mant >> BigInt(shift)) | sticky;
        exp += shift;
      }
      v = Number(mant) * Math.pow(2, exp);
      if (!Number.isFinite(v) && exp < 2000) {
        v = Number(mant) * Math.pow(2, exp - 100) * Math.pow(2, 100);
      }
      if (v === 0 && exp > -1200) {
        v = Number(mant) * Math.pow(2, exp + 200) * Math.pow(2, -200);
      }
    }
    if (!Number.isFinite(v)) throw new RangeOrSyntax('range');
    return sign * v;
  }
  if (!/^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(t)) throw new RangeOrSyntax('syntax');
  const v = Number(t);
  if (!Number.isFinite(v)) throw new RangeOrSyntax('range');
  return sign * v;
}

// ---- float formatting (strconv.FormatFloat for bitSize 64) ----

interface Digits {
  d: string; // significant digits, no leading zeros ('' for zero)
  dp: number; // decimal point position
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

// exact decimal representation of |x| (finite)
function exactDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  f64[0] = Math.abs(x);
  const bits = u64[0]!;
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  if (exp === 0) exp = 1;
  else mant |= 1n << 52n;
  exp -= 1075;
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    const k = -exp;
    digits = (mant * 5n ** BigInt(k)).toString();
    dp = digits.length - k;
  }
  // strip trailing zeros
  let end = digits.length;
  while (end > 0 && digits.charCodeAt(end - 1) === 48) end--;
  digits = digits.slice(0, end);
  // strip leading zeros (none expected)
  return { d: digits, dp };
}

function shortestDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const s = Math.abs(x).toExponential(); // shortest round-trip digits
  const e = s.indexOf('e');
  const mant = s.slice(0, e).replace('.', '');
  const exp = Number(s.slice(e + 1));
  let d = mant;
  let end = d.length;
  while (end > 0 && d.charCodeAt(end - 1) === 48) end--;
  d = d.slice(0, end);
  return { d, dp: exp + 1 };
}

// round digits to nd significant digits, half-to-even (digits are exact)
function roundDigits(dg: Digits, nd: number): Digits {
  if (nd < 0) return { d: '', dp: dg.dp };
  if (nd >= dg.d.length) return dg;
  const next = dg.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (nd + 1 < dg.d.length) up = true; // more nonzero digits follow (trailing zeros stripped)
  else up = nd > 0 && (dg.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  let d = dg.d.slice(0, nd);
  let dp = dg.dp;
  if (up) {
    const arr = d.split('');
    let i = arr.length - 1;
    while (i >= 0 && arr[i] === '9') {
      arr[i] = '0';
      i--;
    }
    if (i < 0) {
      d = '1';
      dp++;
    } else {
      arr[i] = String.fromCharCode(arr[i]!.charCodeAt(0) + 1);
      d = arr.join('');
    }
  }
  let end = d.length;
  while (end > 0 && d.charCodeAt(end - 1) === 48) end--;
  return { d: d.slice(0, end), dp };
}

function fmtE(neg: boolean, dg: Digits, prec: number, ch: string): string {
  let s = neg ? '-' : '';
  s += dg.d.length === 0 ? '0' : dg.d[0];
  if (prec > 0) {
    s += '.';
    let i = 1;
    const m = Math.min(dg.d.length, prec + 1);
    if (i < m) {
      s += dg.d.slice(i, m);
      i = m;
    }
    for (; i <= prec; i++) s += '0';
  }
  s += ch;
  let exp = dg.dp - 1;
  if (dg.d.length === 0) exp = 0;
  if (exp < 0) {
    s += '-';
    exp = -exp;
  } else s += '+';
  s += exp < 10 ? '0' + exp : String(exp);
  return s;
}

function fmtF(neg: boolean, dg: Digits, prec: number): string {
  let s = neg ? '-' : '';
  if (dg.dp > 0) {
    const m = Math.min(dg.d.length, dg.dp);
    s += dg.d.slice(0, m);
    for (let i = m; i < dg.dp; i++) s += '0';
  } else s += '0';
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = dg.dp + i - 1;
      s += j >= 0 && j < dg.d.length ? dg.d[j] : '0';
    }
  }
  return s;
}

function fmtX(x: number, prec: number, upper: boolean): string {
  // %x for floats: -0x1.23abcp+20
  const neg = x < 0 || Object.is(x, -0);
  let s = neg ? '-' : '';
  const ax = Math.abs(x);
  let mant: bigint;
  let exp: number;
  if (ax === 0) {
    mant = 0n;
    exp = 0;
  } else {
    f64[0] = ax;
    const bits = u64[0]!;
    exp = Number((bits >> 52n) & 0x7ffn);
    mant = bits & 0xfffffffffffffn;
    if (exp === 0) {
      // denormal: normalize
      exp = -1022;
      while ((mant & (1n << 52n)) === 0n) {
        mant <<= 1n;
        exp--;
      }
    } else {
      mant |= 1n << 52n;
      exp -= 1023;
    }
  }
  // mant has 53 bits with leading 1 at bit 52. Shift so leading 1 at bit 60 (4*15)
  mant <<= 8n; // now 61 bits: leading digit bit 60
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(4 * (15 - prec));
    const extra = mant & ((1n << shift) - 1n);
    mant >>= shift;
    const half = 1n << (shift - 1n);
    if (extra > half || (extra === half && (mant & 1n) === 1n)) mant++;
    mant <<= shift;
    if (mant >= 1n << 61n) {
      mant >>= 1n;
      exp++;
    }
  }
  const hex = upper ? '0123456789ABCDEF' : '0123456789abcdef';
  s += upper ? '0X' : '0x';
  s += String(Number(mant >> 60n) & 1);
  mant <<= 4n;
  mant &= (1n << 64n) - 1n;
  let frac = '';
  if (prec < 0) {
    let m = mant & ((1n << 64n) - 1n);
    // emit until remaining zero
    let digits = '';
    for (let i = 0; i < 15; i++) {
      digits += hex[Number((m >> 60n) & 0xfn)];
      m = (m << 4n) & ((1n << 64n) - 1n);
    }
    frac = digits.replace(/0+$/, '');
  } else {
    let m = mant;
    for (let i = 0; i < prec; i++) {
      frac += hex[Number((m >> 60n) & 0xfn)];
      m = (m << 4n) & ((1n << 64n) - 1n);
    }
  }
  if (frac.length > 0) s += '.' + frac;
  s += upper ? 'P' : 'p';
  if (exp < 0) {
    s += '-';
    exp = -exp;
  } else s += '+';
  s += exp < 10 ? '0' + exp : String(exp);
  return s;
}

export function formatFloat(x: number, fmt: string, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  if (fmt === 'x' || fmt === 'X') return fmtX(x, prec, fmt === 'X');
  if (fmt === 'b') {
    f64[0] = Math.abs(x);
    const bits = u64[0]!;
    let exp = Number((bits >> 52n) & 0x7ffn);
    let mant = bits & 0xfffffffffffffn;
    if (exp === 0) exp++;
    else mant |= 1n << 52n;
    exp -= 1075;
    return (neg ? '-' : '') + mant.toString() + 'p' + (exp >= 0 ? '+' : '') + exp;
  }
  const shortest = prec < 0;
  let dg: Digits;
  if (shortest) {
    dg = shortestDigits(x);
    switch (fmt) {
      case 'e': case 'E': prec = Math.max(dg.d.length - 1, 0); break;
      case 'f': prec = Math.max(dg.d.length - dg.dp, 0); break;
      case 'g': case 'G': prec = dg.d.length; break;
    }
  } else {
    dg = exactDigits(x);
    switch (fmt) {
      case 'e': case 'E': dg = roundDigits(dg, prec + 1); break;
      case 'f': dg = roundDigits(dg, dg.dp + prec); break;
      case 'g': case 'G':
        if (prec === 0) prec = 1;
        dg = roundDigits(dg, prec);
        break;
    }
  }
  switch (fmt) {
    case 'e': case 'E':
      return fmtE(neg, dg, prec, fmt);
    case 'f':
      return fmtF(neg, dg, prec);
    case 'g': case 'G': {
      let eprec = prec;
      if (eprec > dg.d.length && dg.d.length >= dg.dp) eprec = dg.d.length;
      if (shortest) eprec = 6;
      const exp = dg.dp - 1;
      if (exp < -4 || exp >= eprec) {
        if (prec > dg.d.length) prec = dg.d.length;
        return fmtE(neg, dg, prec - 1, fmt === 'g' ? 'e' : 'E');
      }
      if (prec > dg.dp) prec = dg.d.length;
      return fmtF(neg, dg, Math.max(prec - dg.dp, 0));
    }
  }
  return '%' + fmt;
}
