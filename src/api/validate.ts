// Offline validation with the same schema the CRDs carry (ajv for the OpenAPI part, the JS twins
// of the CEL rules for the cross-field part). Used by `tessera render`; the apiserver
// remains the authority in a cluster. Messages follow the apiserver's wording and name the field.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { GROUP, KINDS, groupOf, servedVersionsOf, type ApiKind, type ApiVersionName } from './constants.ts';
import { applyDefaults, cachedSchema, versionOf } from './defaults.ts';
import { isValidDuration } from './duration.ts';
import { ruleCheckOf, type Schema } from './openapi.ts';
import { DURATION_PATTERN } from './schema.ts';

export interface ValidationIssue {
  /** Field path as the apiserver prints it, e.g. "spec.data[0].remoteRef.key". */
  path: string;
  message: string;
}

export interface ValidateOptions {
  /** Report fields the schema does not declare (kubectl's strict field validation). Default true. */
  unknownFields?: boolean;
}

/** The ajv form of a CRD schema: Kubernetes extensions removed, unknown fields made visible. */
function toAjvSchema(schema: Schema, unknownFields: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-') || key === 'default' || key === 'description') continue;
    if (key === 'properties') {
      const props: Record<string, unknown> = {};
      for (const [name, prop] of Object.entries(value as Record<string, Schema>)) props[name] = toAjvSchema(prop, unknownFields);
      out['properties'] = props;
    } else if (key === 'items' || key === 'additionalProperties') {
      out[key] = toAjvSchema(value as Schema, unknownFields);
    } else {
      out[key] = value;
    }
  }
  if (unknownFields && schema.properties && !schema['x-kubernetes-preserve-unknown-fields'] && !schema.additionalProperties) {
    out['additionalProperties'] = false;
  }
  return out;
}

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

/** The compiled validator of `schema`, made once per `key`. */
function compiled(key: string, schema: () => Schema, unknownFields: boolean): ValidateFunction {
  let fn = validators.get(key);
  if (!fn) {
    if (!ajv) {
      ajv = new Ajv({ allErrors: true, strict: false });
      ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i);
      ajv.addFormat('byte', /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
      ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
      ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    }
    fn = ajv.compile(toAjvSchema(schema(), unknownFields));
    validators.set(key, fn);
  }
  return fn;
}

function validatorFor(kind: ApiKind, version: ApiVersionName, unknownFields: boolean): ValidateFunction {
  return compiled(`${kind}/${version}/${unknownFields}`, () => cachedSchema(kind, version), unknownFields);
}

/** "/spec/data/0/secretKey" → "spec.data[0].secretKey"; odd keys are quoted: labels["a/b"]. */
export function pointerToPath(pointer: string, extra?: string): string {
  const segments = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) segments.push(extra);
  let path = '';
  for (const seg of segments) {
    if (/^\d+$/.test(seg)) path += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(seg)) path += path === '' ? seg : `.${seg}`;
    else path += `[${JSON.stringify(seg)}]`;
  }
  return path;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

function issueFromAjv(error: ErrorObject, root: unknown): ValidationIssue {
  const params = error.params as Record<string, unknown>;
  const valueAt = (pointer: string): unknown =>
    pointer === '' ? root : pointer.slice(1).split('/').reduce<any>((v, seg) => v?.[seg.replace(/~1/g, '/').replace(/~0/g, '~')], root);
  const value = valueAt(error.instancePath);
  const path = pointerToPath(error.instancePath);
  switch (error.keyword) {
    case 'required':
      return { path: pointerToPath(error.instancePath, String(params['missingProperty'])), message: 'Required value' };
    case 'additionalProperties':
      return { path: pointerToPath(error.instancePath, String(params['additionalProperty'])), message: 'field not declared in schema' };
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return { path, message: `Unsupported value: ${describe(value)}: supported values: ${allowed}` };
    }
    case 'pattern':
      if (params['pattern'] === DURATION_PATTERN) {
        const hint = typeof value === 'string' && isValidDuration(value) ? ' (negative durations are not allowed)' : '';
        return { path, message: `Invalid value: ${describe(value)}: must be a duration such as "1h", "30m", "1h30m", "10s" or "0"${hint}` };
      }
      return { path, message: `Invalid value: ${describe(value)}: should match '${String(params['pattern'])}'` };
    case 'type':
      return { path, message: `Invalid value: ${describe(value)}: must be of type ${String(params['type'])}` };
    case 'maxLength':
      return { path, message: `Too long: may not be more than ${String(params['limit'])} bytes` };
    case 'minLength':
      return { path, message: `Invalid value: ${describe(value)}: should be at least ${String(params['limit'])} chars long` };
    case 'maxItems':
      return { path, message: `Too many: must have at most ${String(params['limit'])} items` };
    case 'minItems':
      return { path, message: `Invalid value: must have at least ${String(params['limit'])} items` };
    case 'maxProperties':
      return { path, message: `Too many: must have at most ${String(params['limit'])} properties` };
    case 'minProperties':
      return { path, message: `Required value: must have at least ${String(params['limit'])} properties` };
    case 'format':
      return { path, message: `Invalid value: ${describe(value)}: must be a valid ${String(params['format'])}` };
    default:
      return { path, message: error.message ?? `failed ${error.keyword}` };
  }
}

/** Runs the JS twins of the schema's CEL rules (x-kubernetes-validations) over a value. */
function celIssues(schema: Schema, value: unknown, path: string, out: ValidationIssue[]): void {
  if (value === undefined || value === null) return;
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    const check = ruleCheckOf(rule);
    let ok = true;
    try {
      ok = check ? check(value) : true;
    } catch {
      ok = false;
    }
    if (!ok) out.push({ path: `${path}${rule.fieldPath ?? ''}`, message: `Invalid value: ${rule.message}` });
  }
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => celIssues(schema.items!, item, `${path}[${i}]`, out));
    return;
  }
  if (typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  if (schema.properties) {
    for (const [key, prop] of Object.entries(schema.properties)) {
      celIssues(prop, record[key], path === '' ? key : `${path}.${key}`, out);
    }
  } else if (schema.additionalProperties) {
    for (const [key, item] of Object.entries(record)) celIssues(schema.additionalProperties, item, `${path}[${JSON.stringify(key)}]`, out);
  }
}

/**
 * Validates an external-secrets.io object of `kind` as the apiserver would (after defaulting).
 * Returns an empty list when valid.
 */
export function validate(kind: ApiKind, obj: unknown, options: ValidateOptions = {}): ValidationIssue[] {
  if (!KINDS.includes(kind)) return [{ path: 'kind', message: `Unsupported value: ${JSON.stringify(kind)}` }];
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    return [{ path: '', message: `Invalid value: must be an object` }];
  }
  const version = versionOf(obj, kind);
  if (!version) {
    const served = servedVersionsOf(kind).map((v) => `"${groupOf(kind)}/${v}"`).join(', ');
    return [{ path: 'apiVersion', message: `Unsupported value: ${describe((obj as { apiVersion?: unknown }).apiVersion)}: supported values: ${served}` }];
  }
  const kindField = (obj as { kind?: unknown }).kind;
  if (kindField !== undefined && kindField !== kind) {
    return [{ path: 'kind', message: `Invalid value: ${describe(kindField)}: expected ${JSON.stringify(kind)}` }];
  }
  const defaulted = applyDefaults(kind, obj);
  const fn = validatorFor(kind, version, options.unknownFields ?? true);
  const issues: ValidationIssue[] = [];
  if (!fn(defaulted)) for (const error of fn.errors ?? []) issues.push(issueFromAjv(error, defaulted));
  celIssues(cachedSchema(kind, version), defaulted, '', issues);
  return unique(issues);
}

/** Formats issues as the apiserver does: `spec.x: Required value`. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}

/**
 * The structural checks of one provider's config (`spec.provider.<provider>`): what the apiserver
 * enforces from the CRD schema (types, enums, required fields, patterns, formats, CEL rules),
 * after defaulting. Providers add only the semantic checks the schema cannot express. Unknown
 * fields are not reported here: the apiserver prunes them before a controller sees the store.
 */
export function validateProviderConfig(provider: string, config: unknown): ValidationIssue[] {
  // Only the provider's own part of the schema is compiled and run (no rule above it reaches into
  // it): compiling all of SecretStore's ~40 providers to check one took most of a first store's
  // start-up. Paths and messages are those the whole-store check gives. `provider` is a provider
  // module's own name, never a tenant's key.
  const schema = cachedSchema('SecretStore', 'v1').properties?.['spec']?.properties?.['provider']?.properties?.[provider];
  if (!schema) throw new Error(`the SecretStore schema has no provider ${JSON.stringify(provider)}`);
  const prefix = `spec.provider.${provider}`;
  const store = { apiVersion: `${GROUP}/v1`, kind: 'SecretStore', metadata: { name: 'store' }, spec: { provider: { [provider]: config } } };
  const defaulted = applyDefaults('SecretStore', store);
  const value = defaulted.spec.provider[provider];
  const fn = compiled(`SecretStore/v1/provider/${provider}`, () => schema, false);
  const issues: ValidationIssue[] = [];
  if (!fn(value)) for (const error of fn.errors ?? []) issues.push(issueFromAjv({ ...error, instancePath: `/spec/provider/${provider}${error.instancePath}` }, defaulted));
  celIssues(schema, value, prefix, issues);
  return unique(issues);
}

/** One line per problem, in a stable order. */
function unique(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
