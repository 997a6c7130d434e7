// Go's encoding/json output, written once. ESO writes JSON it built with json.Marshal into
// Secrets (AWS tags, Vault secrets, Kubernetes Secrets and their metadata, rewrite merges,
// toJson in templates); producing the same bytes keeps a Secret, and its hash, identical to what
// ESO writes, so a switch between the two operators rewrites nothing.
//
// Where Go's output differs from JSON.stringify:
// - map keys are sorted by UTF-8 bytes (src/go/sort.ts), not kept in insertion order;
// - with HTML escaping (json.Marshal's default) <, > and & are written \u003c, \u003e, \u0026;
// - U+2028 and U+2029 are always escaped (\u2028, \u2029);
// - invalid UTF-16 (a lone surrogate) becomes \ufffd, as Go replaces invalid UTF-8;
// - -0 is written "-0" (strconv.FormatFloat keeps the sign); NaN and ±Inf are errors, not null.

import { compareGoStrings } from './sort.ts';

/** json.Marshal's refusal of a value (NaN, ±Inf, a type JSON cannot hold). */
export class GoJsonError extends Error {}

/** A JSON number kept as its source text (Go's json.Number, from a decoder with UseNumber). */
export class JsonNumber {
  readonly raw: string;
  constructor(raw: string) {
    this.raw = raw;
  }
}

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

/**
 * JSON.parse with every number a JsonNumber holding its exact source text, as Go's decoder with
 * UseNumber: 12345678901234567890 stays 12345678901234567890 instead of 12345678901234567000.
 */
export function parseJsonKeepingNumbers(text: string): unknown {
  // Node 22+ hands the reviver each primitive's source text (TC39 "JSON.parse source text access").
  const reviver: Reviver = (_key, value, context) => (typeof value === 'number' ? new JsonNumber(context?.source ?? String(value)) : value);
  return JSON.parse(text, reviver as (this: unknown, key: string, value: unknown) => unknown);
}

/**
 * json.Unmarshal into interface{}: numbers are float64, and a number float64 cannot hold (1e400)
 * is an error, where JSON.parse would make it Infinity. Throws SyntaxError for malformed text and
 * GoJsonError for an out-of-range number.
 */
export function parseGoJson(text: string): unknown {
  const reviver: Reviver = (_key, value, context) => {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new GoJsonError(`json: cannot unmarshal number ${context?.source ?? ''} into Go value of type float64`);
    }
    return value;
  };
  return JSON.parse(text, reviver as (this: unknown, key: string, value: unknown) => unknown);
}

/** A Go JSON string literal: Go's escapes, HTML characters escaped when `escapeHTML`. */
export function goJsonString(s: string, escapeHTML: boolean): string {
  let out = '"';
  let start = 0; // s[start, i) is copied as it is
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c && c < 0x7f && (!escapeHTML || (c !== 0x3c && c !== 0x3e && c !== 0x26))) continue;
    if (c >= 0x7f && c !== 0x2028 && c !== 0x2029 && !(c >= 0xd800 && c <= 0xdfff)) continue;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++; // a valid surrogate pair: one rune, written as it is
        continue;
      }
    }
    out += s.slice(start, i) + escapeUnit(c);
    start = i + 1;
  }
  return `${out}${s.slice(start)}"`;
}

/** The escape Go writes for one UTF-16 unit that cannot be written as it is. */
function escapeUnit(c: number): string {
  switch (c) {
    case 0x22: return '\\"';
    case 0x5c: return '\\\\';
    case 0x0a: return '\\n';
    case 0x0d: return '\\r';
    case 0x09: return '\\t';
    case 0x08: return '\\b';
    case 0x0c: return '\\f';
    case 0x2028: return '\\u2028';
    case 0x2029: return '\\u2029';
  }
  if (c >= 0xd800 && c <= 0xdfff) return '\\ufffd'; // a lone surrogate: Go's replacement for invalid UTF-8
  return `\\u00${c.toString(16).padStart(2, '0')}`; // control characters and <, >, &
}

/**
 * A float64 as encoding/json writes it: the shortest text that reads back to the same number,
 * in %f form for 1e-6 <= |f| < 1e21 and %e form (with at least one exponent digit, "1e-7")
 * outside. JS's Number-to-string uses the same digits and the same switch points, so only the
 * sign of zero differs ("-0" in Go). NaN and ±Inf are errors, as in Go.
 */
export function goJsonFloat(f: number): string {
  if (Number.isNaN(f)) throw new GoJsonError('json: unsupported value: NaN');
  if (!Number.isFinite(f)) throw new GoJsonError(`json: unsupported value: ${f > 0 ? '+Inf' : '-Inf'}`);
  if (Object.is(f, -0)) return '-0';
  return String(f);
}

export interface GoJsonOptions {
  /** json.Marshal escapes <, > and & (true); an Encoder with SetEscapeHTML(false) does not. */
  escapeHTML: boolean;
}

/**
 * Go's json.Marshal of plain data: null/undefined → null, strings, booleans, numbers (float64),
 * bigints (int64), JsonNumber (its text), Uint8Array ([]byte: base64), arrays, Maps and plain
 * objects (map[string]…: keys in Go's order). Throws GoJsonError for what Go refuses.
 */
export function goJsonMarshal(value: unknown, opts: GoJsonOptions = { escapeHTML: true }): string {
  const encode = (v: unknown): string => {
    if (v === null || v === undefined) return 'null';
    switch (typeof v) {
      case 'string': return goJsonString(v, opts.escapeHTML);
      case 'boolean': return v ? 'true' : 'false';
      case 'number': return goJsonFloat(v);
      case 'bigint': return v.toString();
    }
    if (v instanceof JsonNumber) return v.raw;
    if (v instanceof Uint8Array) return `"${Buffer.from(v).toString('base64')}"`;
    if (Array.isArray(v)) return `[${v.map(encode).join(',')}]`;
    if (v instanceof Map) return encodeMap(v as Map<string, unknown>, encode);
    if (typeof v === 'object') return encodeMap(new Map(Object.entries(v)), encode);
    throw new GoJsonError(`json: unsupported type: ${typeof v}`);
  };
  const encodeMap = (m: Map<string, unknown>, enc: (v: unknown) => string): string => {
    const keys = [...m.keys()].sort(compareGoStrings);
    return `{${keys.map((k) => `${goJsonString(k, opts.escapeHTML)}:${enc(m.get(k))}`).join(',')}}`;
  };
  return encode(value);
}
