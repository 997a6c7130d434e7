// The Kubernetes Secret as the sync core reads and writes it (wire format: data is base64), plus
// the ownership and change-detection decisions around it.
import { createHash } from 'node:crypto';
import {
  ANNOTATION_DATA_HASH, API_VERSION_V1, FIELD_MANAGER_PREFIX, KIND_EXTERNAL_SECRET, LABEL_MANAGED,
  LABEL_MANAGED_VALUE, fieldManagerFor,
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
 * May this ExternalSecret write the existing Secret under creationPolicy Owner/Orphan?
 * Refuses a Secret someone else created (no managed label) and one another ExternalSecret or
 * controller owns. ESO silently takes such Secrets over; Tessera refuses, to never overwrite data
 * it did not write. Returns undefined when writing is allowed.
 */
export function checkOwnership(existing: Secret, es: ExternalSecret): SyncError | undefined {
  const name = existing.metadata.name;
  const controllerRef = existing.metadata.ownerReferences?.find((r) => r.controller === true);
  if (controllerRef && !isOurs(controllerRef, es)) {
    return syncErrors.secretOwnedByOther(name, `${controllerRef.kind} ${JSON.stringify(controllerRef.name)}`);
  }
  if (controllerRef) return undefined; // ours
  if (existing.metadata.labels?.[LABEL_MANAGED] !== LABEL_MANAGED_VALUE) return syncErrors.secretNotManaged(name);
  // Managed but not controlled (creationPolicy=Orphan): whose is it? Field managers tell.
  const managers = (existing.metadata.managedFields ?? [])
    .map((m) => m.manager ?? '')
    .filter((m) => m.startsWith(FIELD_MANAGER_PREFIX));
  const mine = fieldManagerFor(es.metadata.name ?? '');
  if (managers.length > 0 && !managers.includes(mine)) {
    return syncErrors.secretOwnedByOther(name, `ExternalSecret ${JSON.stringify(managers[0]!.slice(FIELD_MANAGER_PREFIX.length))}`);
  }
  return undefined;
}
