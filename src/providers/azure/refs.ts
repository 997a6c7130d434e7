// How an azurekv remoteRef names a Key Vault object, and how objects become raw values, as ESO
// reads them: "secret/<name>" (or a bare name) is a secret's value, "key/<name>" the key's JSON
// Web Key (public parts; Key Vault never returns private ones), "cert/<name>" the certificate's
// DER bytes (Key Vault's `cer`); metadataPolicy Fetch returns the object's tags plus its
// attribute.* timestamps as a JSON object. Pure functions, unit-tested without a vault.
import { goJsonMarshal } from '../../go/json.ts';
import { ProviderError } from '../provider.ts';

export type ObjectType = 'secret' | 'key' | 'cert';

export interface ObjectRef {
  type: ObjectType;
  name: string;
  /** Key Vault's version id; undefined for the current version. */
  version: string | undefined;
}

/** Key Vault object names: 1-127 letters, digits and dashes. */
const NAME = /^[0-9A-Za-z-]{1,127}$/;
/** Key Vault version ids are 32 hex digits; letters and digits, bounded, keep any URL path intact. */
const VERSION = /^[0-9A-Za-z]{1,64}$/;

/**
 * Splits remoteRef.key as ESO does (type before the first "/", the name after it; later segments
 * are ignored) and checks name and version, since both become part of the request path.
 */
export function parseObjectRef(key: string, version: string | undefined): ObjectRef {
  const parts = key.split('/');
  const type = parts.length > 1 ? parts[0]! : 'secret';
  const name = parts.length > 1 ? parts[1]! : key;
  const shown = JSON.stringify(key.slice(0, 140));
  if (type !== 'secret' && type !== 'key' && type !== 'cert') {
    throw new ProviderError('InvalidRequest', `remoteRef.key ${shown}: unknown Azure Key Vault object type ${JSON.stringify(type.slice(0, 32))} (use secret/, key/ or cert/)`);
  }
  if (!NAME.test(name)) throw new ProviderError('InvalidRequest', `remoteRef.key ${shown}: an Azure Key Vault object name is 1-127 letters, digits and dashes`);
  const v = version === undefined || version === '' || version === 'latest' ? undefined : version;
  if (v !== undefined && !VERSION.test(v)) throw new ProviderError('InvalidRequest', `remoteRef.version: ${JSON.stringify(v.slice(0, 70))} is not an Azure Key Vault version id`);
  return { type: type as ObjectType, name, version: v };
}

/** The properties every Key Vault object has that metadataPolicy Fetch returns. */
export interface ObjectProperties {
  tags?: Record<string, string> | undefined;
  expiresOn?: Date | undefined;
  createdOn?: Date | undefined;
  updatedOn?: Date | undefined;
  notBefore?: Date | undefined;
}

/** Go's time.RFC3339 of a UTC time: seconds, no fraction. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Tags plus attribute.expires/created/updated/notBefore, as a JSON object (ESO's metadata). */
export function metadataJson(p: ObjectProperties): string {
  const m = new Map<string, string>(Object.entries(p.tags ?? {}));
  const set = (k: string, d: Date | undefined): void => {
    if (d instanceof Date && !Number.isNaN(d.getTime())) m.set(k, rfc3339(d));
  };
  set('attribute.expires', p.expiresOn);
  set('attribute.created', p.createdOn);
  set('attribute.updated', p.updatedOn);
  set('attribute.notBefore', p.notBefore);
  return goJsonMarshal(m);
}

/** A JSON Web Key as the SDK hands it: byte fields decoded, key_ops as keyOps. */
export interface SdkJsonWebKey {
  kid?: string | undefined;
  kty?: string | undefined;
  keyOps?: string[] | undefined;
  n?: Uint8Array | undefined;
  e?: Uint8Array | undefined;
  d?: Uint8Array | undefined;
  dp?: Uint8Array | undefined;
  dq?: Uint8Array | undefined;
  qi?: Uint8Array | undefined;
  p?: Uint8Array | undefined;
  q?: Uint8Array | undefined;
  k?: Uint8Array | undefined;
  t?: Uint8Array | undefined;
  crv?: string | undefined;
  x?: Uint8Array | undefined;
  y?: Uint8Array | undefined;
}

const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/**
 * The key as Key Vault's wire JSON (RFC 7517 names, base64url without padding), fields in the
 * order of ESO's json.Marshal of keyvault.JSONWebKey, absent ones left out.
 */
export function jsonWebKeyJson(k: SdkJsonWebKey): string {
  const m = new Map<string, string | string[]>();
  const str = (name: string, v: string | undefined): void => {
    if (v !== undefined) m.set(name, v);
  };
  const bytes = (name: string, v: Uint8Array | undefined): void => {
    if (v !== undefined) m.set(name, b64url(v));
  };
  str('kid', k.kid);
  str('kty', k.kty);
  if (k.keyOps !== undefined) m.set('key_ops', k.keyOps);
  bytes('n', k.n);
  bytes('e', k.e);
  bytes('d', k.d);
  bytes('dp', k.dp);
  bytes('dq', k.dq);
  bytes('qi', k.qi);
  bytes('p', k.p);
  bytes('q', k.q);
  bytes('k', k.k);
  bytes('key_hsm', k.t);
  str('crv', k.crv);
  bytes('x', k.x);
  bytes('y', k.y);
  // A Go struct marshals in field order, not sorted: build the object text in that order.
  return `{${[...m].map(([name, v]) => `${goJsonMarshal(name)}:${goJsonMarshal(v)}`).join(',')}}`;
}

/** dataFrom.find's tag filter: every wanted tag present with exactly that value. */
export function tagsMatch(tags: Record<string, string> | undefined, wanted: ReadonlyArray<[string, string]>): boolean {
  return wanted.every(([k, v]) => tags !== undefined && Object.hasOwn(tags, k) && tags[k] === v);
}
