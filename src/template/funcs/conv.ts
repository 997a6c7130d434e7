// Shared conversions used by sprig functions (spf13/cast semantics, strval, empty, JSON).

import { INVALID, TypedInt, GoBytes, GoTime, GoStruct, mkSlice, mkMap, isUnsignedKind, str, typeName, sortedKeys } from '../values.ts';
import { sprintf } from '../fmt.ts';
import { timeString } from '../gotime.ts';
import { parseInt64, parseFloat64, formatFloat, quote } from '../strconv.ts';
import { GoError } from '../exec.ts';
import { goJsonFloat, goJsonString } from '../../go/json.ts';

export const I64_MIN = -(1n << 63n);

export function isNil(v: unknown): boolean {
  return v === null || v === undefined || v === INVALID;
}

// Go float64 -> int64 conversion (amd64 semantics for out of range values)
function f2i(f: number): bigint {
  if (!Number.isFinite(f) || f >= 9223372036854775808 || f < -9223372036854775808) return I64_MIN;
  return BigInt(Math.trunc(f));
}

function trimZeroDecimal(s: string): string {
  let foundZero = false;
  for (let i = s.length; i > 0; i--) {
    const c = s[i - 1];
    if (c === '.') {
      if (foundZero) return s.slice(0, i - 1);
    } else if (c === '0') foundZero = true;
    else return s;
  }
  return s;
}

// cast.ToInt64 (errors -> 0)
export function toInt64(v: unknown): bigint {
  if (isNil(v)) return 0n;
  switch (typeof v) {
    case 'bigint': return v;
    case 'number': return f2i(v);
    case 'boolean': return v ? 1n : 0n;
    case 'string':
      try {
        return parseInt64(trimZeroDecimal(v));
      } catch {
        return 0n;
      }
  }
  if (v instanceof TypedInt) return BigInt.asIntN(64, v.v);
  if (v instanceof GoBytes) return toInt64(str(v));
  return 0n;
}

export function toFloat64(v: unknown): number {
  if (isNil(v)) return 0;
  switch (typeof v) {
    case 'bigint': return Number(v);
    case 'number': return v;
    case 'boolean': return v ? 1 : 0;
    case 'string':
      try {
        return parseFloat64(v);
      } catch {
        return 0;
      }
  }
  if (v instanceof TypedInt) return Number(v.v);
  return 0;
}

// sprig strval
export function strval(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof GoBytes) return str(v);
  if (v instanceof GoTime) return timeString(v);
  if (v instanceof GoStruct && v.stringer) return v.stringer();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return sprintf('%v', [isNil(v) ? null : v]);
}

export function empty(v: unknown): boolean {
  if (isNil(v)) return true;
  switch (typeof v) {
    case 'string': return v.length === 0;
    case 'boolean': return !v;
    case 'number': return v === 0;
    case 'bigint': return v === 0n;
  }
  if (v instanceof TypedInt) return v.v === 0n;
  if (Array.isArray(v)) return v.length === 0;
  if (v instanceof Map) return v.size === 0;
  if (v instanceof GoBytes) return v.b.length === 0;
  if (v instanceof Uint8Array) return v.length === 0;
  return false;
}

// reflect.Kind of a non-nil value, as sprig prints it in errors
export function kindStr(v: unknown): string {
  if (Array.isArray(v)) return 'slice';
  if (v instanceof Map) return 'map';
  if (typeof v === 'string' || v instanceof GoBytes) return 'string';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof TypedInt) return v.kind;
  if (v instanceof GoTime) return 'struct';
  if (v instanceof GoStruct) return v.isPointer ? 'ptr' : 'struct';
  return 'invalid';
}

export const nilDeref = 'runtime error: invalid memory address or nil pointer dereference';

// reflect.TypeOf(list).Kind() switch used by sprig list functions
export function asList(v: unknown, what: string): unknown[] {
  if (isNil(v)) throw new GoError(nilDeref);
  if (Array.isArray(v)) return v;
  throw new GoError(`${what} ${kindStr(v)}`);
}

export function strSlice(a: string[]): unknown[] {
  return mkSlice(a, '[]string');
}

export function ifaceSlice(a: unknown[]): unknown[] {
  return a;
}

// reflect.DeepEqual over our values
export function deepEqual(a: unknown, b: unknown): boolean {
  if (isNil(a) || isNil(b)) return isNil(a) && isNil(b);
  if (typeName(a) !== typeName(b)) return false;
  if (typeof a === 'number') return a === b; // NaN != NaN
  if (a instanceof TypedInt) return a.v === (b as TypedInt).v;
  if (a instanceof GoBytes) return Buffer.compare(a.b, (b as GoBytes).b) === 0;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  if (a instanceof Map) {
    const bm = b as Map<string, unknown>;
    if (a.size !== bm.size) return false;
    for (const [k, v] of a) if (!bm.has(k) || !deepEqual(v, bm.get(k))) return false;
    return true;
  }
  if (a instanceof GoTime) return a.ns === (b as GoTime).ns && a.offset === (b as GoTime).offset;
  return a === b;
}

// ---------------------------------------------------------------- encoding/json

const jsonString = goJsonString;

/** encoding/json's float64 (src/go/json.ts), with the template's error type for NaN and ±Inf. */
export function jsonFloat(f: number): string {
  if (!Number.isFinite(f)) throw new GoError(`json: unsupported value: ${formatFloat(f, 'g', -1)}`);
  return goJsonFloat(f);
}

export function jsonMarshal(v: unknown, escapeHTML = true, indent = '', prefix = ''): string {
  const enc = (x: unknown, cur: string): string => {
    if (isNil(x)) return 'null';
    switch (typeof x) {
      case 'string': return jsonString(x, escapeHTML);
      case 'boolean': return x ? 'true' : 'false';
      case 'bigint': return x.toString();
      case 'number': return jsonFloat(x);
    }
    if (x instanceof TypedInt) return x.v.toString();
    if (x instanceof GoBytes) return jsonString(str(x), escapeHTML);
    if (x instanceof GoTime) return '"' + formatRFC3339Nano(x) + '"';
    if (x instanceof Uint8Array) return '"' + Buffer.from(x).toString('base64') + '"';
    const next = cur + indent;
    if (Array.isArray(x)) {
      if (x.length === 0) return '[]';
      if (!indent) return '[' + x.map((e) => enc(e, next)).join(',') + ']';
      return '[\n' + x.map((e) => prefix + next + enc(e, next)).join(',\n') + '\n' + prefix + cur + ']';
    }
    if (x instanceof Map) {
      const keys = sortedKeys(x);
      if (keys.length === 0) return '{}';
      const items = keys.map((k) => jsonString(k, escapeHTML) + (indent ? ': ' : ':') + enc(x.get(k), next));
      if (!indent) return '{' + items.join(',') + '}';
      return '{\n' + items.map((i) => prefix + next + i).join(',\n') + '\n' + prefix + cur + '}';
    }
    if (x instanceof GoStruct) {
      const keys = [...x.fields.keys()];
      if (keys.length === 0) return '{}';
      const items = keys.map((k) => jsonString(k, escapeHTML) + (indent ? ': ' : ':') + enc(x.fields.get(k), next));
      if (!indent) return '{' + items.join(',') + '}';
      return '{\n' + items.map((i) => prefix + next + i).join(',\n') + '\n' + prefix + cur + '}';
    }
    throw new GoError(`json: unsupported type: ${typeName(x)}`);
  };
  return enc(v, '');
}

function formatRFC3339Nano(t: GoTime): string {
  // lazy import cycle avoidance
  return timeFormatter(t, '2006-01-02T15:04:05.999999999Z07:00');
}

let timeFormatter: (t: GoTime, l: string) => string = () => '';
export function setTimeFormatter(f: (t: GoTime, l: string) => string): void {
  timeFormatter = f;
}

// encoding/json Unmarshal into interface{}: objects -> map[string]interface{}, numbers -> float64.
export class JSONSyntaxError extends GoError {}

export function jsonUnmarshal(s: string): unknown {
  let i = 0;
  const n = s.length;
  const ws = (): void => {
    while (i < n && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  const fail = (msg?: string): never => {
    if (msg) throw new JSONSyntaxError(msg);
    if (i >= n) throw new JSONSyntaxError('unexpected end of JSON input');
    const ch = s[i]!;
    throw new JSONSyntaxError(`invalid character ${quoteChar(ch)} ${ctx}`);
  };
  let ctx = 'looking for beginning of value';
  const value = (): unknown => {
    ws();
    ctx = 'looking for beginning of value';
    if (i >= n) fail();
    const c = s[i]!;
    if (c === '{') {
      i++;
      const m = new Map<string, unknown>();
      ws();
      if (s[i] === '}') {
        i++;
        return m;
      }
      for (;;) {
        ws();
        ctx = 'looking for beginning of object key string';
        if (s[i] !== '"') fail();
        const k = string();
        ws();
        ctx = 'after object key';
        if (s[i] !== ':') fail();
        i++;
        const v = value();
        m.set(k, v);
        ws();
        ctx = 'after object key:value pair';
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === '}') {
          i++;
          return m;
        }
        fail();
      }
    }
    if (c === '[') {
      i++;
      const a: unknown[] = [];
      ws();
      if (s[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value());
        ws();
        ctx = 'after array element';
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === ']') {
          i++;
          return a;
        }
        fail();
      }
    }
    if (c === '"') return string();
    if (s.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (s.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (s.startsWith('null', i)) {
      i += 4;
      return null;
    }
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(s.slice(i, i + 400));
    if (m && m[0] !== '-' && m[0] !== '') {
      i += m[0].length;
      const f = Number(m[0]);
      if (!Number.isFinite(f)) throw new GoError(`json: cannot unmarshal number ${m[0]} into Go value of type float64`);
      return f;
    }
    if (c === 't' || c === 'f' || c === 'n') {
      // partial literal
      const lit = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
      let j = 0;
      while (i + j < n && s[i + j] === lit[j]) j++;
      i += j;
      ctx = `in literal ${lit} (expecting ${quoteChar(lit[j]!)})`;
      if (i >= n) fail(`invalid character ' ' ${ctx}`);
      fail();
    }
    if (c === '-') {
      i++;
      ctx = 'in numeric literal';
      if (i >= n) fail(`invalid character ' ' ${ctx}`);
      fail();
    }
    fail();
  };
  const string = (): string => {
    i++;
    let out = '';
    for (;;) {
      if (i >= n) fail();
      const c = s[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\') {
        const e = s[i + 1];
        i += 2;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const h = s.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) {
              ctx = 'in \\u hexadecimal character escape';
              while (i < n && /[0-9a-fA-F]/.test(s[i]!)) i++;
              fail();
            }
            out += String.fromCharCode(parseInt(h, 16));
            i += 4;
            break;
          }
          default:
            i--;
            ctx = 'in string escape code';
            fail();
        }
        continue;
      }
      if (c.charCodeAt(0) < 0x20) {
        ctx = 'in string literal';
        fail();
      }
      out += c;
      i++;
    }
  };
  const v = value();
  ws();
  if (i < n) {
    ctx = 'after top-level value';
    fail();
  }
  return fixSurrogates(v);
}

function fixSurrogates(v: unknown): unknown {
  if (typeof v === 'string') return v.isWellFormed() ? v : v.toWellFormed();
  if (Array.isArray(v)) return v.map(fixSurrogates);
  if (v instanceof Map) {
    const m = new Map<string, unknown>();
    for (const [k, x] of v) m.set(fixSurrogates(k) as string, fixSurrogates(x));
    return m;
  }
  return v;
}

function quoteChar(ch: string): string {
  // Go's quoteChar: '\'' -> `'\''`, '"' -> `'"'`, else strconv.Quote with ' delimiters
  if (ch === "'") return "'\\''";
  if (ch === '"') return '\'"\'';
  const q = quote(ch);
  return "'" + q.slice(1, -1) + "'";
}

export { mkMap, mkSlice, isUnsignedKind };
