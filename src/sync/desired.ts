// desiredSecret: the pure heart of a sync. Given an ExternalSecret (v1), the raw values the
// providers returned and the Secret that exists now, decide what to write, delete or leave.
// Order and rules follow ESO: dataFrom entries first (in order, later wins), then data[] (wins
// over dataFrom); per dataFrom entry: rewrite, else conversionStrategy; key validation; decoding.
import {
  ANNOTATION_DATA_HASH, LABEL_CREATED_BY, LABEL_MANAGED, LABEL_MANAGED_VALUE,
} from '../api/constants.ts';
import type {
  ExternalSecret, ExternalSecretDataFromRemoteRef, ExternalSecretDataRemoteRef, ExternalSecretTemplate,
} from '../api/types.generated.ts';
import type { RemoteValue } from './remote-value.ts';
import { decodeValue } from './decode.ts';
import { ConditionReason, EventMessage, isSyncError, MAX_SECRET_DATA_BYTES, MAX_SECRET_METADATA_BYTES, ReadyMessage, syncErrors, SyncError } from './errors.ts';
import { gjsonGet, UnsupportedPathError } from './gjson.ts';
import { JsonTooDeepError, objectMembers, parseRaw, rawToString, type RawValue } from './json-raw.ts';
import { convertKey, isValidSecretKey } from './keys.ts';
import { rewriteKeys, type RenderKeyTemplate } from './rewrite.ts';
import { esoDataHash } from './eso-hash.ts';
import { compareGoStrings } from '../go/sort.ts';
import {
  WRITE_RECORD_PREFIX, bytesEqual, checkOwnership, contentHash, controllerReference, createdByLabelValue, decodeSecretData,
  encodeSecretData, encodeWriteRecord, fieldOwnerFor, managedFieldKeys, readWriteRecord, writeRecordKey,
  type Secret, type SecretData,
} from './secret.ts';

// --- inputs ----------------------------------------------------------------------------------

/** What a provider said about one reference when the value does not exist (NotFoundError). */
export interface NotFound {
  readonly notFound: true;
}
export const NOT_FOUND: NotFound = Object.freeze({ notFound: true as const });

/** spec.data[i]: the remote value, or NOT_FOUND. */
export type FetchedValue = RemoteValue | NotFound;
/**
 * spec.dataFrom[i]: extract → the remote value; find / generator → every value by remote name;
 * or NOT_FOUND.
 */
export type FetchedDataFrom = RemoteValue | ReadonlyMap<string, RemoteValue> | NotFound;

export interface FetchedValues {
  /** Index-aligned with spec.data. */
  data: readonly FetchedValue[];
  /** Index-aligned with spec.dataFrom. */
  dataFrom: readonly FetchedDataFrom[];
}

export interface TemplateInput {
  template: ExternalSecretTemplate;
  /** The provider data after data/dataFrom processing: the template's values. */
  data: ReadonlyMap<string, Uint8Array>;
  externalSecret: ExternalSecret;
}
export interface TemplateOutput {
  /** Rendered target.template.data (and templateFrom with target Data). */
  data: Map<string, Uint8Array>;
  /** Rendered template.metadata.labels (and templateFrom with target Labels). */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
/**
 * Renders target.template (the Go template engine lives in src/template). Throws on template
 * errors; the error message must not contain secret values.
 */
export type RenderTemplate = (input: TemplateInput) => TemplateOutput;

export interface DesiredSecretInput {
  externalSecret: ExternalSecret;
  fetched: FetchedValues;
  /** The target Secret as it exists now, or undefined. */
  existing?: Secret | undefined;
  renderTemplate?: RenderTemplate | undefined;
  renderKeyTemplate?: RenderKeyTemplate | undefined;
}

// --- outputs ---------------------------------------------------------------------------------

export interface ReadyCondition {
  type: 'Ready';
  status: 'True' | 'False';
  reason: ConditionReason;
  message: string;
}

/** A reference skipped because the provider reported NotFound (deletionPolicy Delete/Merge). */
export interface SkippedRef {
  field: string;
  message: string;
}

export type SyncPlan =
  | {
      action: 'write';
      /** create when no Secret exists, update otherwise (for Merge always update). */
      mode: 'create' | 'update';
      creationPolicy: 'Owner' | 'Orphan' | 'Merge' | 'CreateOrMerge';
      /** The complete Secret as it should be after the write. */
      secret: Secret;
      /**
       * ESO's data-hash of the Secret's data after the write (esutils.ObjectHash): the value of the
       * data-hash annotation, which Merge sets only where the Secret already has one.
       */
      hash: string;
      /** Data keys this ExternalSecret writes (with Merge, the others belong to someone else). */
      ownedKeys: string[];
      /** The existing Secret already has this content: no write needed. */
      upToDate: boolean;
      skipped: SkippedRef[];
      condition: ReadyCondition;
    }
  | { action: 'delete'; name: string; namespace: string | undefined; skipped: SkippedRef[]; condition: ReadyCondition }
  | { action: 'none'; reason: 'CreationPolicyNone' | 'ProviderDataEmpty' | 'MergeTargetMissing'; skipped: SkippedRef[]; condition: ReadyCondition };

export type DesiredSecretResult = { ok: true; plan: SyncPlan } | { ok: false; error: SyncError };

/** Annotations never copied from the ExternalSecret to its Secret. */
export const NOT_COPIED_ANNOTATIONS: ReadonlySet<string> = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const synced: ReadyCondition = { type: 'Ready', status: 'True', reason: ConditionReason.SecretSynced, message: ReadyMessage.Synced };
const secretMissing: ReadyCondition = { type: 'Ready', status: 'True', reason: ConditionReason.SecretMissing, message: ReadyMessage.Missing };
const syncedRetain: ReadyCondition = { type: 'Ready', status: 'True', reason: ConditionReason.SecretSynced, message: ReadyMessage.SyncedRetain };

// --- helpers ---------------------------------------------------------------------------------

function isNotFound(v: unknown): v is NotFound {
  return typeof v === 'object' && v !== null && (v as NotFound).notFound === true;
}
function isRemoteValue(v: unknown): v is RemoteValue {
  return typeof v === 'object' && v !== null && (v as RemoteValue).value instanceof Uint8Array;
}

/** The target Secret's name: target.name, else the ExternalSecret's name. */
export function targetName(es: ExternalSecret): string {
  return es.spec.target?.name || es.metadata.name || '';
}

function escapeGjson(key: string): string {
  return key.replace(/[\\.*?|#@]/g, (c) => `\\${c}`);
}

/** remoteRef.property: an exact top-level key first (ESO's AWS and Vault providers do so), then a gjson path. */
/** parseRaw, with a document nested deeper than Go accepts reported as such (not as "not JSON"). */
function parseRemote(value: Uint8Array, key: string, field: string): RawValue | undefined {
  try {
    return parseRaw(decoder.decode(value));
  } catch (err) {
    if (err instanceof JsonTooDeepError) throw syncErrors.jsonTooDeep(field, key);
    throw err;
  }
}

export function extractProperty(value: Uint8Array, key: string, property: string, field: string): Uint8Array {
  const doc = parseRemote(value, key, field);
  if (!doc) throw syncErrors.propertyOnNonJSON(field, key, property);
  let found = doc.kind === 'object' ? gjsonGet(doc, escapeGjson(property)) : undefined;
  if (found === undefined) {
    try {
      found = gjsonGet(doc, property);
    } catch (err) {
      if (err instanceof UnsupportedPathError) throw syncErrors.unsupportedPropertySyntax(field, property, err.what);
      throw err;
    }
  }
  if (found === undefined) throw syncErrors.propertyNotFound(field, key, property);
  return encoder.encode(rawToString(found));
}

/** dataFrom.extract: a JSON object's members; strings unquoted, other values as written, null as "". */
function extractMap(value: Uint8Array, key: string, field: string): SecretData {
  const doc = parseRemote(value, key, field);
  if (!doc || doc.kind !== 'object') throw syncErrors.extractNotObject(field, key);
  const out: SecretData = new Map();
  for (const [k, v] of objectMembers(doc.raw)) out.set(k, encoder.encode(rawToString(v)));
  return out;
}

function decodeOrThrow(strategy: ExternalSecretDataRemoteRef['decodingStrategy'], bytes: Uint8Array, field: string, what: string): Uint8Array {
  const decoded = decodeValue(strategy, bytes);
  if (decoded === undefined) throw syncErrors.decodeFailed(field, strategy ?? 'None', what);
  return decoded;
}

/** nullBytePolicy=Fail (ESO 2.9): a fetched value, after decoding, must not hold a NUL byte. */
function hasNulByte(value: Uint8Array): boolean {
  return value.includes(0);
}

/**
 * dataFrom's extract/find nullBytePolicy=Fail. ESO checks the keys in sorted order, so the error
 * names the same key on every sync; a key a transform produced is named by position only.
 */
function checkNullBytes(ref: ExternalSecretDataFromRemoteRef, out: SecretData, field: string, transformed: boolean): void {
  const source = ref.extract ? 'extract' : 'find';
  if (ref[source]?.nullBytePolicy !== 'Fail') return;
  const bad = [...out.keys()].sort(compareGoStrings).find((k) => hasNulByte(out.get(k)!));
  if (bad === undefined) return;
  throw syncErrors.nullByteInValue(`${field}.${source}.nullBytePolicy`, transformed ? `key ${[...out.keys()].indexOf(bad)} after rewrite` : `key ${JSON.stringify(bad)}`);
}

function dataFromEntry(
  ref: ExternalSecretDataFromRemoteRef,
  fetched: Exclude<FetchedDataFrom, NotFound>,
  field: string,
  renderKeyTemplate: RenderKeyTemplate | undefined,
): SecretData {
  let map: SecretData;
  let conversion: 'Default' | 'Unicode' | undefined;
  let decoding: ExternalSecretDataRemoteRef['decodingStrategy'];
  if (ref.extract) {
    if (!isRemoteValue(fetched)) throw syncErrors.fetchedMismatch(`${field} is extract but was given a map`);
    let bytes = fetched.value;
    if (ref.extract.property) bytes = extractProperty(bytes, ref.extract.key, ref.extract.property, `${field}.extract.property`);
    map = extractMap(bytes, ref.extract.key, `${field}.extract`);
    conversion = ref.extract.conversionStrategy;
    decoding = ref.extract.decodingStrategy;
  } else if (ref.find || ref.sourceRef?.generatorRef) {
    if (!(fetched instanceof Map)) throw syncErrors.fetchedMismatch(`${field} is find/generator but was given a single value`);
    map = new Map([...fetched].map(([k, v]) => [k, v.value]));
    conversion = ref.find?.conversionStrategy;
    decoding = ref.find?.decodingStrategy;
  } else {
    return new Map(); // sourceRef.storeRef alone selects nothing (as in ESO)
  }
  if (ref.rewrite && ref.rewrite.length > 0) {
    map = rewriteKeys(ref.rewrite, map, field, renderKeyTemplate);
  } else if (ref.extract || ref.find) {
    const converted: SecretData = new Map();
    for (const [k, v] of map) {
      const key = convertKey(conversion, k);
      if (converted.has(key)) throw syncErrors.keyCollision(field, key);
      converted.set(key, v);
    }
    map = converted;
  }
  const out: SecretData = new Map();
  // A key a transform template produced may be a value: such keys are named by position only.
  const transformed = (ref.rewrite ?? []).some((r) => r.transform);
  let position = 0;
  for (const [k, v] of map) {
    position++;
    if (k === '') continue; // ESO drops empty keys
    if (!isValidSecretKey(k)) {
      throw transformed ? syncErrors.invalidRenderedSecretKey(`${field}.rewrite`, `key ${position - 1} after rewrite`) : syncErrors.invalidSecretKey(field, k);
    }
    out.set(k, ref.sourceRef?.generatorRef && !ref.extract && !ref.find ? v : decodeOrThrow(decoding, v, field, `key ${JSON.stringify(k)}`));
  }
  checkNullBytes(ref, out, field, transformed);
  return out;
}

/** Resolves data and dataFrom into the provider data map (before templating). */
export function providerData(
  es: ExternalSecret,
  fetched: FetchedValues,
  renderKeyTemplate?: RenderKeyTemplate,
): { data: SecretData; skipped: SkippedRef[] } {
  const spec = es.spec;
  const dataRefs = spec.data ?? [];
  const dataFromRefs = spec.dataFrom ?? [];
  const retain = (spec.target?.deletionPolicy ?? 'Retain') === 'Retain';
  if (fetched.data.length !== dataRefs.length || fetched.dataFrom.length !== dataFromRefs.length) {
    throw syncErrors.fetchedMismatch(
      `expected ${dataRefs.length} data and ${dataFromRefs.length} dataFrom values, got ${fetched.data.length} and ${fetched.dataFrom.length}`);
  }
  if (retain) {
    const seen = new Set<string>();
    dataRefs.forEach((ref, i) => {
      if (seen.has(ref.secretKey)) throw syncErrors.duplicateSecretKey(`spec.data[${i}].secretKey`, ref.secretKey);
      seen.add(ref.secretKey);
    });
  }
  const data: SecretData = new Map();
  const skipped: SkippedRef[] = [];
  dataFromRefs.forEach((ref, i) => {
    const field = `spec.dataFrom[${i}]`;
    const value = fetched.dataFrom[i]!;
    if (isNotFound(value)) {
      if (retain) throw syncErrors.providerSecretNotFound(field, ref.extract?.key);
      skipped.push({ field, message: EventMessage.missingProviderSecret(field) });
      return;
    }
    for (const [k, v] of dataFromEntry(ref, value, field, renderKeyTemplate)) data.set(k, v);
  });
  dataRefs.forEach((ref, i) => {
    const field = `spec.data[${i}]`;
    const value = fetched.data[i]!;
    if (isNotFound(value)) {
      if (retain) throw syncErrors.providerSecretNotFound(field, ref.remoteRef.key);
      skipped.push({ field, message: EventMessage.missingProviderSecret(field, ref.remoteRef.key) });
      return;
    }
    if (!isRemoteValue(value)) throw syncErrors.fetchedMismatch(`${field} was given a map`);
    let bytes = value.value;
    if (ref.remoteRef.property) bytes = extractProperty(bytes, ref.remoteRef.key, ref.remoteRef.property, `${field}.remoteRef.property`);
    const decoded = decodeOrThrow(ref.remoteRef.decodingStrategy, bytes, `${field}.remoteRef.decodingStrategy`, `remote key ${JSON.stringify(ref.remoteRef.key)}`);
    if (ref.remoteRef.nullBytePolicy === 'Fail' && hasNulByte(decoded)) {
      throw syncErrors.nullByteInValue(`${field}.remoteRef.nullBytePolicy`, `key ${JSON.stringify(ref.secretKey)}`);
    }
    data.set(ref.secretKey, decoded);
  });
  return { data, skipped };
}

function literalMetadata(map: Record<string, string> | undefined, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map ?? {})) {
    if (v.includes('{{')) throw syncErrors.templateUnavailable(field);
    out[k] = v;
  }
  return out;
}

interface Rendered {
  data: SecretData;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  type: string | undefined;
}

function applyTemplate(es: ExternalSecret, data: SecretData, renderTemplate: RenderTemplate | undefined): Rendered {
  const template = es.spec.target?.template;
  if (!template) {
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(es.metadata.annotations ?? {})) if (!NOT_COPIED_ANNOTATIONS.has(k)) annotations[k] = v;
    return { data, labels: { ...es.metadata.labels }, annotations, type: undefined };
  }
  const hasDataTemplates = Object.keys(template.data ?? {}).length > 0 || (template.templateFrom ?? []).length > 0;
  if (!renderTemplate) {
    if (hasDataTemplates) throw syncErrors.templateUnavailable('spec.target.template');
    return {
      data,
      labels: literalMetadata(template.metadata?.labels, 'spec.target.template.metadata.labels'),
      annotations: literalMetadata(template.metadata?.annotations, 'spec.target.template.metadata.annotations'),
      type: template.type || undefined,
    };
  }
  let out: TemplateOutput;
  try {
    out = renderTemplate({ template, data, externalSecret: es });
  } catch (err) {
    if (isSyncError(err)) throw err;
    throw syncErrors.templateFailed('spec.target.template', err instanceof Error ? err.message : String(err));
  }
  let rendered: SecretData;
  if (!hasDataTemplates) rendered = data; // ESO: no data templates → the provider data as is
  else if ((template.mergePolicy ?? 'Replace') === 'Merge') rendered = new Map([...data, ...out.data]);
  else rendered = new Map(out.data);
  return { data: rendered, labels: { ...out.labels }, annotations: { ...out.annotations }, type: template.type || undefined };
}

function sameData(a: SecretData, b: SecretData): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (!bytesEqual(v, b.get(k))) return false;
  return true;
}

// --- ESO's privileged-template guard --------------------------------------------------------------
// A Secret of type service-account-token bound to a ServiceAccount by annotation makes the
// token controller mint a long-lived token for that ServiceAccount, and a bootstrap token
// authenticates a node: either would hand a tenant credentials beyond its RBAC. ESO 2.9 refuses
// both in its webhook and again before templating (validatePrivilegedTemplate); the words below
// are ESO's.

const SECRET_TYPE_SA_TOKEN = 'kubernetes.io/service-account-token';
const SECRET_TYPE_BOOTSTRAP_TOKEN = 'bootstrap.kubernetes.io/token';
const ANNOTATION_SA_NAME = 'kubernetes.io/service-account.name';

/** ESO's check of target.template as written (type, metadata.annotations, templateFrom targets). */
function checkPrivilegedTemplate(template: ExternalSecretTemplate | undefined): void {
  if (!template) return;
  const field = 'spec.target.template.type';
  if (template.type === SECRET_TYPE_SA_TOKEN) {
    if (template.metadata?.annotations && ANNOTATION_SA_NAME in template.metadata.annotations) {
      throw syncErrors.privilegedSecretType(`template.type=${JSON.stringify(SECRET_TYPE_SA_TOKEN)} with annotation ${JSON.stringify(ANNOTATION_SA_NAME)} is not allowed`, field);
    }
    for (const tf of template.templateFrom ?? []) {
      if ((tf.target ?? '').toLowerCase() === 'annotations') {
        throw syncErrors.privilegedSecretType(`template.type=${JSON.stringify(SECRET_TYPE_SA_TOKEN)} with templateFrom target="Annotations" is not allowed`, field);
      }
    }
  }
  if (template.type === SECRET_TYPE_BOOTSTRAP_TOKEN) {
    throw syncErrors.privilegedSecretType(`template.type=${JSON.stringify(SECRET_TYPE_BOOTSTRAP_TOKEN)} is not allowed`, field);
  }
}

/**
 * The same rule on the Secret as it would be written: the type may come from an existing Secret
 * (Merge), and the annotation from the ExternalSecret's own annotations (copied when there is no
 * template), a rendered template, or the existing Secret.
 */
function checkPrivilegedResult(type: string, annotations: Record<string, string>, fromExisting: boolean): void {
  const origin = fromExisting ? ' (the existing Secret has this type)' : '';
  const field = fromExisting ? 'spec.target.name' : 'spec.target.template.type';
  if (type === SECRET_TYPE_BOOTSTRAP_TOKEN) {
    throw syncErrors.privilegedSecretType(`template.type=${JSON.stringify(SECRET_TYPE_BOOTSTRAP_TOKEN)} is not allowed${origin}`, field);
  }
  if (type === SECRET_TYPE_SA_TOKEN && annotations[ANNOTATION_SA_NAME] !== undefined) {
    throw syncErrors.privilegedSecretType(`template.type=${JSON.stringify(SECRET_TYPE_SA_TOKEN)} with annotation ${JSON.stringify(ANNOTATION_SA_NAME)} is not allowed${origin}`, field);
  }
}

/**
 * Labels and annotations only the controller sets: taken out of what an ExternalSecret's
 * metadata or template asks for, so no manifest can make a Secret look managed, claim another
 * ExternalSecret's creation, or forge a write record.
 */
function withoutReserved(rec: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec)) if (!isBookkeeping(k)) out[k] = v;
  return out;
}

function isBookkeeping(key: string): boolean {
  return key === LABEL_MANAGED || key === LABEL_CREATED_BY || key === ANNOTATION_DATA_HASH || key.startsWith(WRITE_RECORD_PREFIX);
}

/** Field-manager keys less the bookkeeping: what ESO wrote for the ExternalSecret itself. */
function withoutBookkeeping(keys: { data: string[]; labels: string[]; annotations: string[] }): typeof keys {
  return { data: keys.data, labels: keys.labels.filter((k) => !isBookkeeping(k)), annotations: keys.annotations.filter((k) => !isBookkeeping(k)) };
}

// --- the decision ----------------------------------------------------------------------------

// eslint-disable-next-line complexity -- the ownership rework of issue 10 (item 2) reshapes this decision; it is split into named policy steps then, not twice
function plan(input: DesiredSecretInput): SyncPlan {
  const es = input.externalSecret;
  const target = es.spec.target ?? {};
  const creationPolicy = target.creationPolicy ?? 'Owner';
  const deletionPolicy = target.deletionPolicy ?? 'Retain';
  const name = targetName(es);
  const namespace = es.metadata.namespace;
  const existing = input.existing;
  checkPrivilegedTemplate(target.template);

  const { data: fromProvider, skipped } = providerData(es, input.fetched, input.renderKeyTemplate);

  if (fromProvider.size === 0) {
    if (deletionPolicy === 'Delete') {
      if (creationPolicy !== 'Owner') throw syncErrors.deleteNotOwned(creationPolicy);
      // Never delete what this ExternalSecret does not own (ADR 0004): same rules as a write.
      if (existing) {
        const refused = checkOwnership(existing, es);
        if (refused) throw refused;
      }
      return {
        action: 'delete', name, namespace, skipped,
        condition: { type: 'Ready', status: 'True', reason: ConditionReason.SecretDeleted, message: ReadyMessage.Deleted },
      };
    }
    if (deletionPolicy === 'Retain') return { action: 'none', reason: 'ProviderDataEmpty', skipped, condition: syncedRetain };
    // Merge: write what is left (our keys removed).
  }
  if (creationPolicy === 'None') return { action: 'none', reason: 'CreationPolicyNone', skipped, condition: synced };

  // CreateOrMerge (ESO 2.9): Merge that creates the Secret when it is missing. The Secret it
  // creates is written as Merge writes (no managed or created-by label, no ownerReference), so
  // the next sync, which finds it and merges, writes the same thing and nothing flips.
  if (creationPolicy === 'Merge') {
    // As ESO: not a failure but a wait (Ready=True, SecretMissing); the next refresh looks again.
    if (!existing) return { action: 'none', reason: 'MergeTargetMissing', skipped, condition: secretMissing };
  } else if (existing && creationPolicy !== 'CreateOrMerge') {
    const refused = checkOwnership(existing, es);
    if (refused) throw refused;
  }

  const rendered = applyTemplate(es, fromProvider, input.renderTemplate);
  const esName = es.metadata.name ?? '';
  const merging = creationPolicy === 'Merge' || creationPolicy === 'CreateOrMerge';
  // Merge writes into a Secret someone else owns: it never marks it managed or created by us, so
  // no Owner/Orphan ExternalSecret can take it over afterwards (ADR 0004).
  const ourLabels: Record<string, string> = withoutReserved(rendered.labels);
  if (!merging) {
    ourLabels[LABEL_MANAGED] = LABEL_MANAGED_VALUE;
    // The creator, for Owner and Orphan alike: another ExternalSecret is refused this Secret.
    if (esName && namespace) ourLabels[LABEL_CREATED_BY] = createdByLabelValue(namespace, esName);
  }
  const ourAnnotations = withoutReserved(rendered.annotations);

  const existingType = existing?.type || undefined;
  if (rendered.type && existingType && rendered.type !== existingType) throw syncErrors.typeChanged(name, existingType, rendered.type);
  const type = rendered.type ?? existingType ?? 'Opaque';
  const immutable = target.immutable === true;

  // What this ExternalSecret wrote last time, to drop what it no longer writes: its write record;
  // for a Secret ESO wrote, its field manager's fields (present only when read from the apiserver),
  // less the controller's own bookkeeping, which the rules below set or keep.
  const recordKey = writeRecordKey(esName);
  const recorded = readWriteRecord(existing, esName);
  const previous = recorded
    ?? (existing ? withoutBookkeeping(managedFieldKeys(existing, fieldOwnerFor(esName))) : { data: [], labels: [], annotations: [] });
  const existingData = decodeSecretData(existing);
  let data: SecretData;
  if (merging) {
    data = new Map(existingData);
    for (const k of previous.data) if (!rendered.data.has(k)) data.delete(k);
    for (const [k, v] of rendered.data) data.set(k, v);
  } else {
    data = rendered.data;
  }
  const merge = (current: Record<string, string> | undefined, stale: string[], ours: Record<string, string>) => {
    const out: Record<string, string> = { ...current };
    for (const k of stale) if (!(k in ours)) delete out[k];
    return Object.assign(out, ours);
  };
  const labels = merge(existing?.metadata.labels, previous.labels, ourLabels);
  const writtenImmutable = immutable || existing?.immutable === true;
  // The record names what this ExternalSecret wrote and hashes it. With Owner and Orphan the data
  // is all of the Secret's and ESO's data-hash annotation covers it, so the record lists and hashes
  // no data keys (it stays small); with Merge it lists and hashes the keys it owns.
  const recordedData: SecretData = merging ? rendered.data : new Map();
  const record = encodeWriteRecord({
    externalSecret: esName,
    data: [...recordedData.keys()],
    labels: Object.keys(ourLabels),
    annotations: Object.keys(ourAnnotations),
    hash: contentHash({ type, immutable: writtenImmutable, data: recordedData, labels: ourLabels, annotations: ourAnnotations }),
  });
  // The data-hash annotation is ESO's hash of the Secret's whole data, so that ESO and Tessera
  // each take the other's Secret as up to date (ADR 0004). Owner and Orphan set it; Merge never
  // adds it to a foreign Secret, but keeps one already there (ESO's, or an owner's) true. A Secret
  // CreateOrMerge creates is its own: it gets one, as ESO writes it, and keeps it from then on.
  const dataHash = esoDataHash(data);
  const setsDataHash = !merging || !existing || existing.metadata.annotations?.[ANNOTATION_DATA_HASH] !== undefined;
  const annotations = merge(existing?.metadata.annotations, previous.annotations, {
    ...ourAnnotations, [recordKey]: record, ...(setsDataHash ? { [ANNOTATION_DATA_HASH]: dataHash } : {}),
  });
  checkPrivilegedResult(type, annotations, !rendered.type && existingType !== undefined);

  let size = 0;
  for (const v of data.values()) size += v.length;
  if (size > MAX_SECRET_DATA_BYTES) throw syncErrors.secretTooLarge(name, size);
  // Templated labels and annotations are tenant output too; the apiserver allows 256 KiB of
  // annotations, and nothing larger should travel back from a compute worker.
  let metaSize = 0;
  for (const rec of [rendered.labels, rendered.annotations]) for (const [k, v] of Object.entries(rec)) metaSize += k.length + v.length;
  if (metaSize > MAX_SECRET_METADATA_BYTES) throw syncErrors.secretMetadataTooLarge(name, metaSize);
  if (existing?.immutable && !sameData(existingData, data)) throw syncErrors.immutableChanged(name);

  // template.metadata.finalizers are added as ESO adds them (never to a Secret being deleted, and
  // never removed); the finalizers already there are kept, since the write replaces the object.
  const wantedFinalizers = existing?.metadata.deletionTimestamp ? [] : target.template?.metadata?.finalizers ?? [];
  const finalizers = [...(existing?.metadata.finalizers ?? [])];
  for (const f of wantedFinalizers) if (!finalizers.includes(f)) finalizers.push(f);

  let ownerReferences = existing?.metadata.ownerReferences;
  const ref = creationPolicy === 'Owner' ? controllerReference(es) : undefined;
  if (ref) ownerReferences = [...(ownerReferences ?? []).filter((r) => r.controller !== true), ref];

  const secret: Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      labels,
      annotations,
      ...(ownerReferences && ownerReferences.length ? { ownerReferences } : {}),
      ...(finalizers.length ? { finalizers } : {}),
    },
    type,
    data: encodeSecretData(data),
    ...(writtenImmutable ? { immutable: true } : {}),
  };

  let upToDate = false;
  if (existing) {
    const existingLabels = existing.metadata.labels ?? {};
    const existingAnnotations = existing.metadata.annotations ?? {};
    // Without a record of ours the Secret was written by ESO (or the record was removed by
    // hand): ownership allowed it above, so when it already holds what we would write it is up
    // to date, and a switch-over from ESO writes nothing. The record comes with the next change.
    const recordOk = recorded ? existingAnnotations[recordKey] === record : existingAnnotations[recordKey] === undefined;
    const dataOk = merging ? [...rendered.data].every(([k, v]) => bytesEqual(existingData.get(k), v)) : sameData(existingData, rendered.data);
    const labelsOk = Object.entries(ourLabels).every(([k, v]) => existingLabels[k] === v
      // ESO sets the created-by label with Owner only; an Orphan Secret it wrote gets ours with our first write.
      || (k === LABEL_CREATED_BY && !recorded && existingLabels[k] === undefined));
    const annotationsOk = Object.entries(ourAnnotations).every(([k, v]) => existingAnnotations[k] === v);
    const dataHashOk = !setsDataHash || existingAnnotations[ANNOTATION_DATA_HASH] === dataHash;
    const staleLeft = previous.data.some((k) => !rendered.data.has(k) && existingData.has(k))
      || previous.labels.some((k) => !(k in ourLabels) && existingLabels[k] !== undefined)
      || previous.annotations.some((k) => !(k in ourAnnotations) && existingAnnotations[k] !== undefined);
    const ownerOk = !ref || (existing.metadata.ownerReferences ?? []).some((r) => r.controller === true && r.uid === ref.uid);
    const finalizersOk = wantedFinalizers.every((f) => (existing.metadata.finalizers ?? []).includes(f));
    upToDate = recordOk && dataOk && labelsOk && annotationsOk && dataHashOk && !staleLeft && ownerOk && finalizersOk
      && (existing.type || 'Opaque') === type && (existing.immutable === true) === writtenImmutable;
  }

  return {
    action: 'write',
    mode: existing ? 'update' : 'create',
    creationPolicy,
    secret,
    hash: dataHash,
    ownedKeys: [...rendered.data.keys()].sort(),
    upToDate,
    skipped,
    condition: synced,
  };
}

/** Computes the Secret to write (or delete, or leave) for one ExternalSecret. Pure; never throws SyncError. */
export function desiredSecret(input: DesiredSecretInput): DesiredSecretResult {
  try {
    return { ok: true, plan: plan(input) };
  } catch (err) {
    if (err instanceof SyncError) return { ok: false, error: err };
    throw err;
  }
}
