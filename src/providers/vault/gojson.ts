// The bytes ESO returns for a Vault secret: Go's json.Marshal of the data map as the Vault Go
// client decoded it (json.Number, so numbers keep their literal text). Reproducing it exactly keeps
// the Secret (and its hash) identical to what ESO writes: keys sorted by bytes, <, >, & and
// U+2028/U+2029 escaped, numbers as written remotely (JSON.parse would turn 12345678901234567890
// into 12345678901234567000).

/** A JSON number kept as its source text. */
export class JsonNumber {
  readonly raw: string;
  constructor(raw: string) {
    this.raw = raw;
  }
}

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

/** JSON.parse, with every number a JsonNumber holding its exact source text. */
export function parseLossless(text: string): unknown {
  // Node 22+ hands the reviver each primitive's source text (TC39 "JSON.parse source text access").
  const reviver: Reviver = (_key, value, context) => (typeof value === 'number' ? new JsonNumber(context?.source ?? String(value)) : value);
  return JSON.parse(text, reviver as (this: unknown, key: string, value: unknown) => unknown);
}

function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Go's json.Marshal (HTML-escaping, sorted map keys) of a value from parseLossless. */
export function goMarshal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof JsonNumber) return value.raw;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return goString(value);
  if (Array.isArray(value)) return `[${value.map(goMarshal).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort(byUtf8)
      .map((k) => `${goString(k)}:${goMarshal(obj[k])}`)
      .join(',')}}`;
  }
  return 'null';
}

/** fmt.Sprintf("%v") of a custom_metadata value (strings as they are). */
export function goPrintValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof JsonNumber) return value.raw;
  if (value === null || value === undefined) return '<nil>';
  return typeof value === 'object' ? goMarshal(value) : String(value);
}
