// Builders for OpenAPI v3 *structural* schemas (the subset CRDs accept), written as plain objects.
// The same objects feed the CRD YAML, the offline validator (ajv) and the TypeScript type generator,
// so each helper only emits keywords that all three understand.

/** A CEL rule as the apiserver reads it (x-kubernetes-validations). */
export interface CelRule {
  rule: string;
  message: string;
  /** JSONPath relative to the schema node, e.g. ".deletionPolicy"; names the field in the error. */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema;
  items?: Schema;
  enum?: string[];
  default?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  /** Only in the int-or-string form: [{ type: 'integer' }, { type: 'string' }]. */
  anyOf?: Schema[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-validations'?: CelRule[];
}

/**
 * The JavaScript twin of a CEL rule, so offline validation (lint/render) refuses what the apiserver
 * refuses. Kept beside the rule text in the schema source; never serialized.
 */
export type RuleCheck = (self: any) => boolean;
const ruleChecks = new WeakMap<CelRule, RuleCheck>();
export function cel(rule: CelRule, check: RuleCheck): CelRule {
  ruleChecks.set(rule, check);
  return rule;
}
export function ruleCheckOf(rule: CelRule): RuleCheck | undefined {
  return ruleChecks.get(rule);
}

/** TypeScript interface name for a schema node (type generation only; never serialized). */
const typeNames = new WeakMap<Schema, string>();
export function named<S extends Schema>(name: string, schema: S): S {
  typeNames.set(schema, name);
  return schema;
}
export function typeNameOf(schema: Schema): string | undefined {
  return typeNames.get(schema);
}

type Extra = Omit<Schema, 'type' | 'properties' | 'required' | 'items' | 'additionalProperties'>;

export function str(description?: string, extra: Extra = {}): Schema {
  return { type: 'string', ...(description ? { description } : {}), ...extra };
}
export function enumOf(values: string[], description?: string, extra: Extra = {}): Schema {
  return str(description, { enum: values, ...extra });
}
export function bool(description?: string, extra: Extra = {}): Schema {
  return { type: 'boolean', ...(description ? { description } : {}), ...extra };
}
export function int(description?: string, extra: Extra = {}): Schema {
  return { type: 'integer', ...(description ? { description } : {}), ...extra };
}

/** An object; keys ending in "!" are required, e.g. { "name!": str() }. */
export function obj(props: Record<string, Schema>, description?: string, extra: Extra = {}): Schema {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const [rawKey, value] of Object.entries(props)) {
    const isRequired = rawKey.endsWith('!');
    const key = isRequired ? rawKey.slice(0, -1) : rawKey;
    properties[key] = value;
    if (isRequired) required.push(key);
  }
  return {
    type: 'object',
    ...(description ? { description } : {}),
    properties,
    ...(required.length ? { required } : {}),
    ...extra,
  };
}
export function arr(items: Schema, description?: string, extra: Extra = {}): Schema {
  return { type: 'array', ...(description ? { description } : {}), items, ...extra };
}
/** map[string]string */
export function stringMap(description?: string, extra: Extra = {}): Schema {
  return { type: 'object', ...(description ? { description } : {}), additionalProperties: { type: 'string' }, ...extra };
}
/** An object kept as-is: provider blocks Tessera does not model yet. */
export function opaque(description?: string, extra: Extra = {}): Schema {
  return { type: 'object', ...(description ? { description } : {}), 'x-kubernetes-preserve-unknown-fields': true, ...extra };
}

/** Returns a copy of a schema without the helper-only bits (there are none in the object itself). */
/**
 * An int-or-string field (intstr.IntOrString). `pattern` and `minimum` sit at the root: the
 * apiserver applies each only to values of its own type, so one bounds the integers and the
 * other the strings.
 */
export function intOrString(description: string, extra: Extra = {}): Schema {
  return { description, anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true, ...extra };
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}
