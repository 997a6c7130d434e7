// The Kubernetes Secret as the sync core reads and writes it (wire format: data is base64), plus
// the ownership and change-detection decisions around it.
import { createHash } from 'node:crypto';
import {
  ANNOTATION_DATA_HASH, API_VERSION_V1, FIELD_MANAGER_PREFIX, KIND_EXTERNAL_SECRET, LABEL_CREATED_BY, LABEL_MANAGED,
  LABEL_MANAGED_VALUE,
} from '../api/constants.ts';
import type { ObjectMeta, OwnerReference } from '../api/meta.ts';
import type { ExternalSecret } from '../api/types.generated.ts';
import { syncErrors, type SyncError } from './errors.ts';

export interface Secret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: ObjectMeta & { name: string; namespace?: string };
  type?: string;
  /** base64-encoded values, as the apiserver returns them */
  data?: Record<string, string>;
  immutable?: boolean;
}

export type SecretData = Map<string, Uint8Array>;

export function decodeSecretData(secret: Secret | undefined): SecretData {
  const out: SecretData = new Map();
  for (const [k, v] of Object.entries(secret?.data ?? {})) out.set(k, new Uint8Array(Buffer.from(v, 'base64')));
  return out;
}

export function encodeSecretData(data: SecretData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of [...data.keys()].sort()) out[key] = Buffer.from(data.get(key)!).toString('base64');
  return out;
}

export function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

/** ESO's created-by label value: sha3-224 of "<namespace>/<name>", hex (56 chars, a valid label value). */
export function createdByLabelValue(namespace: string, name: string): string {
  return createHash('sha3-224').update(`${namespace}/${name}`).digest('hex');
}

export interface HashedContent {
  type: string;
  immutable: boolean;
  data: SecretData;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * Stable hash of what this ExternalSecret writes: type, immutability, data and the labels and
 * annotations it sets (the hash annotation itself excluded). Keys are sorted, values are bytes.
 */
export function contentHash(content: HashedContent): string {
  const sortedEntries = (rec: Record<string, string>) =>
    Object.keys(rec).filter((k) => k !== ANNOTATION_DATA_HASH).sort().map((k) => [k, rec[k]]);
  const canonical = JSON.stringify({
    type: content.type,
    immutable: content.immutable,
    data: [...content.data.keys()].sort().map((k) => [k, Buffer.from(content.data.get(k)!).toString('base64')]),
    labels: sortedEntries(content.labels),
    annotations: sortedEntries(content.annotations),
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/** The owner reference an ExternalSecret puts on a Secret it owns (creationPolicy=Owner). */
export function controllerReference(es: ExternalSecret): OwnerReference | undefined {
  if (!es.metadata.uid || !es.metadata.name) return undefined;
  return {
    apiVersion: API_VERSION_V1,
    kind: KIND_EXTERNAL_SECRET,
    name: es.metadata.name,
    uid: es.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function isOurs(ref: OwnerReference, es: ExternalSecret): boolean {
  if (ref.kind !== KIND_EXTERNAL_SECRET || !ref.apiVersion.startsWith('external-secrets.io/')) return false;
  return es.metadata.uid ? ref.uid === es.metadata.uid : ref.name === es.metadata.name;
}

/** Keys under f:data / f:metadata.f:labels / f:metadata.f:annotations owned by a field manager. */
export function managedFieldKeys(secret: Secret, manager: string): { data: string[]; labels: string[]; annotations: string[] } {
  const out = { data: [] as string[], labels: [] as string[], annotations: [] as string[] };
  const keysOf = (node: unknown) => Object.keys((node as Record<string, unknown>) ?? {})
    .filter((k) => k.startsWith('f:')).map((k) => k.slice(2));
  for (const entry of secret.metadata.managedFields ?? []) {
    if (entry.manager !== manager || !entry.fieldsV1) continue;
    const f = entry.fieldsV1 as Record<string, any>;
    out.data.push(...keysOf(f['f:data']));
    out.labels.push(...keysOf(f['f:metadata']?.['f:labels']));
    out.annotations.push(...keysOf(f['f:metadata']?.['f:annotations']));
  }
  return out;
}

/**
 * The field manager an ExternalSecret writes its Secret with, as ESO names it
 * ("externalsecrets.external-secrets.io/<name>", or ".../sha3/<sha3-224 hex>" when that is longer
 * than 63 characters), so ownership carries over between ESO and Tessera in both directions.
 */
export function fieldOwnerFor(externalSecretName: string): string {
  const fqdn = `${FIELD_MANAGER_PREFIX}${externalSecretName}`;
  if (fqdn.length <= 63) return fqdn;
  return `${FIELD_MANAGER_PREFIX}sha3/${createHash('sha3-224').update(externalSecretName).digest('hex')}`;
}

// --- what each ExternalSecret wrote ---------------------------------------------------------------
// The informer strips managedFields from cached Secrets, so ownership cannot be decided from field
// managers. Each ExternalSecret records, on the Secret itself, the data keys, labels and
// annotations it wrote (names only, never values), under an annotation of its own: with Merge
// several ExternalSecrets share one Secret, and each removes exactly what it wrote before.

/** Annotations under this prefix are write records; one per ExternalSecret writing the Secret. */
export const WRITE_RECORD_PREFIX = 'written-by.tessera.dev/';

/** The write-record annotation of an ExternalSecret (the name part of a key is at most 63 chars). */
export function writeRecordKey(externalSecretName: string): string {
  const name = externalSecretName.length <= 63 ? externalSecretName : `sha3-${createHash('sha3-224').update(externalSecretName).digest('hex')}`;
  return `${WRITE_RECORD_PREFIX}${name}`;
}

export interface WriteRecord {
  /** The ExternalSecret's name (the record lives in its namespace's Secret). */
  externalSecret: string;
  data: string[];
  labels: string[];
  annotations: string[];
  /**
   * Merge only: contentHash of what it wrote. (The one data-hash annotation is the owner's; with
   * Owner and Orphan the ExternalSecret is the owner and the annotation holds its hash.)
   */
  hash?: string | undefined;
}

export function encodeWriteRecord(r: WriteRecord): string {
  return JSON.stringify({
    externalSecret: r.externalSecret, data: [...r.data].sort(), labels: [...r.labels].sort(), annotations: [...r.annotations].sort(),
    ...(r.hash !== undefined ? { hash: r.hash } : {}),
  });
}

/** The record an ExternalSecret left on the Secret; undefined when absent or unreadable. */
export function readWriteRecord(secret: Secret | undefined, externalSecretName: string): WriteRecord | undefined {
  const raw = secret?.metadata.annotations?.[writeRecordKey(externalSecretName)];
  if (raw === undefined) return undefined;
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    const strings = (x: unknown) => (Array.isArray(x) ? x.filter((e): e is string => typeof e === 'string') : []);
    return {
      externalSecret: typeof v.externalSecret === 'string' ? v.externalSecret : externalSecretName,
      data: strings(v.data),
      labels: strings(v.labels),
      annotations: strings(v.annotations),
      hash: typeof v.hash === 'string' ? v.hash : undefined,
    };
  } catch {
    return undefined; // edited by hand: treated as no record
  }
}

/** The name an ownership message gives the ExternalSecret that created a Secret, when known. */
function creatorName(existing: Secret): string | undefined {
  for (const [k, v] of Object.entries(existing.metadata.annotations ?? {})) {
    if (!k.startsWith(WRITE_RECORD_PREFIX)) continue;
    try {
      const rec = JSON.parse(v) as { externalSecret?: unknown };
      const ns = existing.metadata.namespace ?? '';
      if (typeof rec.externalSecret === 'string' && createdByLabelValue(ns, rec.externalSecret) === existing.metadata.labels?.[LABEL_CREATED_BY]) return rec.externalSecret;
    } catch {
      /* not a record we can read */
    }
  }
  return undefined;
}

/**
 * May this ExternalSecret write the existing Secret under creationPolicy Owner/Orphan?
 * Refuses a Secret someone else created (no managed label), one another controller or
 * ExternalSecret controls (owner reference), and one another ExternalSecret created (the
 * created-by label, set with Owner and Orphan, names its creator). ESO silently takes such Secrets
 * over; Tessera refuses, to never overwrite data it did not write (ADR 0004). A managed Secret
 * with no creator recorded (written by ESO with Orphan, or by an older Tessera) is adopted.
 * Decided only on what the informer's cache holds (labels, annotations, owner references);
 * managedFields count only when present (a Secret read from the apiserver). Undefined: allowed.
 */
export function checkOwnership(existing: Secret, es: ExternalSecret): SyncError | undefined {
  const name = existing.metadata.name;
  const controllerRef = existing.metadata.ownerReferences?.find((r) => r.controller === true);
  if (controllerRef && !isOurs(controllerRef, es)) {
    return syncErrors.secretOwnedByOther(name, `${controllerRef.kind} ${JSON.stringify(controllerRef.name)}`);
  }
  if (controllerRef) return undefined; // ours
  if (existing.metadata.labels?.[LABEL_MANAGED] !== LABEL_MANAGED_VALUE) return syncErrors.secretNotManaged(name);
  const createdBy = existing.metadata.labels?.[LABEL_CREATED_BY];
  const esNamespace = es.metadata.namespace ?? existing.metadata.namespace ?? '';
  if (createdBy !== undefined && createdBy !== createdByLabelValue(esNamespace, es.metadata.name ?? '')) {
    const creator = creatorName(existing);
    return syncErrors.secretOwnedByOther(name, creator !== undefined ? `ExternalSecret ${JSON.stringify(creator)}` : 'another ExternalSecret (reconcile.external-secrets.io/created-by)');
  }
  if (createdBy !== undefined) return undefined; // created by this ExternalSecret
  // No creator recorded: ESO's field managers tell, when the Secret came from the apiserver.
  const managers = (existing.metadata.managedFields ?? [])
    .map((m) => m.manager ?? '')
    .filter((m) => m.startsWith(FIELD_MANAGER_PREFIX));
  const mine = fieldOwnerFor(es.metadata.name ?? '');
  if (managers.length > 0 && !managers.includes(mine)) {
    return syncErrors.secretOwnedByOther(name, `ExternalSecret ${JSON.stringify(managers[0]!.slice(FIELD_MANAGER_PREFIX.length))}`);
  }
  return undefined;
}

// --- restarts ----------------------------------------------------------------------------------

function pickRecorded(rec: Record<string, string> | undefined, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) if (rec?.[k] !== undefined) out[k] = rec[k];
  return out;
}

/**
 * Is the Secret's content still what the named ExternalSecret last wrote? Decided from the Secret
 * alone, so it holds after a controller restart: the hash the ExternalSecret recorded (the
 * data-hash annotation for Owner/Orphan, the hash in its write record for Merge) is recomputed
 * from the Secret's current type, immutability, data (for Merge only the keys it wrote) and the
 * labels and annotations its record names. A hand edit of any of these, a removed record, or a
 * Secret written by someone else (ESO hashes differently) counts as changed: the ExternalSecret
 * then repairs it with a fresh read. Values are hashed, never compared or reported.
 */
export function unchangedSinceWritten(secret: Secret, externalSecretName: string): boolean {
  const record = readWriteRecord(secret, externalSecretName);
  if (!record) return false;
  const annotations = secret.metadata.annotations ?? {};
  const merging = record.hash !== undefined;
  const expected = merging ? record.hash : annotations[ANNOTATION_DATA_HASH];
  if (!expected) return false;
  const data = decodeSecretData(secret);
  let hashed = data;
  if (merging) {
    hashed = new Map();
    for (const k of record.data) {
      const v = data.get(k);
      if (v !== undefined) hashed.set(k, v);
    }
  }
  return contentHash({
    type: secret.type || 'Opaque',
    immutable: secret.immutable === true,
    data: hashed,
    labels: pickRecorded(secret.metadata.labels, record.labels),
    annotations: pickRecorded(annotations, record.annotations),
  }) === expected;
}
