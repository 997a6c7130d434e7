// Minimal ASN.1 DER reader/writer for the PKCS#12 and X.509 functions. Reading follows Go's
// encoding/asn1 where it matters for behaviour: DER only (no indefinite lengths, minimal length
// encodings), and trailing elements inside a SEQUENCE are allowed (Go skips them).

export class Asn1Error extends Error {}

export interface Tlv {
  cls: number; // 0 universal, 1 application, 2 context-specific, 3 private
  constructed: boolean;
  tag: number;
  /** content octets */
  body: Uint8Array;
  /** header + content */
  full: Uint8Array;
}

export const TAG = {
  BOOLEAN: 1, INTEGER: 2, BIT_STRING: 3, OCTET_STRING: 4, NULL: 5, OID: 6, UTF8String: 12,
  SEQUENCE: 16, SET: 17, PrintableString: 19, T61String: 20, IA5String: 22, UTCTime: 23,
  GeneralizedTime: 24, BMPString: 30,
} as const;

/** Reads one TLV at `off`; returns it and the offset after it. */
export function readTlv(buf: Uint8Array, off = 0): [Tlv, number] {
  if (off >= buf.length) throw new Asn1Error('asn1: syntax error: sequence truncated');
  const start = off;
  const b = buf[off++]!;
  const cls = b >> 6;
  const constructed = (b & 0x20) !== 0;
  let tag = b & 0x1f;
  if (tag === 0x1f) {
    tag = 0;
    for (let i = 0; ; i++) {
      if (off >= buf.length) throw new Asn1Error('asn1: syntax error: data truncated');
      const c = buf[off++]!;
      if (i === 0 && c === 0x80) throw new Asn1Error('asn1: structure error: base 128 integer too large');
      tag = tag * 128 + (c & 0x7f);
      if ((c & 0x80) === 0) break;
      if (i > 3) throw new Asn1Error('asn1: structure error: base 128 integer too large');
    }
  }
  if (off >= buf.length) throw new Asn1Error('asn1: syntax error: data truncated');
  let len = buf[off++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new Asn1Error('asn1: syntax error: indefinite length found (not DER)');
    if (n > 4) throw new Asn1Error('asn1: structure error: length too large');
    len = 0;
    for (let i = 0; i < n; i++) {
      if (off >= buf.length) throw new Asn1Error('asn1: syntax error: data truncated');
      const c = buf[off++]!;
      if (i === 0 && c === 0) throw new Asn1Error('asn1: structure error: superfluous leading zeros in length');
      len = len * 256 + c;
    }
    if (len < 0x80) throw new Asn1Error('asn1: structure error: non-minimal length');
  }
  const end = off + len;
  if (end > buf.length) throw new Asn1Error('asn1: syntax error: data truncated');
  return [{ cls, constructed, tag, body: buf.subarray(off, end), full: buf.subarray(start, end) }, end];
}

/** Parses exactly one TLV (Go's unmarshal with no trailing data allowed). */
export function parseOne(buf: Uint8Array): Tlv {
  const [t, end] = readTlv(buf, 0);
  if (end !== buf.length) throw new Asn1Error('asn1: syntax error: trailing data');
  return t;
}

/** The elements of a constructed TLV. */
export function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let off = 0;
  while (off < t.body.length) {
    const [c, next] = readTlv(t.body, off);
    out.push(c);
    off = next;
  }
  return out;
}

export function expect(t: Tlv | undefined, tag: number, what: string, cls = 0): Tlv {
  if (t === undefined) throw new Asn1Error(`asn1: syntax error: sequence truncated (${what})`);
  if (t.cls !== cls || t.tag !== tag) {
    // Go also prints the tag and length it found; those come from the (secret) input, so not here.
    throw new Asn1Error(`asn1: structure error: tags don't match (${what})`);
  }
  return t;
}

export function seqOf(t: Tlv | undefined, what: string): Tlv[] {
  return children(expect(t, TAG.SEQUENCE, what));
}

export function readInt(t: Tlv | undefined, what: string): number {
  const b = expect(t, TAG.INTEGER, what).body;
  if (b.length === 0) throw new Asn1Error('asn1: syntax error: empty integer');
  if (b.length > 1 && ((b[0] === 0 && (b[1]! & 0x80) === 0) || (b[0] === 0xff && (b[1]! & 0x80) !== 0))) {
    throw new Asn1Error('asn1: structure error: integer not minimally-encoded');
  }
  if (b.length > 6) throw new Asn1Error('asn1: structure error: integer too large');
  let v = (b[0]! & 0x80) ? -1 : 0;
  for (const c of b) v = v * 256 + c; // two's complement: the -1 seed makes negative values come out right
  return v;
}

export function readOid(t: Tlv | undefined, what: string): string {
  const b = expect(t, TAG.OID, what).body;
  if (b.length === 0) throw new Asn1Error('asn1: syntax error: zero length OBJECT IDENTIFIER');
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if ((b[i]! & 0x80) === 0) {
      if (parts.length === 0) {
        if (v < 80) parts.push(Math.floor(v / 40), v % 40);
        else parts.push(2, v - 80);
      } else parts.push(v);
      v = 0;
    } else if (i === b.length - 1) throw new Asn1Error('asn1: syntax error: truncated base 128 integer');
  }
  return parts.join('.');
}

export function readOctets(t: Tlv | undefined, what: string): Uint8Array {
  return expect(t, TAG.OCTET_STRING, what).body;
}

// ---------------------------------------------------------------- writer

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | out.length, ...out];
}

export function tlv(tagByte: number, body: Uint8Array): Uint8Array {
  const len = lengthBytes(body.length);
  const out = new Uint8Array(1 + len.length + body.length);
  out[0] = tagByte;
  out.set(len, 1);
  out.set(body, 1 + len.length);
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export const seq = (...parts: Uint8Array[]): Uint8Array => tlv(0x30, concat(parts));
export const set = (...parts: Uint8Array[]): Uint8Array => tlv(0x31, concat(parts));
export const octets = (b: Uint8Array): Uint8Array => tlv(0x04, b);
export const nullValue = (): Uint8Array => new Uint8Array([0x05, 0x00]);
/** [n] EXPLICIT (constructed context-specific wrapper). */
export const explicit = (n: number, inner: Uint8Array): Uint8Array => tlv(0xa0 | n, inner);
/** [n] IMPLICIT primitive (e.g. `[]byte asn1:"tag:0"`). */
export const implicitPrimitive = (n: number, body: Uint8Array): Uint8Array => tlv(0x80 | n, body);

export function integer(v: number): Uint8Array {
  const bytes: number[] = [];
  let x = v;
  do {
    bytes.unshift(x & 0xff);
    x = Math.floor(x / 256);
  } while (x > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(0x02, new Uint8Array(bytes));
}

export function oid(dotted: string): Uint8Array {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [];
  const push = (v: number) => {
    const tmp = [v & 0x7f];
    v = Math.floor(v / 128);
    while (v > 0) {
      tmp.unshift(0x80 | (v & 0x7f));
      v = Math.floor(v / 128);
    }
    out.push(...tmp);
  };
  push(parts[0]! * 40 + parts[1]!);
  for (const p of parts.slice(2)) push(p);
  return tlv(0x06, new Uint8Array(out));
}

export function bmpString(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[2 * i] = c >> 8;
    out[2 * i + 1] = c & 0xff;
  }
  return tlv(0x1e, out);
}
