// Sprig's certificate functions, which ESO 2.9's template map keeps (its vendored sprig has the
// whole crypto group): genCA, genSelfSignedCert, genSignedCert, their *WithKey forms and
// buildCustomCert. Each returns a struct with .Cert and .Key (PEM), as sprig's `certificate`.
// The certificate is built here as Go's x509.CreateCertificate builds it from sprig's template
// (v3, random 128-bit serial, CN-only subject, the key usages, extended usages and basic
// constraints sprig sets, SubjectKeyId on CAs, AuthorityKeyId from the signer, SANs) and signed
// with node:crypto. Output is random (keys, serials, times), so it is tested for structure.
//
// Cost: sprig fixes the key it generates (RSA 2048), so a tenant chooses no size; a key passed to
// a *WithKey form is the tenant's, and RSA keys above MAX_TENANT_RSA_BITS are refused, so that one
// signature cannot take seconds. Loops of calls are stopped by the worker's time budget.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { GoStruct, GoBytes, str } from '../values.ts';
import type { GoFunc } from '../values.ts';
import { GoError } from '../exec.ts';
import { BudgetExceededError } from '../budget.ts';
import { children, concat, explicit, implicitPrimitive, nullValue, octets, oid, parseOne, seq, set, tlv } from './der.ts';
import { pemDecode } from './eso.ts';
import { parseCertificate } from './x509.ts';

/** The key sprig generates for genCA, genSelfSignedCert and genSignedCert. */
export const GENERATED_RSA_BITS = 2048;
/** The largest RSA key a template may hand to a *WithKey function (Go has no such limit). */
export const MAX_TENANT_RSA_BITS = 8192;
export const CERTIFICATE_TYPE = 'sprig.certificate';

const S = 'string';
const I = 'int';
const LIST = '[]interface {}';

export function certificate(cert: string, key: string): GoStruct {
  return new GoStruct(CERTIFICATE_TYPE, new Map<string, unknown>([['Cert', cert], ['Key', key]]), new Map(), false);
}

function field(c: GoStruct, name: 'Cert' | 'Key'): string {
  const v = c.fields.get(name);
  return typeof v === 'string' ? v : v instanceof GoBytes ? str(v) : '';
}

// ------------------------------------------------------------ keys

/** sprig's parsePrivateKeyPEM, with its messages; DSA keys parse in Go but cannot sign a certificate. */
function parsePrivateKeyPem(text: string): KeyObject {
  const [block] = pemDecode(Buffer.from(text, 'utf8').toString('latin1'));
  if (block === null) throw new GoError('no PEM data in input');
  const der = Buffer.from(block.bytes);
  const as = (type: 'pkcs8' | 'pkcs1' | 'sec1', what: string): KeyObject => {
    try {
      return createPrivateKey({ key: der, format: 'der', type });
    } catch {
      throw new GoError(what);
    }
  };
  let key: KeyObject;
  if (block.type === 'PRIVATE KEY') key = as('pkcs8', 'decoding PEM as PKCS#8: x509: failed to parse private key');
  else if (!block.type.endsWith(' PRIVATE KEY')) throw new GoError(`no private key data in PEM block of type ${block.type}`);
  else {
    switch (block.type.slice(0, -12)) {
      case 'RSA': key = as('pkcs1', 'parsing RSA private key from PEM: x509: failed to parse private key'); break;
      case 'EC': key = as('sec1', 'parsing EC private key from PEM: x509: failed to parse EC private key'); break;
      case 'DSA': throw new GoError('x509: only RSA, ECDSA and Ed25519 keys supported');
      default: throw new GoError(`invalid private key type ${block.type}`);
    }
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType === 'rsa' && bits !== undefined && bits > MAX_TENANT_RSA_BITS) {
    throw new GoError(`RSA keys above ${MAX_TENANT_RSA_BITS} bits are refused by Tessera (this one has ${bits})`);
  }
  return key;
}

/** sprig's pemBlockForKey: PKCS#1 for RSA, SEC 1 for EC, PKCS#8 otherwise. */
function keyPem(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'rsa': return key.export({ type: 'pkcs1', format: 'pem' }) as string;
    case 'ec': return key.export({ type: 'sec1', format: 'pem' }) as string;
    default: return key.export({ type: 'pkcs8', format: 'pem' }) as string;
  }
}

interface SignatureScheme {
  algorithm: Uint8Array;
  hash: string | null;
}

/** The signature algorithm Go picks for the signer's key. */
function signatureScheme(key: KeyObject): SignatureScheme {
  const alg = (dotted: string, withNull: boolean) => seq(oid(dotted), ...(withNull ? [nullValue()] : []));
  switch (key.asymmetricKeyType) {
    case 'rsa': return { algorithm: alg('1.2.840.113549.1.1.11', true), hash: 'sha256' };
    case 'ed25519': return { algorithm: alg('1.3.101.112', false), hash: null };
    case 'ec':
      switch (key.asymmetricKeyDetails?.namedCurve) {
        case 'prime256v1': return { algorithm: alg('1.2.840.10045.4.3.2', false), hash: 'sha256' };
        case 'secp384r1': return { algorithm: alg('1.2.840.10045.4.3.3', false), hash: 'sha384' };
        case 'secp521r1': return { algorithm: alg('1.2.840.10045.4.3.4', false), hash: 'sha512' };
      }
      throw new GoError('error creating certificate: x509: unknown elliptic curve');
  }
  throw new GoError('error creating certificate: x509: only RSA, ECDSA and Ed25519 keys supported');
}

// ------------------------------------------------------------ DER pieces

function bigInteger(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const body = bytes.subarray(i);
  return tlv(0x02, body[0]! & 0x80 ? concat([new Uint8Array([0]), body]) : body);
}

const bitString = (body: Uint8Array, unused = 0): Uint8Array => tlv(0x03, concat([new Uint8Array([unused]), body]));

/** Go's asn1 picks PrintableString when every character fits it ('*' allowed, '&' not). */
function directoryString(s: string): Uint8Array {
  const printable = /^[A-Za-z0-9 '()+,\-./:=?*]*$/.test(s);
  return tlv(printable ? 0x13 : 0x0c, Buffer.from(s, 'utf8'));
}

/** pkix.Name{CommonName: cn} as an RDNSequence; an empty name is an empty SEQUENCE. */
function commonNameSubject(cn: string): Uint8Array {
  return cn === '' ? seq() : seq(set(seq(oid('2.5.4.3'), directoryString(cn))));
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise, whole seconds, as Go's x509. */
function certTime(ms: number): Uint8Array {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (!Number.isFinite(ms) || year < 0 || year > 9999) throw new GoError('x509: certificate validity is out of range');
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(`${p(year % 100)}${rest}`, 'latin1'));
  return tlv(0x18, Buffer.from(`${p(year, 4)}${rest}`, 'latin1'));
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return seq(oid(id), ...(critical ? [new Uint8Array([0x01, 0x01, 0xff])] : []), octets(value));
}

/** Go's marshalKeyUsage: bit n of the usage is bit n of the BIT STRING, trailing zeros cut. */
function keyUsage(bits: number): Uint8Array {
  let bytes = [0, 0];
  for (let n = 0; n < 16; n++) if (bits & (1 << n)) bytes[n >> 3]! |= 0x80 >> (n & 7);
  bytes = bytes[1] === 0 ? [bytes[0]!] : bytes;
  const last = bytes[bytes.length - 1]!;
  let unused = 0;
  while (unused < 8 && !(last & (1 << unused))) unused++;
  return bitString(Uint8Array.from(bytes), unused === 8 ? 0 : unused);
}

const KU_DIGITAL_SIGNATURE = 1;
const KU_KEY_ENCIPHERMENT = 4;
const KU_CERT_SIGN = 32;

// ------------------------------------------------------------ IPs and names

/** Go's IPv4 text: four decimal parts of at most 255, no leading zeros. */
function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255)) return undefined;
  return parts.map(Number);
}

/**
 * net.ParseIP, in the form x509 writes it: 4 bytes for IPv4 (and v4-mapped IPv6), else 16;
 * undefined where Go's answer is nil (zones, bad groups, more than one "::").
 */
export function ipBytes(text: string): Uint8Array | undefined {
  const v4 = parseIPv4(text);
  if (v4) return Uint8Array.from(v4);
  if (!text.includes(':') || text.includes('%')) return undefined;
  let s = text;
  const words: number[] = [];
  const lastColon = s.lastIndexOf(':');
  let tailV4: number[] | undefined;
  if (s.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIPv4(s.slice(lastColon + 1));
    if (!tailV4) return undefined;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string): number[] | undefined => {
    if (h === '') return [];
    const g = h.split(':');
    if (g.some((x) => !/^[0-9a-fA-F]{1,4}$/.test(x))) return undefined;
    return g.map((x) => parseInt(x, 16));
  };
  const head = group(halves[0]!);
  const back = halves.length === 2 ? group(halves[1]!) : [];
  if (!head || !back) return undefined;
  if (halves.length === 2) {
    if (head.length + back.length > 7) return undefined;
    words.push(...head, ...Array<number>(8 - head.length - back.length).fill(0), ...back);
  } else {
    if (head.length !== 8) return undefined;
    words.push(...head);
  }
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  if (tailV4) out.set(tailV4, 12);
  const mapped = out.subarray(0, 10).every((x) => x === 0) && out[10] === 0xff && out[11] === 0xff;
  return mapped ? out.slice(12) : out;
}

function listArg(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function ipList(ips: unknown): Uint8Array[] {
  return listArg(ips).map((ip) => {
    if (typeof ip !== 'string') throw new GoError(`error parsing ip: ${goValueText(ip)} is not a string`);
    const b = ipBytes(ip);
    if (!b) throw new GoError(`error parsing ip: ${ip}`);
    return b;
  });
}

function dnsList(names: unknown): string[] {
  return listArg(names).map((n) => {
    if (typeof n !== 'string') throw new GoError(`error processing alternate dns name: ${goValueText(n)} is not a string`);
    // Go's x509 writes dNSName as IA5String and refuses what does not fit.
    if (!/^[\x00-\x7f]*$/.test(n)) throw new GoError(`error creating certificate: x509: "${n}" cannot be encoded as an IA5String`);
    return n;
  });
}

function goValueText(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (v instanceof GoBytes) return str(v);
  return typeof v === 'object' ? '[...]' : String(v);
}

// ------------------------------------------------------------ building

interface Template {
  cn: string;
  ips: Uint8Array[];
  dns: string[];
  days: bigint;
  isCA: boolean;
}

interface Signer {
  subject: Uint8Array;
  subjectKeyId: Uint8Array | undefined;
  spki: Uint8Array;
  key: KeyObject;
}

/** Go ≥ 1.25 derives a CA's SubjectKeyId from SHA-256 of the public key bits, cut to 160 bits. */
function subjectKeyIdFor(spki: Uint8Array): Uint8Array {
  const parts = children(parseOne(spki));
  const bits = parts[1]!.body.subarray(1);
  return createHash('sha256').update(bits).digest().subarray(0, 20);
}

function createCertificate(t: Template, subjectKey: KeyObject, signer: Signer | 'self'): string {
  const publicDer = new Uint8Array(createPublicKey(subjectKey).export({ type: 'spki', format: 'der' }));
  const subject = commonNameSubject(t.cn);
  const signingKey = signer === 'self' ? subjectKey : signer.key;
  const issuer = signer === 'self' ? subject : signer.subject;
  if (signer !== 'self' && !Buffer.from(new Uint8Array(createPublicKey(signer.key).export({ type: 'spki', format: 'der' }))).equals(Buffer.from(signer.spki))) {
    throw new GoError("error creating certificate: x509: provided PrivateKey doesn't match parent's PublicKey");
  }
  const scheme = signatureScheme(signingKey);
  const serial = randomBytes(16);
  const nowMs = Date.now();
  // time.Hour * 24 * time.Duration(daysValid) wraps in int64 nanoseconds, as Go's does.
  const validNs = BigInt.asIntN(64, t.days * 86_400_000_000_000n);
  const notAfterMs = nowMs + Number(validNs / 1_000_000n);

  const subjectKeyId = t.isCA ? subjectKeyIdFor(publicDer) : undefined;
  const extensions: Uint8Array[] = [
    extension('2.5.29.15', true, keyUsage(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | (t.isCA ? KU_CERT_SIGN : 0))),
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))),
    extension('2.5.29.19', true, t.isCA ? seq(new Uint8Array([0x01, 0x01, 0xff])) : seq()),
  ];
  if (subjectKeyId) extensions.push(extension('2.5.29.14', false, octets(subjectKeyId)));
  if (signer !== 'self' && signer.subjectKeyId && !Buffer.from(issuer).equals(Buffer.from(subject))) {
    extensions.push(extension('2.5.29.35', false, seq(implicitPrimitive(0, signer.subjectKeyId))));
  }
  if (t.dns.length > 0 || t.ips.length > 0) {
    const names = [...t.dns.map((d) => implicitPrimitive(2, Buffer.from(d, 'latin1'))), ...t.ips.map((ip) => implicitPrimitive(7, ip))];
    // RFC 5280: the SAN extension is critical when the subject is empty.
    extensions.push(extension('2.5.29.17', t.cn === '', seq(...names)));
  }
  const tbs = seq(
    explicit(0, new Uint8Array([0x02, 0x01, 0x02])),
    bigInteger(serial),
    scheme.algorithm,
    issuer,
    seq(certTime(nowMs), certTime(notAfterMs)),
    subject,
    publicDer,
    explicit(3, seq(...extensions)),
  );
  const signature = sign(scheme.hash, tbs, signingKey);
  const der = seq(tbs, scheme.algorithm, bitString(signature));
  return pemText('CERTIFICATE', der);
}

function pemText(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  let out = `-----BEGIN ${type}-----\n`;
  for (let i = 0; i < b64.length; i += 64) out += `${b64.slice(i, i + 64)}\n`;
  return `${out}-----END ${type}-----\n`;
}

function generatedKey(): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: GENERATED_RSA_BITS }).privateKey;
}

function issue(t: Template, key: KeyObject, signer: Signer | 'self'): GoStruct {
  return certificate(createCertificate(t, key, signer), keyPem(key));
}

/** The parent of genSignedCert: sprig decodes ca.Cert and ca.Key with these messages. */
function signerOf(ca: GoStruct): Signer {
  const [block] = pemDecode(Buffer.from(field(ca, 'Cert'), 'utf8').toString('latin1'));
  if (block === null) throw new GoError('unable to decode certificate');
  let parsed;
  try {
    parsed = parseCertificate(block.bytes);
  } catch (e) {
    throw new GoError(`error parsing certificate: decodedSignerCert.Bytes: ${(e as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = parsePrivateKeyPem(field(ca, 'Key'));
  } catch (e) {
    throw new GoError(`error parsing private key: ${(e as Error).message}`);
  }
  const tbs = children(children(parseOne(block.bytes))[0]!);
  const v = tbs[0]?.cls === 2 && tbs[0].tag === 0 ? 1 : 0;
  return { subject: tbs[v + 4]!.full, spki: tbs[v + 5]!.full, subjectKeyId: parsed.subjectKeyId, key };
}

function withKey(pem: string): KeyObject {
  try {
    return parsePrivateKeyPem(pem);
  } catch (e) {
    throw new GoError(`parsing private key: ${(e as Error).message}`);
  }
}

function buildCustomCert(b64cert: string, b64key: string): GoStruct {
  const decode = (s: string, what: string): Buffer => {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new GoError(`unable to decode base64 ${what}`);
    return Buffer.from(s, 'base64');
  };
  const cert = decode(b64cert, 'certificate');
  const key = decode(b64key, 'private key');
  const [block] = pemDecode(cert.toString('latin1'));
  if (block === null) throw new GoError('unable to decode certificate');
  try {
    parseCertificate(block.bytes);
  } catch (e) {
    throw new GoError(`error parsing certificate: decodedCert.Bytes: ${(e as Error).message}`);
  }
  try {
    parsePrivateKeyPem(key.toString('utf8'));
  } catch (e) {
    throw new GoError(`error parsing private key: ${(e as Error).message}`);
  }
  return certificate(cert.toString('utf8'), key.toString('utf8'));
}

/**
 * A certificate goes into a Secret (1 MiB at most): names past that are refused before any DER is
 * built or signed, so a tenant's list of a million long names costs a sum, not a certificate.
 */
export const MAX_CERT_NAME_BYTES = 1024 * 1024;

function checkCertSize(t: Template): void {
  let size = t.cn.length;
  for (const ip of t.ips) size += ip.length;
  for (const n of t.dns) size += n.length;
  if (size > MAX_CERT_NAME_BYTES) throw new BudgetExceededError(`a certificate's names would take ${size} bytes (limit ${MAX_CERT_NAME_BYTES})`);
}

export function certFuncs(): Map<string, GoFunc> {
  const leaf = (cn: string, ips: unknown, dns: unknown, days: bigint): Template => {
    const t: Template = { cn, ips: ipList(ips), dns: dnsList(dns), days, isCA: false };
    checkCertSize(t);
    return t;
  };
  const ca = (cn: string, days: bigint): Template => {
    const t: Template = { cn, ips: [], dns: [], days, isCA: true };
    checkCertSize(t);
    return t;
  };
  return new Map<string, GoFunc>([
    ['buildCustomCert', { params: [S, S], fn: buildCustomCert }],
    ['genCA', { params: [S, I], fn: (cn: string, days: bigint) => {
      const t = ca(cn, days);
      const key = generatedKey();
      return issue(t, key, 'self');
    } }],
    ['genCAWithKey', { params: [S, I, S], fn: (cn: string, days: bigint, pem: string) => issue(ca(cn, days), withKey(pem), 'self') }],
    ['genSelfSignedCert', { params: [S, LIST, LIST, I], fn: (cn: string, ips: unknown, dns: unknown, days: bigint) => {
      const t = leaf(cn, ips, dns, days);
      return issue(t, generatedKey(), 'self');
    } }],
    ['genSelfSignedCertWithKey', { params: [S, LIST, LIST, I, S], fn: (cn: string, ips: unknown, dns: unknown, days: bigint, pem: string) => {
      const key = withKey(pem);
      return issue(leaf(cn, ips, dns, days), key, 'self');
    } }],
    ['genSignedCert', { params: [S, LIST, LIST, I, CERTIFICATE_TYPE], fn: (cn: string, ips: unknown, dns: unknown, days: bigint, parent: GoStruct) => {
      const key = generatedKey();
      const signer = signerOf(parent);
      return issue(leaf(cn, ips, dns, days), key, signer);
    } }],
    ['genSignedCertWithKey', { params: [S, LIST, LIST, I, CERTIFICATE_TYPE, S], fn: (cn: string, ips: unknown, dns: unknown, days: bigint, parent: GoStruct, pem: string) => {
      const key = withKey(pem);
      const signer = signerOf(parent);
      return issue(leaf(cn, ips, dns, days), key, signer);
    } }],
  ]);
}
