// ESO's two content hashes, byte for byte, so that ESO and Tessera read each other's objects as up
// to date after a switch-over in either direction (ADR 0006):
// - the `reconcile.external-secrets.io/data-hash` annotation of a Secret: esutils.ObjectHash(secret.Data);
// - an ExternalSecret's status.syncedResourceVersion: ctrlutil.GetResourceVersion(metadata), the
//   generation and a hash of the labels and annotations.
// ESO's ObjectHash is the sha3-224 (hex) of Go's fmt "%+v" text of a value. Go prints a map as
// `map[k1:v1 k2:v2]` with its keys in byte order, a []byte as `[1 2 3]` (decimal, space-separated),
// a string as its raw bytes, and a struct as `{field:value field:value}`; a nil map as `map[]`.
// Pure; no I/O.
import { createHash, type Hash } from 'node:crypto';
import { sortedGoStrings } from '../go/sort.ts';

/** "0 " … "255 ", as bytes: a []byte prints as its decimal byte values separated by spaces. */
const DECIMAL_BYTES: readonly Buffer[] = Array.from({ length: 256 }, (_, i) => Buffer.from(`${i} `, 'latin1'));

/** Go's %v of a []byte: `[1 2 3]`. Written in one buffer: a 1 MiB Secret value is 1M numbers. */
function goByteSliceText(value: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(2 + value.length * 4);
  let at = 0;
  out[at++] = 0x5b; // [
  for (const b of value) at += DECIMAL_BYTES[b]!.copy(out, at);
  if (value.length > 0) at--; // no space after the last number
  out[at++] = 0x5d; // ]
  return out.subarray(0, at);
}

/** Feeds Go's %+v of a map[string]V to the hash; `valueText` prints one value. */
function hashGoMap<V>(h: Hash, map: ReadonlyMap<string, V>, valueText: (v: V) => Buffer | string): void {
  h.update('map[');
  let first = true;
  // Go's order of string map keys (fmtsort): byte order of their UTF-8, not JavaScript's UTF-16.
  for (const key of sortedGoStrings(map.keys())) {
    if (!first) h.update(' ');
    first = false;
    h.update(key, 'utf8');
    h.update(':');
    const text = valueText(map.get(key)!);
    if (typeof text === 'string') h.update(text, 'utf8');
    else h.update(text);
  }
  h.update(']');
}

/**
 * ESO's data-hash annotation value for a Secret's data: esutils.ObjectHash(secret.Data), the
 * sha3-224 of Go's `%+v` of the map[string][]byte (the Secret's whole data as written).
 */
export function esoDataHash(data: ReadonlyMap<string, Uint8Array>): string {
  const h = createHash('sha3-224');
  hashGoMap(h, data, goByteSliceText);
  return h.digest('hex');
}

/**
 * ESO's data-hash annotation value for a generic target: esutils.ObjectHash of the object's
 * `data` as read back from the apiserver (a map[string]interface{} of strings, which Go prints as
 * `map[k1:v1 k2:v2]`, the same text as a map[string]string). A ConfigMap ESO wrote is then taken
 * as up to date after a switch-over, and back.
 */
export function esoStringMapHash(data: ReadonlyMap<string, string>): string {
  const h = createHash('sha3-224');
  hashGoMap(h, data, (v) => v);
  return h.digest('hex');
}

export interface EsoObjectMeta {
  generation?: number | undefined;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
}

/**
 * ESO's status.syncedResourceVersion of an ExternalSecret: "<generation>-<hash>", the hash being
 * ObjectHash of the struct `meta{annotations, labels}` (Go prints `{annotations:map[…] labels:map[…]}`).
 * A change of the spec (generation), a label or an annotation changes it; ESO then syncs again.
 */
export function esoSyncedResourceVersion(meta: EsoObjectMeta): string {
  const h = createHash('sha3-224');
  const asMap = (rec: Record<string, string> | undefined) => new Map(Object.entries(rec ?? {}));
  h.update('{annotations:');
  hashGoMap(h, asMap(meta.annotations), (v) => v);
  h.update(' labels:');
  hashGoMap(h, asMap(meta.labels), (v) => v);
  h.update('}');
  return `${Math.trunc(meta.generation ?? 0)}-${h.digest('hex')}`;
}
