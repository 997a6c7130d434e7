// text/template builtin functions (funcs.go).

import { compareGoStrings } from '../go/sort.ts';
import { INVALID, TypedInt, GoBytes, typeName, mkSlice, isUnsignedKind, mapType, elemType, strBytes, goStringFromBytes, str } from './values.ts';
import type { GoFunc } from './values.ts';
import { GoError, zeroOf } from './exec.ts';
import { sprint, sprintf, sprintln } from './fmt.ts';
import { isPrint, utf8Bytes } from './strconv.ts';

type Kind = 'invalid' | 'bool' | 'int' | 'uint' | 'float' | 'string';

function basicKind(v: unknown): Kind {
  switch (typeof v) {
    case 'boolean': return 'bool';
    case 'bigint': return 'int';
    case 'number': return 'float';
    case 'string': return 'string';
  }
  if (v instanceof TypedInt) return isUnsignedKind(v.kind) ? 'uint' : 'int';
  if (v instanceof GoBytes) return 'string';
  return 'invalid';
}

function indirectInterface(v: unknown): unknown {
  return v === null || v === undefined ? INVALID : v;
}

function intOf(v: unknown): bigint {
  return typeof v === 'bigint' ? v : (v as TypedInt).v;
}

function strOf(v: unknown): string {
  return typeof v === 'string' ? v : str(v as GoBytes);
}

function isValid(v: unknown): boolean {
  return v !== INVALID;
}

export function truth(v: unknown): boolean {
  v = indirectInterface(v);
  if (v === INVALID) return false;
  switch (typeof v) {
    case 'string': return v.length > 0;
    case 'boolean': return v;
    case 'number': return v !== 0;
    case 'bigint': return v !== 0n;
  }
  if (v instanceof TypedInt) return v.v !== 0n;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (v instanceof GoBytes) return v.b.length > 0;
  return true;
}

function vstr(v: unknown): string {
  // %v of a reflect.Value
  return v === INVALID ? '<invalid reflect.Value>' : sprint([v]);
}

function isNilish(v: unknown): boolean {
  return v === INVALID || v === null;
}

export function eq(arg1: unknown, ...arg2: unknown[]): boolean {
  arg1 = indirectInterface(arg1);
  if (arg2.length === 0) throw new GoError('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (let arg of arg2) {
    arg = indirectInterface(arg);
    const k2 = basicKind(arg);
    let t = false;
    if (k1 !== k2) {
      if (k1 === 'int' && k2 === 'uint') t = intOf(arg1) >= 0n && intOf(arg1) === intOf(arg);
      else if (k1 === 'uint' && k2 === 'int') t = intOf(arg) >= 0n && intOf(arg1) === intOf(arg);
      else if (isValid(arg1) && isValid(arg)) {
        throw new GoError(`incompatible types for comparison: ${typeName(arg1)} and ${typeName(arg)}`);
      }
    } else {
      switch (k1) {
        case 'bool': t = arg1 === arg; break;
        case 'float': t = arg1 === arg; break;
        case 'int': case 'uint': t = intOf(arg1) === intOf(arg); break;
        case 'string': t = strOf(arg1) === strOf(arg); break;
        default: {
          const kind = (x: unknown): string => (x === INVALID ? 'invalid' : Array.isArray(x) ? 'slice' : x instanceof Map ? 'map' : typeName(x));
          const ka = kind(arg1);
          const kb = kind(arg);
          if (ka !== kb && ka !== 'invalid' && kb !== 'invalid') {
            throw new GoError(`non-comparable types ${sprintf('%s', [arg1])}: ${typeName(arg1)}, ${typeName(arg)}: ${sprintf('%v', [arg])}`);
          }
          if (isNilish(arg1) || isNilish(arg)) t = isNilish(arg) === isNilish(arg1);
          else {
            if (Array.isArray(arg) || arg instanceof Map) {
              throw new GoError(`non-comparable type ${sprintf('%s', [arg])}: ${typeName(arg)}`);
            }
            t = arg1 === arg;
          }
        }
      }
    }
    if (t) return true;
  }
  return false;
}

export function lt(arg1: unknown, arg2: unknown): boolean {
  arg1 = indirectInterface(arg1);
  const k1 = basicKind(arg1);
  if (k1 === 'invalid') throw new GoError('invalid type for comparison');
  arg2 = indirectInterface(arg2);
  const k2 = basicKind(arg2);
  if (k2 === 'invalid') throw new GoError('invalid type for comparison');
  if (k1 !== k2) {
    if (k1 === 'int' && k2 === 'uint') return intOf(arg1) < 0n || intOf(arg1) < intOf(arg2);
    if (k1 === 'uint' && k2 === 'int') return intOf(arg2) >= 0n && intOf(arg1) < intOf(arg2);
    throw new GoError(`incompatible types for comparison: ${typeName(arg1)} and ${typeName(arg2)}`);
  }
  switch (k1) {
    case 'bool': throw new GoError('invalid type for comparison');
    case 'float': return (arg1 as number) < (arg2 as number);
    case 'int': case 'uint': return intOf(arg1) < intOf(arg2);
    case 'string': return compareGoStrings(strOf(arg1), strOf(arg2)) < 0;
  }
  return false;
}

function le(a: unknown, b: unknown): boolean {
  return lt(a, b) || eq(a, b);
}

function indexArg(index: unknown, cap: number): number {
  let x: bigint;
  if (typeof index === 'bigint' || index instanceof TypedInt) x = intOf(index);
  else if (index === INVALID) throw new GoError('cannot index slice/array with nil');
  else throw new GoError(`cannot index slice/array with type ${typeName(index)}`);
  if (x < 0n || x > BigInt(cap)) throw new GoError(`index out of range: ${x}`);
  return Number(x);
}

function prepareArg(value: unknown, argType: string): unknown {
  if (value === INVALID) {
    throw new GoError(`value is nil; should be of type ${argType}`);
  }
  if (typeName(value) === argType) return value;
  throw new GoError(`value has type ${typeName(value)}; should be ${argType}`);
}

export function index(item: unknown, ...indexes: unknown[]): unknown {
  item = indirectInterface(item);
  if (item === INVALID) throw new GoError('index of untyped nil');
  for (let idx of indexes) {
    idx = indirectInterface(idx);
    if (item === null || item === INVALID) throw new GoError('index of nil pointer');
    if (Array.isArray(item)) {
      const x = indexArg(idx, item.length);
      if (x >= item.length) throw new GoError('reflect: slice index out of range');
      item = item[x];
    } else if (typeof item === 'string' || item instanceof GoBytes) {
      const b = strBytes(item);
      const x = indexArg(idx, b.length);
      if (x >= b.length) throw new GoError('reflect: string index out of range');
      item = new TypedInt('uint8', BigInt(b[x]!));
    } else if (item instanceof Map) {
      const key = prepareArg(idx, 'string') as string;
      if (item.has(key)) item = item.get(key);
      else item = zeroOf(elemType(mapType(item)));
    } else {
      throw new GoError(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

export function slice(item: unknown, ...indexes: unknown[]): unknown {
  item = indirectInterface(item);
  if (item === INVALID) throw new GoError('slice of untyped nil');
  if (indexes.length > 3) throw new GoError(`too many slice indexes: ${indexes.length}`);
  let cap: number;
  let len: number;
  let bytes: Uint8Array | null = null;
  if (typeof item === 'string' || item instanceof GoBytes) {
    if (indexes.length === 3) throw new GoError('cannot 3-index slice a string');
    bytes = strBytes(item);
    cap = len = bytes.length;
  } else if (Array.isArray(item)) {
    cap = len = item.length;
  } else throw new GoError(`can't slice item of type ${typeName(item)}`);
  const idx = [0, len, 0];
  indexes.forEach((ix, i) => {
    idx[i] = indexArg(indirectInterface(ix), cap);
  });
  if (idx[0]! > idx[1]!) throw new GoError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!) throw new GoError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (bytes) return goStringFromBytes(bytes.subarray(idx[0], idx[1]));
  return mkSlice((item as unknown[]).slice(idx[0], idx[1]), typeName(item));
}

function length(item: unknown): bigint {
  if (item === null) throw new GoError('len of nil pointer');
  if (item === INVALID) throw new GoError('reflect: call of reflect.Value.Type on zero Value');
  if (typeof item === 'string') return BigInt(Buffer.byteLength(item, 'utf8'));
  if (item instanceof GoBytes) return BigInt(item.b.length);
  if (Array.isArray(item)) return BigInt(item.length);
  if (item instanceof Map) return BigInt(item.size);
  throw new GoError(`len of type ${typeName(item)}`);
}

export function printableArgs(args: unknown[]): unknown[] {
  return args.map((a) => (a === null || a === INVALID ? '<no value>' : a));
}

function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(printableArgs(args));
}

export function htmlEscapeString(s: string): string {
  if (!/['"&<>\0]/.test(s)) return s;
  return s.replace(/['"&<>\0]/g, (c) => {
    switch (c) {
      case '\0': return '\uFFFD';
      case '"': return '&#34;';
      case "'": return '&#39;';
      case '&': return '&amp;';
      case '<': return '&lt;';
      default: return '&gt;';
    }
  });
}

export function jsEscapeString(s: string): string {
  let out = '';
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    switch (ch) {
      case '\\': out += '\\\\'; continue;
      case "'": out += "\\'"; continue;
      case '"': out += '\\"'; continue;
      case '<': out += '\\u003C'; continue;
      case '>': out += '\\u003E'; continue;
      case '&': out += '\\u0026'; continue;
      case '=': out += '\\u003D'; continue;
    }
    if (r < 0x20) {
      out += '\\u00' + r.toString(16).toUpperCase().padStart(2, '0');
    } else if (r >= 0x80 && !isPrint(r)) {
      out += '\\u' + r.toString(16).toUpperCase().padStart(4, '0');
    } else out += ch;
  }
  return out;
}

// url.QueryEscape
export function queryEscape(s: string): string {
  let out = '';
  for (const b of utf8Bytes(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const RV = 'reflect.Value';
const IF = 'interface {}';

export function builtinFuncs(): Map<string, GoFunc> {
  return new Map<string, GoFunc>([
    ['and', { params: [RV, RV], variadic: true, fn: () => INVALID }],
    ['or', { params: [RV, RV], variadic: true, fn: () => INVALID }],
    ['call', {
      params: [RV, RV], variadic: true,
      fn: (name: string, fn: unknown, ...args: unknown[]) => {
        fn = indirectInterface(fn);
        if (fn === INVALID) throw new GoError('call of nil');
        if (typeof fn !== 'function') throw new GoError(`non-function ${name} of type ${typeName(fn)}`);
        return (fn as (...a: unknown[]) => unknown)(...args);
      },
    }],
    ['html', { params: [IF], variadic: true, fn: (...a: unknown[]) => htmlEscapeString(evalArgs(a)) }],
    ['index', { params: [RV, RV], variadic: true, fn: index }],
    ['slice', { params: [RV, RV], variadic: true, fn: slice }],
    ['js', { params: [IF], variadic: true, fn: (...a: unknown[]) => jsEscapeString(evalArgs(a)) }],
    ['len', { params: [RV], fn: length }],
    ['not', { params: [RV], fn: (a: unknown) => !truth(a) }],
    ['print', { params: [IF], variadic: true, fn: (...a: unknown[]) => sprint(a) }],
    ['printf', { params: ['string', IF], variadic: true, fn: (f: string, ...a: unknown[]) => sprintf(f, a) }],
    ['println', { params: [IF], variadic: true, fn: (...a: unknown[]) => sprintln(a) }],
    ['urlquery', { params: [IF], variadic: true, fn: (...a: unknown[]) => queryEscape(evalArgs(a)) }],
    ['eq', { params: [RV, RV], variadic: true, fn: eq }],
    ['ge', { params: [RV, RV], fn: (a: unknown, b: unknown) => !lt(a, b) }],
    ['gt', { params: [RV, RV], fn: (a: unknown, b: unknown) => !le(a, b) }],
    ['le', { params: [RV, RV], fn: le }],
    ['lt', { params: [RV, RV], fn: lt }],
    ['ne', { params: [RV, RV], fn: (a: unknown, b: unknown) => !eq(a, b) }],
  ]);
}

export { vstr };
