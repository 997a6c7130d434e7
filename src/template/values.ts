// Go value model used by the template engine.
//
//   Go                          JS representation
//   string                      string
//   bool                        boolean
//   float64                     number
//   int                         bigint
//   int64, uint8, ...           TypedInt
//   []T                         Array (Go type in TYPE symbol; default []interface {})
//   map[string]T                Map<string, GoValue> (Go type in TYPE symbol; default map[string]interface {})
//   nil interface               null
//   reflect.Value{} (invalid)   INVALID
//   time.Time                   GoTime
//   struct / pointer            GoStruct

import { compareGoStrings } from '../go/sort.ts';
import { utf8Bytes, bytesToString } from './strconv.ts';

export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

export const TYPE: unique symbol = Symbol('goType');

export type IntKind = 'int8' | 'int16' | 'int32' | 'int64' | 'uint' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'uintptr';

export class TypedInt {
  readonly kind: IntKind;
  readonly v: bigint;
  constructor(kind: IntKind, v: bigint) {
    this.kind = kind;
    this.v = v;
  }
}

// A Go struct (or pointer to struct) exposing exported fields and methods.
export class GoStruct {
  readonly typeName: string;
  readonly fields: Map<string, unknown>;
  readonly methods: Map<string, GoFunc>;
  readonly isPointer: boolean;
  readonly stringer: (() => string) | undefined;
  constructor(typeName: string, fields: Map<string, unknown>, methods: Map<string, GoFunc>, isPointer: boolean, stringer?: () => string) {
    this.typeName = typeName;
    this.fields = fields;
    this.methods = methods;
    this.isPointer = isPointer;
    this.stringer = stringer;
  }
}

// time.Time: epoch nanoseconds plus a fixed zone.
export class GoTime {
  readonly ns: bigint; // unix nanoseconds
  readonly offset: number; // zone offset seconds east of UTC
  readonly zone: string; // zone abbreviation
  readonly loc: string; // location name ("UTC", "Local", IANA)
  constructor(ns: bigint, offset: number, zone: string, loc: string) {
    this.ns = ns;
    this.offset = offset;
    this.zone = zone;
    this.loc = loc;
  }
}

// Binary (non UTF-8) string: Go strings are byte strings.
export class GoBytes {
  readonly b: Uint8Array;
  constructor(b: Uint8Array) {
    this.b = b;
  }
}

export type GoType = string; // e.g. 'string', 'int', 'interface {}', '[]string', 'reflect.Value'

export interface GoFunc {
  // parameter types; for variadic functions the last entry is the element type of the variadic slice
  params: GoType[];
  variadic?: boolean;
  fn: (...args: any[]) => unknown;
}

export type GoMap = Map<string, unknown> & { [TYPE]?: string };
export type GoSlice = unknown[] & { [TYPE]?: string };

export function mkSlice(arr: unknown[], type: string): GoSlice {
  const a = arr as GoSlice;
  if (type !== '[]interface {}') a[TYPE] = type;
  return a;
}

export function mkMap(m: Map<string, unknown>, type: string): GoMap {
  const a = m as GoMap;
  if (type !== 'map[string]interface {}') a[TYPE] = type;
  return a;
}

export function sliceType(a: unknown[]): string {
  return (a as GoSlice)[TYPE] ?? '[]interface {}';
}

export function mapType(m: Map<string, unknown>): string {
  return (m as GoMap)[TYPE] ?? 'map[string]interface {}';
}

export function elemType(t: string): string {
  if (t.startsWith('[]')) return t.slice(2);
  if (t.startsWith('map[')) {
    let depth = 0;
    for (let i = 3; i < t.length; i++) {
      if (t[i] === '[') depth++;
      else if (t[i] === ']') {
        depth--;
        if (depth === 0) return t.slice(i + 1);
      }
    }
  }
  return 'interface {}';
}

export function isInt(v: unknown): v is bigint | TypedInt {
  return typeof v === 'bigint' || v instanceof TypedInt;
}

export function intValue(v: bigint | TypedInt): bigint {
  return typeof v === 'bigint' ? v : v.v;
}

export function isUnsignedKind(k: IntKind): boolean {
  return k[0] === 'u';
}

// Go type name as printed by %T / reflect.Type.String()
export function typeName(v: unknown): string {
  switch (typeof v) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'number': return 'float64';
    case 'bigint': return 'int';
    case 'function': return 'func(...interface {}) interface {}';
  }
  if (v === null || v === undefined) return 'interface {}';
  if (v === INVALID) return '<invalid reflect.Value>';
  if (v instanceof TypedInt) return v.kind;
  if (Array.isArray(v)) return sliceType(v);
  if (v instanceof Map) return mapType(v);
  if (v instanceof GoTime) return 'time.Time';
  if (v instanceof GoStruct) return (v.isPointer ? '*' : '') + v.typeName;
  if (v instanceof GoBytes) return 'string';
  if (v instanceof Uint8Array) return '[]uint8';
  return 'interface {}';
}

// reflect.Kind name
export function kindName(v: unknown): string {
  switch (typeof v) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'number': return 'float64';
    case 'bigint': return 'int';
    case 'function': return 'func';
  }
  if (v === null || v === undefined || v === INVALID) return 'invalid';
  if (v instanceof TypedInt) return v.kind;
  if (Array.isArray(v) || v instanceof Uint8Array) return 'slice';
  if (v instanceof Map) return 'map';
  if (v instanceof GoTime) return 'struct';
  if (v instanceof GoStruct) return v.isPointer ? 'ptr' : 'struct';
  if (v instanceof GoBytes) return 'string';
  return 'invalid';
}

export function isStringLike(v: unknown): v is string | GoBytes {
  return typeof v === 'string' || v instanceof GoBytes;
}

// Go string value as JS string (lossy for GoBytes that are not UTF-8)
export function str(v: string | GoBytes): string {
  return typeof v === 'string' ? v : bytesToString(v.b);
}

export function strBytes(v: string | GoBytes): Uint8Array {
  return typeof v === 'string' ? utf8Bytes(v) : v.b;
}

// Make a Go string from bytes: a JS string when valid UTF-8, GoBytes otherwise.
export function goStringFromBytes(b: Uint8Array): string | GoBytes {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return new GoBytes(b);
  }
}

export function goLen(v: string | GoBytes): number {
  if (typeof v !== 'string') return v.b.length;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export function sortedKeys(m: Map<string, unknown>): string[] {
  const keys = [...m.keys()];
  keys.sort(compareGoStrings);
  return keys;
}

// Convert plain JS data into Go values. Objects become map[string]interface{}; numbers become
// float64 unless they are bigint. A plain object whose values are all strings can be typed as
// map[string]string with {stringMap: true}.
export function fromJS(v: unknown, opts?: { stringMap?: boolean }): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint' || typeof v === 'number') return v;
  if (v instanceof TypedInt || v instanceof GoTime || v instanceof GoStruct || v instanceof GoBytes) return v;
  if (v instanceof Uint8Array) return goStringFromBytes(v);
  if (Array.isArray(v)) {
    if ((v as GoSlice)[TYPE] !== undefined) return v;
    return v.map((x) => fromJS(x));
  }
  if (v instanceof Map) return v;
  if (typeof v === 'object') {
    const m = new Map<string, unknown>();
    let allStrings = true;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const gv = fromJS(x);
      if (typeof gv !== 'string' && !(gv instanceof GoBytes)) allStrings = false;
      m.set(k, gv);
    }
    if (opts?.stringMap && allStrings) return mkMap(m, 'map[string]string');
    return m;
  }
  return null;
}

// Convert a Go value back to plain JS (for tests / callers).
export function toJS(v: unknown): unknown {
  if (v === INVALID || v === null || v === undefined) return null;
  if (v instanceof TypedInt) return v.v;
  if (v instanceof GoBytes) return v.b;
  if (Array.isArray(v)) return v.map(toJS);
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) o[k] = toJS(x);
    return o;
  }
  return v;
}

export const I64_MIN = -(1n << 63n);
export const I64_MAX = (1n << 63n) - 1n;

export function wrapInt64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

export function int64(v: bigint): TypedInt {
  return new TypedInt('int64', BigInt.asIntN(64, v));
}

export function truncKind(kind: IntKind | 'int', v: bigint): bigint {
  switch (kind) {
    case 'int': case 'int64': return BigInt.asIntN(64, v);
    case 'int8': return BigInt.asIntN(8, v);
    case 'int16': return BigInt.asIntN(16, v);
    case 'int32': return BigInt.asIntN(32, v);
    case 'uint': case 'uint64': case 'uintptr': return BigInt.asUintN(64, v);
    case 'uint8': return BigInt.asUintN(8, v);
    case 'uint16': return BigInt.asUintN(16, v);
    case 'uint32': return BigInt.asUintN(32, v);
  }
}

export function mkInt(kind: IntKind | 'int', v: bigint): bigint | TypedInt {
  const t = truncKind(kind, v);
  return kind === 'int' ? t : new TypedInt(kind, t);
}
