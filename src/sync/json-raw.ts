// A small JSON scanner that keeps the raw text of values, because ESO (through gjson and
// json.RawMessage) copies nested objects and numbers into the Secret exactly as written remotely,
// whitespace and all. JSON.parse would normalise them.

export type RawKind = 'object' | 'array' | 'string' | 'number' | 'true' | 'false' | 'null';

export interface RawValue {
  kind: RawKind;
  /** The value's exact source text. */
  raw: string;
}

export class JsonSyntaxError extends Error {}

/** Go's encoding/json refuses documents nested deeper than this ("exceeded max depth"). */
export const MAX_JSON_DEPTH = 10000;

/** A remote document nested deeper than MAX_JSON_DEPTH: valid JSON, but refused as Go refuses it. */
export class JsonTooDeepError extends Error {
  constructor() {
    super(`JSON nested too deeply (limit ${MAX_JSON_DEPTH})`);
    this.name = 'JsonTooDeepError';
  }
}

const WS = new Set([' ', '\t', '\n', '\r']);

function skipWs(text: string, i: number): number {
  while (i < text.length && WS.has(text[i]!)) i++;
  return i;
}

function scanString(text: string, i: number): number {
  // text[i] === '"'
  i++;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else i++;
  }
  throw new JsonSyntaxError('unterminated string');
}

/** Returns the end offset of the value starting at i (after whitespace). */
function scanValue(text: string, i: number): [kind: RawKind, start: number, end: number] {
  i = skipWs(text, i);
  const c = text[i];
  if (c === '"') return ['string', i, scanString(text, i)];
  if (c === '{' || c === '[') {
    // Iterative bracket matching (the text is valid JSON, checked by parseRaw): a recursive
    // scanner ran out of stack on a few thousand levels, and a tenant controls the nesting.
    const start = i;
    let depth = 0;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (ch === '"') {
        i = scanString(text, i) - 1;
      } else if (ch === '{' || ch === '[') {
        if (++depth > MAX_JSON_DEPTH) throw new JsonTooDeepError();
      } else if ((ch === '}' || ch === ']') && --depth === 0) {
        return [c === '{' ? 'object' : 'array', start, i + 1];
      }
    }
    throw new JsonSyntaxError('unterminated ' + (c === '{' ? 'object' : 'array'));
  }
  for (const lit of ['true', 'false', 'null'] as const) {
    if (text.startsWith(lit, i)) return [lit, i, i + lit.length];
  }
  const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
  if (m && m[0] !== '') return ['number', i, i + m[0].length];
  throw new JsonSyntaxError('unexpected token');
}

/**
 * Parses a whole JSON document into its top-level raw value; undefined if it is not valid JSON.
 * Throws JsonTooDeepError for valid JSON nested deeper than Go accepts.
 */
export function parseRaw(text: string): RawValue | undefined {
  try {
    JSON.parse(text); // strict validation (V8's parser is not recursive); the scanner trusts well-formed input
    const [kind, start, end] = scanValue(text, 0);
    return { kind, raw: text.slice(start, end) };
  } catch (err) {
    if (err instanceof JsonTooDeepError) throw err;
    return undefined;
  }
}

/** The deepest bracket nesting of a JSON text (strings skipped); cheap, one pass, no recursion. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (ch === '{' || ch === '[') {
      if (++depth > max) max = depth;
    } else if (ch === '}' || ch === ']') {
      depth--;
    }
  }
  return max;
}

/** Members of a raw object in document order (duplicates kept). */
export function objectMembers(raw: string): Array<[key: string, value: RawValue]> {
  const out: Array<[string, RawValue]> = [];
  let i = skipWs(raw, 1);
  if (raw[i] === '}') return out;
  for (;;) {
    i = skipWs(raw, i);
    const keyEnd = scanString(raw, i);
    const key = JSON.parse(raw.slice(i, keyEnd)) as string;
    i = skipWs(raw, keyEnd) + 1; // past ':'
    const [kind, start, end] = scanValue(raw, i);
    out.push([key, { kind, raw: raw.slice(start, end) }]);
    i = skipWs(raw, end);
    if (raw[i] === ',') { i++; continue; }
    return out;
  }
}

/** Elements of a raw array in order. */
export function arrayElements(raw: string): RawValue[] {
  const out: RawValue[] = [];
  let i = skipWs(raw, 1);
  if (raw[i] === ']') return out;
  for (;;) {
    const [kind, start, end] = scanValue(raw, i);
    out.push({ kind, raw: raw.slice(start, end) });
    i = skipWs(raw, end);
    if (raw[i] === ',') { i++; continue; }
    return out;
  }
}

/** Go strconv.FormatFloat(f, 'f', -1, 64): shortest round-trip digits, never an exponent. */
export function formatFloatF(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa, expText] = n.toExponential().split('e') as [string, string];
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const exp = Number(expText);
  let out: string;
  if (exp >= digits.length - 1) out = digits + '0'.repeat(exp - digits.length + 1);
  else if (exp >= 0) out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  else out = `0.${'0'.repeat(-exp - 1)}${digits}`;
  return negative ? `-${out}` : out;
}

/**
 * gjson's Result.String(): strings unescaped, integers as written, other numbers re-formatted,
 * objects/arrays as their raw text, null as "".
 */
export function rawToString(value: RawValue): string {
  switch (value.kind) {
    case 'string':
      return JSON.parse(value.raw) as string;
    case 'number':
      return /^-?\d+$/.test(value.raw) ? value.raw : formatFloatF(Number(value.raw));
    case 'null':
      return '';
    default:
      return value.raw;
  }
}
