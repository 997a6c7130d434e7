// External Secrets Operator's own template functions (pkg/template/v2).

import { createPublicKey, createPrivateKey } from 'node:crypto';
import * as YAML from 'yaml';
import type { GoFunc } from '../values.ts';
import { GoBytes, TypedInt, GoTime, mkSlice, str } from '../values.ts';
import { GoError } from '../exec.ts';
import { b64decode } from './encoding.ts';
import { jsonMarshal } from './conv.ts';
import { goYamlMarshal, jsonToYamlValue } from './goyaml.ts';

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
  return [data.slice(0, i).replace(/[ \t]+$/, ''), data.slice(j)];
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
    const keys = [...b.headers.keys()].sort();
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

export function jwkPublicKeyPem(jwk: string): string {
  let key;
  try {
    key = createPublicKey({ key: JSON.parse(jwk) as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch (e) {
    throw new GoError(`failed to parse key: ${(e as Error).message}`);
  }
  return key.export({ type: 'spki', format: 'pem' }) as string;
}

export function jwkPrivateKeyPem(jwk: string): string {
  let key;
  try {
    key = createPrivateKey({ key: JSON.parse(jwk) as import('node:crypto').JsonWebKey, format: 'jwk' });
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

function unsupportedPkcs12(name: string): GoFunc {
  return {
    params: ['interface {}'],
    variadic: true,
    fn: () => {
      throw new GoError(`${name}: PKCS#12 support is not available in this build of Tessera`);
    },
  };
}

export function esoOwnFuncs(): Map<string, GoFunc> {
  const S = 'string';
  return new Map<string, GoFunc>([
    ['toYaml', { params: ['interface {}'], fn: toYAML }],
    ['fromYaml', { params: [S], fn: fromYAML }],
    ['filterPEM', { params: [S, S], fn: filterPEM }],
    ['jwkPublicKeyPem', { params: [S], fn: jwkPublicKeyPem }],
    ['jwkPrivateKeyPem', { params: [S], fn: jwkPrivateKeyPem }],
    ['pkcs12key', unsupportedPkcs12('pkcs12key')],
    ['pkcs12keyPass', unsupportedPkcs12('pkcs12keyPass')],
    ['pkcs12cert', unsupportedPkcs12('pkcs12cert')],
    ['pkcs12certPass', unsupportedPkcs12('pkcs12certPass')],
    ['pemToPkcs12', unsupportedPkcs12('pemToPkcs12')],
    ['pemToPkcs12Pass', unsupportedPkcs12('pemToPkcs12Pass')],
    ['fullPemToPkcs12', unsupportedPkcs12('fullPemToPkcs12')],
    ['fullPemToPkcs12Pass', unsupportedPkcs12('fullPemToPkcs12Pass')],
  ]);
}

void str;
void TypedInt;
void GoTime;
void mkSlice;
