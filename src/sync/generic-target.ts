// ESO 2.9's generic targets (spec.target.manifest) of kinds other than ConfigMap: a custom
// resource or another namespaced built-in kind written instead of a Secret. Why a view over the
// sync core again (as src/sync/configmap-target.ts does for ConfigMaps): data, dataFrom,
// templates, metadata, creationPolicy, deletionPolicy and every ownership rule of ADR 0004 are
// planned once, for a Secret; this module only decides which kinds may be written and turns the
// planned Secret into the object ESO would write:
// - without a template, the data goes to `spec.data` (values as text), as ESO's createSimpleManifest;
// - with a template, template.data and templateFrom with target Data go to the object's top-level
//   `data`, Labels and Annotations to its metadata, and templateFrom[].literal with any other
//   target (a path such as `spec.database` or `spec.rules[0].from`) is rendered, read as YAML and
//   put at that path, merged into a map already there (ESO's applyParsedToPath). The literal is
//   rendered by the core as a template.data entry under a reserved key, so it runs in the compute
//   worker under the template budget like every other template; only the YAML placement is here.
// - ESO's data-hash annotation is esutils.ObjectHash of `spec` (or `data` when there is no spec).
// Pure; no I/O. Values are never quoted in errors.
import * as YAML from 'yaml';
import { ANNOTATION_DATA_HASH } from '../api/constants.ts';
import type { ObjectMeta } from '../api/meta.ts';
import type { ExternalSecret, ManifestReference } from '../api/types.generated.ts';
import { createHash } from 'node:crypto';
import { formatFloat } from '../template/strconv.ts';
import { compareGoStrings } from '../go/sort.ts';
import { syncErrors, type SyncError } from './errors.ts';
import { forConfigMapTarget } from './configmap-target.ts';
import type { Secret } from './secret.ts';

/** A generic target object as read from and written to the apiserver. */
export interface GenericObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string; namespace?: string };
  [field: string]: unknown;
}

// --- which kinds ---------------------------------------------------------------------------

/**
 * Kinds a tenant never writes through the operator, whatever the operator's RBAC grants: each
 * would let a namespace's ExternalSecret author do more than write configuration. Secrets have
 * their own target (and its rules on types and immutability); ServiceAccounts, RBAC and the
 * authentication and authorization APIs grant identities; Pods and the workload APIs run code
 * under any ServiceAccount of the namespace; Leases take over leader elections (Tessera's own
 * included); external-secrets.io kinds would let an ExternalSecret create ExternalSecrets,
 * stores and generators. Keyed as `Kind` (core group) or `Kind.group`; `*.group` is a whole group.
 */
export const REFUSED_GENERIC_TARGET_KINDS: readonly string[] = [
  'Secret', 'ServiceAccount', 'Pod', 'ReplicationController', 'PodTemplate', 'Binding',
  '*.rbac.authorization.k8s.io', '*.authentication.k8s.io', '*.authorization.k8s.io',
  '*.apps', '*.batch', '*.coordination.k8s.io', '*.certificates.k8s.io', '*.admissionregistration.k8s.io',
  '*.external-secrets.io', '*.generators.external-secrets.io',
];

/** `Kind` for the core group, `Kind.group` otherwise: how kinds are named in flags and messages. */
export function kindKey(group: string, kind: string): string {
  return group ? `${kind}.${group}` : kind;
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

function listed(list: readonly string[], group: string, kind: string): boolean {
  const key = kindKey(group, kind);
  return list.some((e) => e === key || (group !== '' && e === `*.${group}`));
}

/**
 * Why this manifest cannot be a target (before discovery is asked), or undefined. `allowed` is
 * --generic-target-kinds: when set, only the kinds it names (and ConfigMap) are written.
 */
export function refusedGenericKind(manifest: ManifestReference, allowed: readonly string[] | undefined): SyncError | undefined {
  const group = groupOf(manifest.apiVersion);
  const kind = manifest.kind;
  if (group === '' && kind === 'ConfigMap') return undefined;
  if (listed(REFUSED_GENERIC_TARGET_KINDS, group, kind)) {
    return syncErrors.unsupportedTargetKind(manifest.apiVersion, kind, group === '' && kind === 'Secret'
      ? 'a Secret is the default target: remove spec.target.manifest'
      : 'this kind is never written as a generic target (it grants identities, runs workloads or manages ExternalSecrets)');
  }
  if (allowed && allowed.length > 0 && !listed(allowed, group, kind)) {
    return syncErrors.unsupportedTargetKind(manifest.apiVersion, kind, 'this kind is not in the operator\'s --generic-target-kinds');
  }
  return undefined;
}

// --- template paths ------------------------------------------------------------------------

/** template.data keys under this prefix carry templateFrom literals rendered for a path. */
export const PATH_TEMPLATE_KEY_PREFIX = 'tessera.generic-target.path.';
const MAX_PATH_CHARS = 256;
const MAX_PATH_TOKENS = 32;
/** ESO's bound on an array index in a path (setAtPath grows arrays up to it). */
const MAX_ARRAY_INDEX = 10_000;
/**
 * Array slots all the paths of one object may create (each index grows its array with nulls):
 * without it, many paths of nested indexes, written in a few hundred bytes, would build hundreds
 * of millions of slots on the event loop.
 */
const MAX_GROWN_SLOTS = 10_000;

/** What the paths of one object may still grow (see MAX_GROWN_SLOTS). */
export interface GrowthBudget {
  slots: number;
}

/** Top-level fields a path may not write: identity, placement and the apiserver's own. */
const PROTECTED_FIELDS: ReadonlySet<string> = new Set(['apiVersion', 'kind', 'metadata', 'status']);

export type PathToken = { key: string } | { index: number };

/** A templateFrom target that is a path: the field it came from and where it goes. */
export interface TemplatePath {
  /** The template.data key the literal is rendered under. */
  key: string;
  tokens: PathToken[];
  /** `templateFrom[i].target` as written: "spec" alone replaces the whole spec (ESO). */
  target: string;
  field: string;
}

/** ESO's path syntax: dot-separated keys, each optionally followed by [n] indexes; a key first. */
export function parseTargetPath(target: string, field: string): PathToken[] {
  const bad = (why: string) => syncErrors.templateFailed(field, `invalid target path: ${why}`);
  if (target.length > MAX_PATH_CHARS) throw bad(`longer than ${MAX_PATH_CHARS} characters`);
  const tokens: PathToken[] = [];
  for (const seg of target.split('.')) {
    if (seg === '') throw bad('empty segment');
    const open = seg.indexOf('[');
    const name = open < 0 ? seg : seg.slice(0, open);
    let rest = open < 0 ? '' : seg.slice(open);
    if (name !== '') tokens.push({ key: name });
    while (rest !== '') {
      const end = rest.indexOf(']');
      if (rest[0] !== '[' || end < 0) throw bad('unterminated or misplaced "["');
      const digits = rest.slice(1, end);
      if (!/^[0-9]{1,5}$/.test(digits) || Number(digits) > MAX_ARRAY_INDEX) throw bad(`an index must be a number from 0 to ${MAX_ARRAY_INDEX}`);
      tokens.push({ index: Number(digits) });
      rest = rest.slice(end + 1);
    }
    if (tokens.length > MAX_PATH_TOKENS) throw bad(`more than ${MAX_PATH_TOKENS} steps`);
  }
  const first = tokens[0];
  if (!first || !('key' in first)) throw bad('a path must start with a key');
  if (PROTECTED_FIELDS.has(first.key)) throw bad(`${first.key} is not written through a template path`);
  return tokens;
}

const WELL_KNOWN_TARGETS: ReadonlySet<string> = new Set(['', 'data', 'labels', 'annotations']);

/**
 * The ExternalSecret as the sync core plans it for a generic target, and the template paths to
 * place after. Secret-only fields (type, immutable) and template.mergePolicy are dropped (ESO's
 * generic path ignores them); templateFrom literals with a path target become template.data
 * entries under reserved keys. A path target with configMap or secret items is refused: ESO
 * renders each item to the same path, so only the last would count.
 */
export function forGenericTarget(es: ExternalSecret): { externalSecret: ExternalSecret; paths: TemplatePath[] } {
  const base = forConfigMapTarget(es);
  const template = base.spec.target?.template;
  if (!template) return { externalSecret: base, paths: [] };
  for (const k of Object.keys(template.data ?? {})) {
    if (k.startsWith(PATH_TEMPLATE_KEY_PREFIX)) throw syncErrors.templateFailed('spec.target.template.data', `keys starting with ${PATH_TEMPLATE_KEY_PREFIX} are reserved for template paths`);
  }
  const paths: TemplatePath[] = [];
  const data: Record<string, string> = { ...template.data };
  const kept = (template.templateFrom ?? []).filter((from, i) => {
    const target = from.target ?? '';
    if (WELL_KNOWN_TARGETS.has(target.toLowerCase())) return true;
    const field = `spec.target.template.templateFrom[${i}].target`;
    if (from.configMap || from.secret || from.literal === undefined) {
      throw syncErrors.templateFailed(field, 'a target path is supported with literal only; use configMap or secret items with Data, Labels or Annotations');
    }
    const key = `${PATH_TEMPLATE_KEY_PREFIX}${i}`;
    paths.push({ key, tokens: parseTargetPath(target, field), target, field });
    data[key] = from.literal;
    return false;
  });
  const { mergePolicy: _mergePolicy, ...rest } = template;
  const rewritten = { ...rest, templateFrom: kept, data };
  return { externalSecret: { ...base, spec: { ...base.spec, target: { ...base.spec.target!, template: rewritten } } }, paths };
}

/** A rendered path literal as YAML (sigs.k8s.io/yaml, YAML 1.1); the message names the field only. */
export function parseRenderedYaml(text: string, field: string): unknown {
  let doc: YAML.Document.Parsed;
  try {
    doc = YAML.parseDocument(text, { version: '1.1', uniqueKeys: false });
  } catch {
    throw syncErrors.templateFailed(field, 'could not unmarshal template YAML');
  }
  const err = doc.errors[0];
  if (err) throw syncErrors.templateFailed(field, `could not unmarshal template YAML: line ${err.linePos?.[0].line ?? 0}`);
  try {
    return toJsonValue(doc.toJS({ maxAliasCount: 100 }));
  } catch {
    throw syncErrors.templateFailed(field, 'could not unmarshal template YAML: not representable as JSON');
  }
}

/** YAML's values as JSON's (dates as RFC 3339 text, as Go's yaml-to-json does). */
function toJsonValue(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (v instanceof Date) return v.toISOString().replace('.000Z', 'Z');
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = toJsonValue(x);
    return out;
  }
  if (typeof v === 'bigint') return Number(v);
  return v;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * ESO's setAtPath: walks the path creating maps and arrays (grown with nulls), and puts `value`
 * at its end, merged key by key into a map already there; a path of one key replaces the field.
 */
export function setAtPath(root: Record<string, unknown>, path: TemplatePath, value: unknown, budget: GrowthBudget = { slots: MAX_GROWN_SLOTS }): void {
  const { tokens } = path;
  const mergeLeaf = !(tokens.length === 1);
  const step = (node: unknown, i: number): unknown => {
    const tok = tokens[i]!;
    const last = i === tokens.length - 1;
    const place = (existing: unknown) => (last
      ? (mergeLeaf && isMap(existing) && isMap(value) ? { ...existing, ...value } : value)
      : step(existing, i + 1));
    if ('key' in tok) {
      if (node !== undefined && node !== null && !isMap(node)) throw syncErrors.templateFailed(path.field, `invalid target path: expected a map at ${JSON.stringify(tok.key)}`);
      const m: Record<string, unknown> = isMap(node) ? node : {};
      m[tok.key] = place(m[tok.key]);
      return m;
    }
    if (node !== undefined && node !== null && !Array.isArray(node)) throw syncErrors.templateFailed(path.field, `invalid target path: expected an array at index ${tok.index}`);
    const a: unknown[] = Array.isArray(node) ? node : [];
    const grow = tok.index + 1 - a.length;
    if (grow > budget.slots) throw syncErrors.templateFailed(path.field, `invalid target path: the paths of this object would create more than ${MAX_GROWN_SLOTS} array elements`);
    if (grow > 0) budget.slots -= grow;
    while (a.length <= tok.index) a.push(null);
    a[tok.index] = place(a[tok.index]);
    return a;
  };
  step(root, 0);
}

// --- the object ----------------------------------------------------------------------------

const utf8 = new TextDecoder('utf-8', { fatal: true });

function textOf(bytes: Uint8Array, position: number, count: number): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw syncErrors.configMapValueNotText(position, count);
  }
}

export interface BuildGenericTargetInput {
  /** The ExternalSecret as written (not forGenericTarget's). */
  externalSecret: ExternalSecret;
  /** The Secret the sync core planned (forGenericTarget's ExternalSecret, the existing object seen as a Secret). */
  planned: Secret;
  paths: readonly TemplatePath[];
  /** The object as it exists now: Merge and CreateOrMerge write into it. */
  existing: GenericObject | undefined;
}

/** The object to write for a planned Secret, as ESO 2.9's applyTemplateToManifest builds it. */
export function buildGenericTarget(input: BuildGenericTargetInput): GenericObject {
  const { externalSecret: es, planned, paths, existing } = input;
  const manifest = es.spec.target!.manifest!;
  const creation = es.spec.target?.creationPolicy ?? 'Owner';
  const intoExisting = existing !== undefined && (creation === 'Merge' || creation === 'CreateOrMerge');
  const obj: GenericObject = intoExisting
    ? structuredClone(existing)
    : { apiVersion: manifest.apiVersion, kind: manifest.kind, metadata: { name: planned.metadata.name!, namespace: es.metadata.namespace }, spec: {} };
  // Everything that is not content comes from the plan (labels, annotations, owner references).
  const { resourceVersion: _rv, uid: _uid, managedFields: _mf, creationTimestamp: _ct, generation: _g, ...plannedMeta } = planned.metadata as ObjectMeta & Record<string, unknown>;
  obj.metadata = { ...(intoExisting ? obj.metadata : {}), ...plannedMeta, name: obj.metadata.name, namespace: es.metadata.namespace } as GenericObject['metadata'];

  const entries = Object.entries(planned.data ?? {}).sort(([a], [b]) => compareGoStrings(a, b));
  const rendered = new Map<string, Uint8Array>();
  const data: Record<string, string> = {};
  const plain = entries.filter(([k]) => !k.startsWith(PATH_TEMPLATE_KEY_PREFIX));
  entries.forEach(([k, v]) => rendered.set(k, Buffer.from(v, 'base64')));
  plain.forEach(([k], i) => {
    data[k] = textOf(rendered.get(k)!, i + 1, plain.length);
  });
  if (!es.spec.target?.template) {
    const spec = isMap(obj.spec) ? obj.spec : {};
    obj.spec = { ...spec, data: intoExisting && isMap(spec.data) ? { ...spec.data, ...data } : data };
  } else {
    if (plain.length > 0 || (intoExisting && isMap(obj.data))) obj.data = { ...(intoExisting && isMap(obj.data) ? obj.data : {}), ...data };
    const budget: GrowthBudget = { slots: MAX_GROWN_SLOTS };
    for (const p of paths) {
      const bytes = rendered.get(p.key);
      if (bytes === undefined) continue;
      setAtPath(obj, p, parseRenderedYaml(textOf(bytes, paths.indexOf(p) + 1, paths.length), p.field), budget);
    }
  }
  const annotations = { ...obj.metadata.annotations };
  annotations[ANNOTATION_DATA_HASH] = genericContentHash(obj);
  obj.metadata.annotations = annotations;
  return obj;
}

/** The existing object as the sync core reads an existing Secret: its metadata, and its text data. */
export function genericTargetAsSecret(obj: GenericObject, es: ExternalSecret): Secret {
  const source = es.spec.target?.template ? obj.data : isMap(obj.spec) ? obj.spec.data : undefined;
  const data: Record<string, string> = {};
  if (isMap(source)) for (const [k, v] of Object.entries(source)) if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
  return { apiVersion: 'v1', kind: 'Secret', metadata: { ...obj.metadata }, data };
}

// --- up to date ----------------------------------------------------------------------------

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Does the existing object already hold what would be written? Its content (spec, data), the
 * labels and annotations written, and the owner references. Fields the apiserver defaults inside
 * spec make a custom resource with defaults look changed: it is then written again each refresh
 * (an update that changes nothing), never wrongly left alone.
 */
export function genericTargetUpToDate(desired: GenericObject, existing: GenericObject): boolean {
  for (const field of ['spec', 'data'] as const) {
    if (desired[field] !== undefined && !jsonEqual(desired[field], existing[field])) return false;
  }
  const sub = (want: Record<string, string> | undefined, have: Record<string, string> | undefined) =>
    Object.entries(want ?? {}).every(([k, v]) => have?.[k] === v);
  if (!sub(desired.metadata.labels, existing.metadata.labels) || !sub(desired.metadata.annotations, existing.metadata.annotations)) return false;
  const refs = (o: GenericObject) => (o.metadata.ownerReferences ?? []).map((r) => `${r.apiVersion}|${r.kind}|${r.name}|${r.uid}|${r.controller === true}`).sort();
  return jsonEqual(refs(desired), refs(existing));
}

// --- ESO's hash ----------------------------------------------------------------------------

/**
 * Go's `%v` of a value decoded from JSON into interface{} (unstructured): maps as
 * `map[k:v ...]` sorted by key, arrays as `[a b]`, integers as int64, other numbers as %g,
 * null as `<nil>`. esutils.ObjectHash is the sha3-224 of that text.
 */
function goText(v: unknown, out: string[]): void {
  if (v === null || v === undefined) out.push('<nil>');
  else if (typeof v === 'string') out.push(v);
  else if (typeof v === 'boolean') out.push(v ? 'true' : 'false');
  else if (typeof v === 'number') out.push(Number.isInteger(v) ? String(v) : formatFloat(v, 'g', -1));
  else if (Array.isArray(v)) {
    out.push('[');
    v.forEach((x, i) => {
      if (i > 0) out.push(' ');
      goText(x, out);
    });
    out.push(']');
  } else if (isMap(v)) {
    out.push('map[');
    Object.keys(v).sort(compareGoStrings).forEach((k, i) => {
      if (i > 0) out.push(' ');
      out.push(k, ':');
      goText(v[k], out);
    });
    out.push(']');
  } else out.push(String(v));
}

/** ESO's data-hash of a generic target: ObjectHash of `spec`, else of `data`. */
export function genericContentHash(obj: Record<string, unknown>): string {
  const content = obj.spec !== undefined && obj.spec !== null ? obj.spec : obj.data;
  const out: string[] = [];
  goText(content ?? {}, out);
  return createHash('sha3-224').update(out.join('')).digest('hex');
}
