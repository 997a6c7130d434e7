// ESO 2.9's generic targets (spec.target.manifest) of kind ConfigMap (other kinds:
// src/sync/generic-target.ts). Why a view instead of a second sync core: the ConfigMap is planned exactly as a
// Secret (data, templates, ownership, write records, Merge), so every ownership rule of ADR 0004
// holds for it unchanged. This module only translates between the two shapes:
// - configMapAsSecret: the ConfigMap as the sync core reads an existing Secret (data as bytes);
// - secretAsConfigMap: the planned Secret as the ConfigMap to write (data as text);
// - forConfigMapTarget: the ExternalSecret without the fields that only mean something for a
//   Secret (template.type, immutable), which ESO's generic path ignores too.
// ESO hashes a ConfigMap's data as text (esoStringMapHash), a Secret's as bytes (esoDataHash): the
// views translate the data-hash annotation so that either controller reads the other's ConfigMap
// as up to date. Pure; no I/O.
import { ANNOTATION_DATA_HASH } from '../api/constants.ts';
import type { ObjectMeta } from '../api/meta.ts';
import type { ExternalSecret } from '../api/types.generated.ts';
import { syncErrors } from './errors.ts';
import { esoDataHash, esoStringMapHash } from './eso-hash.ts';
import type { Secret } from './secret.ts';

export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ObjectMeta & { name: string; namespace?: string };
  data?: Record<string, string>;
  /** Never written by an ExternalSecret; kept as it is on update. */
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

export function forConfigMapTarget(es: ExternalSecret): ExternalSecret {
  const target = es.spec.target;
  if (!target) return es;
  const { immutable: _immutable, template, ...rest } = target;
  let withoutType = template;
  if (template?.type !== undefined) {
    const { type: _type, ...others } = template;
    withoutType = others;
  }
  return { ...es, spec: { ...es.spec, target: { ...rest, ...(withoutType ? { template: withoutType } : {}) } } };
}

function stringMap(rec: Record<string, string> | undefined): Map<string, string> {
  return new Map(Object.entries(rec ?? {}));
}

/**
 * The existing ConfigMap as the sync core reads a Secret. A data-hash that is ESO's (or ours) for
 * the ConfigMap's text becomes the Secret-shaped hash of the same bytes; any other value stays as
 * it is, so a hand edit still reads as an edit.
 */
export function configMapAsSecret(cm: ConfigMap): Secret {
  const text = stringMap(cm.data);
  const bytes = new Map([...text].map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'utf8'))] as const));
  const annotations = { ...cm.metadata.annotations };
  const recorded = annotations[ANNOTATION_DATA_HASH];
  if (recorded !== undefined && recorded === esoStringMapHash(text)) annotations[ANNOTATION_DATA_HASH] = esoDataHash(bytes);
  const data: Record<string, string> = {};
  for (const [k, v] of bytes) data[k] = Buffer.from(v).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { ...cm.metadata, annotations },
    data,
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The ConfigMap to write for a planned Secret. A ConfigMap's data holds text: a value that is not
 * UTF-8 is refused (ESO would write it mangled), by position so that no key derived from a value
 * is quoted. binaryData of an existing ConfigMap is kept; ESO's generic path ignores `immutable`.
 */
export function secretAsConfigMap(secret: Secret, existing: ConfigMap | undefined): ConfigMap {
  const data: Record<string, string> = {};
  const keys = Object.keys(secret.data ?? {}).sort();
  keys.forEach((k, i) => {
    try {
      data[k] = utf8.decode(Buffer.from(secret.data![k]!, 'base64'));
    } catch {
      throw syncErrors.configMapValueNotText(i + 1, keys.length);
    }
  });
  const annotations = { ...secret.metadata.annotations };
  if (annotations[ANNOTATION_DATA_HASH] !== undefined) annotations[ANNOTATION_DATA_HASH] = esoStringMapHash(stringMap(data));
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { ...secret.metadata, annotations },
    data,
    ...(existing?.binaryData ? { binaryData: existing.binaryData } : {}),
  };
}
