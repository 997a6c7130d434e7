// Which watch events wake which ExternalSecrets, and how urgently: the event → key mapping of the
// ExternalSecret controller as named, pure predicates (controller-runtime's predicates, ESO's
// shouldEnqueueExternalSecretUpdate), so each is unit-tested and the wiring stays a list of
// "on this event, if this predicate, enqueue these keys".
import type { ExternalSecret, SecretStoreRef } from '../api/types.generated.ts';
import type { Priority } from '../kube/workqueue.ts';
import { esoSyncedResourceVersion } from '../sync/eso-hash.ts';
import type { KubeObject } from '../kube/types.ts';
import type { AnyStore } from './stores.ts';

type ES = ExternalSecret & KubeObject;

/**
 * ESO's syncedResourceVersion, in ESO's exact format ("<generation>-<sha3-224 of labels and
 * annotations>"): an ExternalSecret ESO synced is not seen as changed after a switch-over, and
 * back (src/sync/eso-hash.ts).
 */
export function syncedVersion(es: ES): string {
  let v = syncedVersions.get(es.metadata);
  if (v === undefined) syncedVersions.set(es.metadata, (v = esoSyncedResourceVersion(es.metadata)));
  return v;
}

/**
 * Per cached object (a change arrives as a new object): a reconcile asks twice, to decide whether
 * the spec changed and to write the status.
 */
const syncedVersions = new WeakMap<object, string>();

/** Same keys and values, whatever their order (JSON.stringify would see a reorder as a change). */
function sameRecord(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => Object.hasOwn(b!, k) && a![k] === b![k]);
}

/** The store index key of a store reference: `SecretStore/<ns>/<name>` or `ClusterSecretStore/<name>`. */
export function storeRefKey(ref: SecretStoreRef | undefined, namespace: string): string {
  const kind = ref?.kind ?? 'SecretStore';
  return kind === 'ClusterSecretStore' ? `ClusterSecretStore/${ref?.name ?? ''}` : `SecretStore/${namespace}/${ref?.name ?? ''}`;
}

/** Every store an ExternalSecret reads from (its secretStoreRef and per-item sourceRef.storeRef). */
export function storesOf(es: ES): string[] {
  const ns = es.metadata.namespace!;
  const out = new Set<string>([storeRefKey(es.spec.secretStoreRef, ns)]);
  for (const d of es.spec.data ?? []) if (d.sourceRef?.storeRef) out.add(storeRefKey(d.sourceRef.storeRef, ns));
  for (const d of es.spec.dataFrom ?? []) if (d.sourceRef?.storeRef) out.add(storeRefKey(d.sourceRef.storeRef, ns));
  return [...out];
}

// ---- ExternalSecret events ---------------------------------------------------------------------

/**
 * An update worth a reconcile: spec, labels or annotations changed (ESO's syncedResourceVersion).
 * Our own status writes arrive as updates too and must not wake the object again.
 */
export function externalSecretChanged(a: ES, b: ES): boolean {
  // What syncedVersion hashes, compared without hashing: every status write arrives here.
  return Math.trunc(a.metadata.generation ?? 0) !== Math.trunc(b.metadata.generation ?? 0)
    || !sameRecord(a.metadata.labels, b.metadata.labels)
    || !sameRecord(a.metadata.annotations, b.metadata.annotations);
}

/**
 * The deletion of an ExternalSecret that carries finalizers has started (deletionTimestamp set),
 * or its finalizers changed while it is being deleted: the reconciler may have one to remove.
 */
export function deletionStarted(a: ES, b: ES): boolean {
  if (!b.metadata.deletionTimestamp) return false;
  if (!a.metadata.deletionTimestamp) return true;
  return JSON.stringify(a.metadata.finalizers ?? []) !== JSON.stringify(b.metadata.finalizers ?? []);
}

/**
 * The priority of an object seen as an add (an ExternalSecret, or a store whose ExternalSecrets are
 * enqueued). Adds of the informer's first list (a restart, or a new leader) go low: a new or
 * changed ExternalSecret, which arrives later as a watch event, is then served before thousands of
 * listed ones that are mostly merely looked at again (and not due). Later adds are new: high.
 */
export function addPriority(initialList: boolean): Priority {
  return initialList ? 'low' : 'high';
}

// ---- store events ------------------------------------------------------------------------------

/** A store's spec (generation) or labels changed: its clients are stale and it is validated again. */
export function storeChanged(a: AnyStore, b: AnyStore): boolean {
  return a.metadata.generation !== b.metadata.generation || !sameRecord(a.metadata.labels, b.metadata.labels);
}

function readyStatus(store: AnyStore): string | undefined {
  return (store.status?.conditions ?? []).find((c) => c.type === 'Ready')?.status;
}

/**
 * The store's Ready condition turned True (its credentials were fixed, its endpoint came back):
 * the ExternalSecrets that failed on it are retried at once instead of after their backoff,
 * which by then may be minutes.
 */
export function storeBecameReady(a: AnyStore, b: AnyStore): boolean {
  return readyStatus(a) !== 'True' && readyStatus(b) === 'True';
}

// ---- Namespace and Secret events ---------------------------------------------------------------

/** Namespace labels feed ClusterSecretStore conditions (namespaceSelector). */
export function namespaceLabelsChanged(a: KubeObject, b: KubeObject): boolean {
  return !sameRecord(a.metadata?.labels, b.metadata?.labels);
}

/**
 * A managed Secret changed on the server (a hand edit, a deletion of a key, our own write): its
 * ExternalSecrets look again; the reconciler decides from the content whether anything is due.
 */
export function managedSecretChanged(a: KubeObject, b: KubeObject): boolean {
  return a.metadata?.resourceVersion !== b.metadata?.resourceVersion;
}
