// Structural defaulting, as the apiserver applies `default` from the CRD schema on create/update
// and on read. Offline tools (render, lint) call it so they see the object the controller sees.
import { RESOURCES, SERVED_VERSIONS, STORAGE_VERSION, type ApiKind, type ApiVersionName } from './constants.ts';
import type { Schema } from './openapi.ts';
import { schemaFor } from './schema.ts';

const schemaCache = new Map<string, Schema>();
export function cachedSchema(kind: ApiKind, version: ApiVersionName): Schema {
  const key = `${kind}/${version}`;
  let schema = schemaCache.get(key);
  if (!schema) {
    schema = schemaFor(kind, version);
    schemaCache.set(key, schema);
  }
  return schema;
}

/**
 * The served version named by obj.apiVersion ("external-secrets.io/v1beta1" → "v1beta1"); the
 * storage version if absent. With `kind`, that kind's versions (generators: v1alpha1 only).
 */
export function versionOf(obj: unknown, kind?: ApiKind): ApiVersionName | undefined {
  const served: readonly string[] = (kind && RESOURCES[kind].versions) ?? SERVED_VERSIONS;
  const apiVersion = (obj as { apiVersion?: unknown } | null)?.apiVersion;
  if (apiVersion === undefined) return (kind && RESOURCES[kind].storageVersion) ?? STORAGE_VERSION;
  if (typeof apiVersion !== 'string') return undefined;
  const version = apiVersion.split('/')[1];
  return served.includes(version ?? '') ? (version as ApiVersionName) : undefined;
}

function defaultInto(schema: Schema, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    if (schema.items) for (let i = 0; i < value.length; i++) value[i] = defaultInto(schema.items, value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  if (schema.properties) {
    for (const [key, prop] of Object.entries(schema.properties)) {
      if (record[key] === undefined && prop.default !== undefined) record[key] = structuredClone(prop.default);
      if (record[key] !== undefined) record[key] = defaultInto(prop, record[key]);
    }
  } else if (schema.additionalProperties) {
    for (const key of Object.keys(record)) record[key] = defaultInto(schema.additionalProperties, record[key]);
  }
  return record;
}

/** Returns a defaulted deep copy of an external-secrets.io object of the given kind. */
export function applyDefaults<T>(kind: ApiKind, obj: T): T {
  const version = versionOf(obj, kind) ?? RESOURCES[kind].storageVersion ?? STORAGE_VERSION;
  return defaultInto(cachedSchema(kind, version), structuredClone(obj)) as T;
}
