// The parts of Go's crypto/x509 the ESO certificate functions rely on: parsing (validated by
// node:crypto), the subject/authority key identifiers used to order chains, and
// pkix.Name.String() for trust-store friendly names.

import { X509Certificate } from 'node:crypto';
import { Asn1Error, children, expect, parseOne, readOctets, readOid, readTlv, TAG } from './der.ts';
import type { Tlv } from './der.ts';

export interface Cert {
  raw: Uint8Array;
  /** AuthorityKeyId: undefined when absent (Go's nil). */
  authorityKeyId: Uint8Array | undefined;
  subjectKeyId: Uint8Array | undefined;
  subject: Tlv;
}

const OID_SKI = '2.5.29.14';
const OID_AKI = '2.5.29.35';

/** x509.ParseCertificate. Errors use Go's generic "x509: malformed certificate" wording. */
export function parseCertificate(der: Uint8Array): Cert {
  let top: Tlv;
  try {
    top = parseOne(der);
  } catch (e) {
    if (e instanceof Asn1Error && /trailing data/.test(e.message)) throw new Error('x509: trailing data');
    throw new Error('x509: malformed certificate');
  }
  try {
    new X509Certificate(der);
  } catch {
    throw new Error('x509: malformed certificate');
  }
  const cert: Cert = { raw: der, authorityKeyId: undefined, subjectKeyId: undefined, subject: top };
  try {
    const tbs = children(expect(children(top)[0], TAG.SEQUENCE, 'tbsCertificate'));
    let i = 0;
    if (tbs[0]?.cls === 2 && tbs[0].tag === 0) i++; // [0] version
    const subject = tbs[i + 4];
    if (subject) cert.subject = subject;
    for (const el of tbs.slice(i + 6)) {
      if (el.cls !== 2 || el.tag !== 3) continue;
      for (const ext of children(expect(children(el)[0], TAG.SEQUENCE, 'extensions'))) {
        const parts = children(ext);
        const id = readOid(parts[0], 'extension id');
        const value = readOctets(parts[parts.length - 1], 'extension value');
        if (id === OID_SKI) cert.subjectKeyId = readOctets(parseOne(value), 'subjectKeyId');
        else if (id === OID_AKI) {
          for (const f of children(parseOne(value))) if (f.cls === 2 && f.tag === 0) cert.authorityKeyId = f.body;
        }
      }
    }
  } catch {
    throw new Error('x509: malformed certificate');
  }
  return cert;
}

/** x509.ParseCertificates: a concatenation of DER certificates. */
export function parseCertificates(der: Uint8Array): Cert[] {
  const out: Cert[] = [];
  let off = 0;
  while (off < der.length) {
    let next: number;
    try {
      [, next] = readTlv(der, off);
    } catch {
      throw new Error('x509: malformed certificate');
    }
    out.push(parseCertificate(der.subarray(off, next)));
    off = next;
  }
  return out;
}

export function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  const x = a ?? new Uint8Array();
  const y = b ?? new Uint8Array();
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

// ---------------------------------------------------------------- pkix.Name.String()

const attributeTypeNames: Record<string, string> = {
  '2.5.4.6': 'C', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.3': 'CN', '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.9': 'STREET', '2.5.4.17': 'POSTALCODE',
};
// Attributes Go parses into named fields (they are printed from the fields, in a fixed order).
const parsedTypes = ['2.5.4.6', '2.5.4.8', '2.5.4.7', '2.5.4.9', '2.5.4.17', '2.5.4.10', '2.5.4.11', '2.5.4.3', '2.5.4.5'];

interface Atv {
  type: string;
  value: string | undefined; // undefined: not a string type
  raw: Tlv;
}

function stringValue(t: Tlv): string | undefined {
  if (t.cls !== 0) return undefined;
  switch (t.tag) {
    case TAG.PrintableString: case TAG.IA5String: case TAG.UTF8String: case 18 /* NumericString */:
      return Buffer.from(t.body).toString('utf8');
    case TAG.T61String:
      return Buffer.from(t.body).toString('latin1');
    case TAG.BMPString: {
      let s = '';
      for (let i = 0; i + 1 < t.body.length; i += 2) s += String.fromCharCode((t.body[i]! << 8) | t.body[i + 1]!);
      return s;
    }
  }
  return undefined;
}

function isPrintable(s: string): boolean {
  return /^[a-zA-Z0-9 '()+,\-./:=?]*$/.test(s);
}

function marshalValueHex(a: Atv): string {
  if (a.value === undefined) return Buffer.from(a.raw.full).toString('hex');
  const body = Buffer.from(a.value, 'utf8');
  const tag = isPrintable(a.value) ? TAG.PrintableString : TAG.UTF8String;
  const len = body.length < 0x80 ? [body.length] : body.length < 0x100 ? [0x81, body.length] : [0x82, body.length >> 8, body.length & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]).toString('hex');
}

function escapeValue(v: string): string {
  const chars = [...v];
  let out = '';
  chars.forEach((c, k) => {
    let esc = false;
    switch (c) {
      case ',': case '+': case '"': case '\\': case '<': case '>': case ';': esc = true; break;
      case ' ': esc = k === 0 || k === chars.length - 1; break;
      case '#': esc = k === 0; break;
    }
    out += esc ? '\\' + c : c;
  });
  return out;
}

/** Go's pkix.Name.String() of a DER Name (SEQUENCE OF RDN). */
export function nameString(name: Tlv): string {
  const atvs: Atv[] = [];
  for (const rdn of children(name)) {
    for (const atv of children(rdn)) {
      const [typ, val] = children(atv);
      atvs.push({ type: readOid(typ, 'attribute type'), value: val ? stringValue(val) : undefined, raw: val! });
    }
  }
  const rdns: Atv[][] = [];
  for (const a of atvs) if (!parsedTypes.includes(a.type)) rdns.push([a]);
  const byType = (t: string) => atvs.filter((a) => a.type === t && a.value !== undefined);
  for (const t of parsedTypes) {
    let values = byType(t);
    if (t === '2.5.4.3' || t === '2.5.4.5') values = values.length ? [values[values.length - 1]!] : [];
    values = values.filter((v) => t === '2.5.4.3' || t === '2.5.4.5' ? v.value !== '' : true);
    if (values.length) rdns.push(values);
  }
  const parts: string[] = [];
  for (let i = rdns.length - 1; i >= 0; i--) {
    parts.push(rdns[i]!.map((a) => {
      const name = attributeTypeNames[a.type];
      if (name === undefined) return `${a.type}=#${marshalValueHex(a)}`;
      return `${name}=${escapeValue(a.value ?? '')}`;
    }).join('+'));
  }
  return parts.join(',');
}
