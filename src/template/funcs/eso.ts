// External Secrets Operator's own template functions (pkg/template/v2).

import { compareGoStrings } from '../../go/sort.ts';
import { constants, createPublicKey, createPrivateKey, privateDecrypt } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import * as YAML from 'yaml';
import type { GoFunc } from '../values.ts';
import { GoBytes, goStringFromBytes, mkSlice, str, strBytes } from '../values.ts';
import { GoError } from '../exec.ts';
import { b64decode } from './encoding.ts';
import { jsonMarshal } from './conv.ts';
import { goYamlMarshal, jsonToYamlValue } from './goyaml.ts';
import { decodeChain, encodePkcs12, encodeTrustStore, parsePkcs8 } from './pkcs12.ts';
import { children, parseOne, readOctets, readOid } from './der.ts';
import { bytesEqual, parseCertificate } from './x509.ts';
import type { Cert } from './x509.ts';

// ------------------------------------------------------------ encoding/pem

export interface PemBlock {
  type: string;
  headers: Map<string, string>;
  bytes: Uint8Array;
}

function getLine(data: string): [string, string] {
  let i = data.indexOf('\n');
  let j: number;
  if (i < 0) {
    i = data.length;
    j = i;
  } else {
    j = i + 1;
    if (i > 0 && data[i - 1] === '\r') i--;
  }
  // Trailing spaces and tabs, trimmed by a loop: `/[ \t]+$/` retries at every blank of a long run
  // inside the line (quadratic: 10 s on a line of 80,000 spaces and one letter, from template data).
  let end = i;
  while (end > 0 && (data[end - 1] === ' ' || data[end - 1] === '\t')) end--;
  return [data.slice(0, end), data.slice(j)];
}

// pem.Decode over a latin1 "binary" string (one char per byte)
export function pemDecode(data: string): [PemBlock | null, string] {
  let rest = data;
  for (;;) {
    if (rest.startsWith('-----BEGIN ')) rest = rest.slice('-----BEGIN '.length);
    else {
      const k = rest.indexOf('\n-----BEGIN ');
      if (k < 0) return [null, data];
      rest = rest.slice(k + '\n-----BEGIN '.length);
    }
    let typeLine: string;
    [typeLine, rest] = getLine(rest);
    if (!typeLine.endsWith('-----')) continue;
    typeLine = typeLine.slice(0, -5);
    const p: PemBlock = { type: typeLine, headers: new Map(), bytes: new Uint8Array() };
    for (;;) {
      if (rest.length === 0) return [null, data];
      const [line, next] = getLine(rest);
      const c = line.indexOf(':');
      if (c < 0) break;
      p.headers.set(line.slice(0, c).trim(), line.slice(c + 1).trim());
      rest = next;
    }
    let endIndex: number;
    let endTrailerIndex: number;
    if (p.headers.size === 0 && rest.startsWith('-----END ')) {
      endIndex = 0;
      endTrailerIndex = '\n-----END '.length - 1;
    } else {
      endIndex = rest.indexOf('\n-----END ');
      endTrailerIndex = endIndex + '\n-----END '.length;
    }
    if (endIndex < 0) continue;
    let endTrailer = rest.slice(endTrailerIndex);
    const endTrailerLen = typeLine.length + 5;
    if (endTrailer.length < endTrailerLen) continue;
    const restOfEndLine = endTrailer.slice(endTrailerLen);
    endTrailer = endTrailer.slice(0, endTrailerLen);
    if (!endTrailer.startsWith(typeLine) || !endTrailer.endsWith('-----')) continue;
    if (getLine(restOfEndLine)[0].length !== 0) continue;
    const b64 = rest.slice(0, endIndex).replace(/[ \t\r\n]/g, (c) => (c === ' ' || c === '\t' ? '' : c));
    try {
      p.bytes = b64decode(Buffer.from(b64, 'latin1'));
    } catch {
      continue;
    }
    [, rest] = getLine(rest.slice(endIndex + '\n-----END '.length - 1));
    return [p, rest];
  }
}

export function pemEncode(b: PemBlock): string {
  let s = `-----BEGIN ${b.type}-----\n`;
  if (b.headers.size > 0) {
    const keys = [...b.headers.keys()].sort(compareGoStrings); // Go's pem.Encode: sort.Strings
    const ordered = keys.includes('Proc-Type') ? ['Proc-Type', ...keys.filter((k) => k !== 'Proc-Type')] : keys;
    for (const k of ordered) {
      if (k.includes(':')) throw new GoError('pem: cannot encode a header key that contains a colon');
      s += `${k}: ${b.headers.get(k)}\n`;
    }
    s += '\n';
  }
  const b64 = Buffer.from(b.bytes).toString('base64');
  for (let i = 0; i < b64.length; i += 64) s += b64.slice(i, i + 64) + '\n';
  return s + `-----END ${b.type}-----\n`;
}

function toBinary(s: string | GoBytes): string {
  return typeof s === 'string' ? Buffer.from(s, 'utf8').toString('latin1') : Buffer.from(s.b).toString('latin1');
}

function fromBinary(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}

export function filterPEM(pemType: string, input: string | GoBytes): string {
  let data = toBinary(input);
  let out = '';
  let rest = '';
  for (;;) {
    let block: PemBlock | null;
    [block, rest] = pemDecode(data);
    data = rest;
    if (block === null) break;
    if (block.type.toLowerCase() !== pemType.toLowerCase()) continue;
    out += Buffer.from(pemEncode(block), 'latin1').toString('latin1');
  }
  if (out.length === 0 && rest.length !== 0) throw new GoError('error filtering pem: found junk');
  return fromBinary(out);
}

// ------------------------------------------------------------ JWK

// JSON.parse's messages quote the input; the key material must not reach an error message.
function parseJwk(jwk: string): import('node:crypto').JsonWebKey {
  try {
    return JSON.parse(jwk) as import('node:crypto').JsonWebKey;
  } catch {
    throw new Error('invalid JSON');
  }
}

export function jwkPublicKeyPem(jwk: string): string {
  let key;
  try {
    key = createPublicKey({ key: parseJwk(jwk), format: 'jwk' });
  } catch (e) {
    throw new GoError(`failed to parse key: ${(e as Error).message}`);
  }
  return key.export({ type: 'spki', format: 'pem' }) as string;
}

export function jwkPrivateKeyPem(jwk: string): string {
  let key;
  try {
    key = createPrivateKey({ key: parseJwk(jwk), format: 'jwk' });
  } catch (e) {
    throw new GoError(`failed to parse key: ${(e as Error).message}`);
  }
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

// ------------------------------------------------------------ YAML (sigs.k8s.io/yaml)

export function toYAML(v: unknown): string {
  let json: string;
  try {
    json = jsonMarshal(v);
  } catch {
    return '';
  }
  return goYamlMarshal(jsonToYamlValue(json)).replace(/\n$/, '');
}

function yamlToGo(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(yamlToGo);
  if (v instanceof Map) {
    const m = new Map<string, unknown>();
    for (const [k, x] of v) m.set(String(k), yamlToGo(x));
    return m;
  }
  if (typeof v === 'object') {
    const m = new Map<string, unknown>();
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) m.set(k, yamlToGo(x));
    return m;
  }
  return null;
}

export function fromYAML(s: string): Map<string, unknown> {
  const m = new Map<string, unknown>();
  let v: unknown;
  try {
    v = YAML.parse(s, { version: '1.1', mapAsMap: true, uniqueKeys: false, intAsBigInt: false });
  } catch (e) {
    m.set('Error', `error converting YAML to JSON: yaml: ${(e as Error).message.split('\n')[0]}`);
    return m;
  }
  if (v === null || v === undefined) return m;
  const g = yamlToGo(v);
  if (!(g instanceof Map)) {
    const kind = Array.isArray(g) ? 'array' : typeof g === 'string' ? 'string' : typeof g === 'number' ? 'number' : typeof g === 'boolean' ? 'bool' : 'value';
    m.set('Error', `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`);
    return m;
  }
  return g;
}

// ------------------------------------------------------------ PKCS#12, certificate chains, RSA

// A Go function that dereferences a nil *pem.Block panics; text/template reports the recovered
// runtime error as the call's error.
const nilDeref = 'runtime error: invalid memory address or nil pointer dereference';

function bytesOf(v: string | GoBytes): Uint8Array {
  return strBytes(v);
}

function pemBlock(type: string, der: Uint8Array): string {
  return pemEncode({ type, headers: new Map(), bytes: der });
}

/** pem.Decode over bytes; returns the block and the remaining bytes. */
function pemDecodeBytes(data: Uint8Array): [PemBlock | null, Uint8Array] {
  const [block, rest] = pemDecode(Buffer.from(data).toString('latin1'));
  return [block, new Uint8Array(Buffer.from(rest, 'latin1'))];
}

/** ESO's parsePrivateKey: PKCS#1, then PKCS#8, then SEC 1 (EC). */
function parsePrivateKey(der: Uint8Array): KeyObject {
  for (const type of ['pkcs1', 'pkcs8', 'sec1'] as const) {
    let key: KeyObject;
    try {
      key = type === 'pkcs8' ? parsePkcs8(der) : createPrivateKey({ key: Buffer.from(der), format: 'der', type });
    } catch {
      continue;
    }
    if (type === 'pkcs1' && key.asymmetricKeyType !== 'rsa') continue;
    if (type === 'sec1' && !['secp224r1', 'prime256v1', 'secp384r1', 'secp521r1'].includes(key.asymmetricKeyDetails?.namedCurve ?? '')) continue;
    return key;
  }
  throw new GoError('unable to parse private key type');
}

function pkcs8Pem(key: KeyObject): string {
  return pemBlock('PRIVATE KEY', new Uint8Array(key.export({ format: 'der', type: 'pkcs8' })));
}

export function pkcs12keyPass(pass: string | GoBytes, input: string | GoBytes): string {
  let chain;
  try {
    chain = decodeChain(bytesOf(input), str(pass));
  } catch (e) {
    throw new GoError(`unable to decode pkcs12 with password: ${(e as Error).message}`);
  }
  return pkcs8Pem(chain.key);
}

export function pkcs12certPass(pass: string | GoBytes, input: string | GoBytes): string {
  let chain;
  try {
    chain = decodeChain(bytesOf(input), str(pass));
  } catch (e) {
    throw new GoError(`unable to decode pkcs12 certificate with password: ${(e as Error).message}`);
  }
  const certs = [chain.cert, ...chain.caCerts];
  // Order leaf → intermediates → root when the chain is unambiguous, else keep the file's order.
  let ordered: Cert[];
  try {
    ordered = orderChain(certs);
  } catch {
    ordered = certs;
  }
  return ordered.map((c) => pemBlock('CERTIFICATE', c.raw)).join('');
}

/** ESO's fetchX509CertChains: link certificates by AuthorityKeyId → SubjectKeyId, leaf first. */
function orderChain(certs: Cert[]): Cert[] {
  const parent = new Array<number>(certs.length).fill(-1);
  const isParent = new Array<boolean>(certs.length).fill(false);
  for (let i = 0; i < certs.length; i++) {
    for (let j = 0; j < certs.length; j++) {
      if (i === j) continue;
      // bytes.Equal: a missing identifier equals a missing (or empty) one.
      if (bytesEqual(certs[i]!.authorityKeyId, certs[j]!.subjectKeyId)) {
        isParent[j] = true;
        parent[i] = j;
        break;
      }
    }
  }
  let leaf = -1;
  for (let i = 0; i < certs.length; i++) {
    if (!isParent[i]) {
      if (leaf >= 0) throw new GoError('found multiple leaf or disjunct certificates');
      leaf = i;
    }
  }
  if (leaf < 0) throw new GoError('no leaf certificate found');
  const out: Cert[] = [];
  for (let n = leaf; n >= 0; n = parent[n]!) {
    if (out.length >= certs.length) throw new GoError('constructing chain resulted in cycle');
    out.push(certs[n]!);
  }
  return out;
}

function pemCertificates(data: Uint8Array): Cert[] {
  const out: Cert[] = [];
  let rest = data;
  for (;;) {
    let block: PemBlock | null;
    [block, rest] = pemDecodeBytes(rest);
    if (block === null) return out;
    out.push(parseCertificate(block.bytes));
  }
}

const isRoot = (c: Cert) => c.authorityKeyId === undefined || bytesEqual(c.authorityKeyId, c.subjectKeyId);

export function filterCertChain(certType: string, input: string | GoBytes): string {
  const ordered = orderChain(pemCertificates(bytesOf(input)));
  switch (certType) {
    case 'leaf': {
      const c = ordered[0]!;
      if (c.authorityKeyId !== undefined && !bytesEqual(c.authorityKeyId, c.subjectKeyId)) return pemBlock('CERTIFICATE', c.raw);
      break;
    }
    case 'intermediate': {
      if (ordered.length < 2) return '';
      let out = '';
      for (const c of ordered.slice(1)) {
        if (isRoot(c)) break;
        out += pemBlock('CERTIFICATE', c.raw);
      }
      return out;
    }
    case 'root': {
      const c = ordered[ordered.length - 1]!;
      if (isRoot(c)) return pemBlock('CERTIFICATE', c.raw);
      break;
    }
  }
  return '';
}

/** The first PEM block must exist (ESO dereferences it unchecked). */
function firstPem(data: string | GoBytes): [PemBlock, Uint8Array] {
  const [block, rest] = pemDecodeBytes(bytesOf(data));
  if (block === null) throw new GoError(nilDeref);
  return [block, rest];
}

/** ESO's parseCaCerts: every remaining byte must belong to a PEM certificate. */
function parseCaCerts(data: Uint8Array): Cert[] {
  const out: Cert[] = [];
  let rest = data;
  while (rest.length > 0) {
    let block: PemBlock | null;
    [block, rest] = pemDecodeBytes(rest);
    if (block === null) throw new GoError(nilDeref);
    out.push(parseCertificate(block.bytes));
  }
  return out;
}

function certsKeyToPkcs12(cert: Cert, key: string | GoBytes, caCerts: Cert[], pass: string | GoBytes): string {
  const [keyBlock] = firstPem(key);
  const parsed = parsePrivateKey(keyBlock.bytes);
  return Buffer.from(encodePkcs12(parsed, cert, caCerts, str(pass))).toString('base64');
}

export function pemToPkcs12Pass(cert: string | GoBytes, key: string | GoBytes, pass: string | GoBytes): string {
  const [certBlock] = firstPem(cert);
  return certsKeyToPkcs12(parseCertificate(certBlock.bytes), key, [], pass);
}

export function fullPemToPkcs12Pass(cert: string | GoBytes, key: string | GoBytes, pass: string | GoBytes): string {
  const [certBlock, rest] = firstPem(cert);
  const leaf = parseCertificate(certBlock.bytes);
  return certsKeyToPkcs12(leaf, key, parseCaCerts(rest), pass);
}

export function pemTruststoreToPKCS12Pass(cert: string | GoBytes, pass: string | GoBytes): string {
  return Buffer.from(encodeTrustStore(parseCaCerts(bytesOf(cert)), str(pass))).toString('base64');
}

const oaepHashes: Record<string, string> = { None: 'sha256', SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };

export function rsaDecrypt(scheme: string | GoBytes, hash: string | GoBytes, input: string | GoBytes, privateKey: string | GoBytes): string | GoBytes {
  const s = str(scheme);
  if (s === 'None') return input;
  if (s !== 'RSA-OAEP') throw new GoError(`decryption scheme ${s} is not supported`);
  const [block] = pemDecodeBytes(bytesOf(privateKey));
  if (block === null) throw new GoError('failed to decode PEM block');
  let key: KeyObject;
  try {
    key = parsePrivateKey(block.bytes);
  } catch (e) {
    throw new GoError(`could not parse private key: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new GoError('could not parse RSA private key');
  let out: Buffer;
  try {
    out = privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHashes[str(hash)] ?? 'sha256' }, bytesOf(input));
  } catch {
    throw new GoError('error decrypting data with RSA: crypto/rsa: decryption error');
  }
  return goStringFromBytes(out);
}

/** net.IP.String() of a SAN's address: dotted IPv4 (also for v4-mapped IPv6), else RFC 5952. */
function ipString(b: Uint8Array): string {
  const mapped = b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (b.length === 4 || mapped) return [...b.subarray(b.length - 4)].join('.');
  const groups = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(groups) : `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

const OID_SAN = '2.5.29.17';

/**
 * ESO's certSANs: the Subject Alternative Names of the first PEM certificate (text before
 * "-----BEGIN" is skipped), in x509's order: DNS names, IP addresses, email addresses, URIs.
 */
export function certSANs(input: string | GoBytes): unknown[] {
  let data = bytesOf(input);
  const begin = Buffer.from(data).indexOf('-----BEGIN');
  if (begin > 0) data = data.subarray(begin);
  const [block] = pemDecodeBytes(data);
  if (block === null) throw new GoError('failed to decode PEM block');
  try {
    parseCertificate(block.bytes);
  } catch (e) {
    throw new GoError(`failed to parse certificate: ${(e as Error).message}`);
  }
  const dns: string[] = [];
  const ips: string[] = [];
  const emails: string[] = [];
  const uris: string[] = [];
  const ascii = (b: Uint8Array, what: string): string => {
    if (b.some((c) => c > 0x7f)) throw new GoError(`failed to parse certificate: x509: SAN ${what} is malformed`);
    return Buffer.from(b).toString('latin1');
  };
  for (const ext of certExtensions(block.bytes)) {
    if (ext.id !== OID_SAN) continue;
    for (const name of children(parseOne(ext.value))) {
      if (name.cls !== 2) continue;
      switch (name.tag) {
        case 1: emails.push(ascii(name.body, 'rfc822Name')); break;
        case 2: dns.push(ascii(name.body, 'dNSName')); break;
        case 6: uris.push(ascii(name.body, 'uniformResourceIdentifier')); break;
        case 7:
          if (name.body.length !== 4 && name.body.length !== 16) throw new GoError(`failed to parse certificate: x509: cannot parse IP address of length ${name.body.length}`);
          ips.push(ipString(name.body));
          break;
      }
    }
  }
  return mkSlice([...dns, ...ips, ...emails, ...uris], '[]string');
}

/** The extensions of a certificate that parseCertificate has accepted. */
function certExtensions(der: Uint8Array): { id: string; value: Uint8Array }[] {
  const tbs = children(children(parseOne(der))[0]!);
  const out: { id: string; value: Uint8Array }[] = [];
  for (const el of tbs) {
    if (el.cls !== 2 || el.tag !== 3) continue;
    for (const ext of children(children(el)[0]!)) {
      const parts = children(ext);
      out.push({ id: readOid(parts[0], 'extension id'), value: readOctets(parts[parts.length - 1], 'extension value') });
    }
  }
  return out;
}

export function esoOwnFuncs(): Map<string, GoFunc> {
  const S = 'string';
  return new Map<string, GoFunc>([
    ['toYaml', { params: ['interface {}'], fn: toYAML }],
    ['fromYaml', { params: [S], fn: fromYAML }],
    ['filterPEM', { params: [S, S], fn: filterPEM }],
    ['filterCertChain', { params: [S, S], fn: filterCertChain }],
    ['certSANs', { params: [S], fn: certSANs }],
    ['jwkPublicKeyPem', { params: [S], fn: jwkPublicKeyPem }],
    ['jwkPrivateKeyPem', { params: [S], fn: jwkPrivateKeyPem }],
    ['pkcs12key', { params: [S], fn: (input: string | GoBytes) => pkcs12keyPass('', input) }],
    ['pkcs12keyPass', { params: [S, S], fn: pkcs12keyPass }],
    ['pkcs12cert', { params: [S], fn: (input: string | GoBytes) => pkcs12certPass('', input) }],
    ['pkcs12certPass', { params: [S, S], fn: pkcs12certPass }],
    ['pemToPkcs12', { params: [S, S], fn: (cert: string | GoBytes, key: string | GoBytes) => pemToPkcs12Pass(cert, key, '') }],
    ['pemToPkcs12Pass', { params: [S, S, S], fn: pemToPkcs12Pass }],
    ['fullPemToPkcs12', { params: [S, S], fn: (cert: string | GoBytes, key: string | GoBytes) => fullPemToPkcs12Pass(cert, key, '') }],
    ['fullPemToPkcs12Pass', { params: [S, S, S], fn: fullPemToPkcs12Pass }],
    ['pemTruststoreToPKCS12', { params: [S], fn: (cert: string | GoBytes) => pemTruststoreToPKCS12Pass(cert, '') }],
    ['pemTruststoreToPKCS12Pass', { params: [S, S], fn: pemTruststoreToPKCS12Pass }],
    ['rsaDecrypt', { params: [S, S, S, S], fn: rsaDecrypt }],
    ['getSecretKey', {
      params: [S, S, S],
      fn: () => {
        throw new GoError('getSecretKey reads Secrets from the cluster while rendering, which Tessera does not allow; use spec.data with the kubernetes provider, or templateFrom');
      },
    }],
  ]);
}
