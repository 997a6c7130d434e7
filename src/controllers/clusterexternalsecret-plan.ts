// What a ClusterExternalSecret asks for, decided from the objects alone (no I/O): which namespaces
// it selects, which ExternalSecret it wants in each, whether an existing one is its own, and the
// status it reports. The controller (clusterexternalsecret.ts) only reads caches, writes what this
// file decides, and records the outcome. Semantics and status texts are ESO 2.9's
// (pkg/controllers/clusterexternalsecret), so tools that read ESO's status read Tessera's.
import { isDeepStrictEqual } from 'node:util';
import { ANNOTATION_FORCE_SYNC, API_VERSION_V1, FINALIZER_ESO_CES_NAMESPACE_PREFIX, GROUP, KIND_CLUSTER_EXTERNAL_SECRET, KIND_EXTERNAL_SECRET } from '../api/constants.ts';
import type { ObjectMeta, OwnerReference } from '../api/meta.ts';
import type { ClusterExternalSecret, ClusterExternalSecretNamespaceFailure, ClusterExternalSecretStatus, ExternalSecret } from '../api/types.generated.ts';
import { labelSelectorMatches, type LabelSelector } from '../kube/selectors.ts';
import { sortedGoStrings } from '../go/sort.ts';

/** The failedNamespaces[].reason texts and the Ready message, word for word as ESO writes them. */
export const CesMessage = {
  /** An ExternalSecret of the wanted name exists and this ClusterExternalSecret does not own it. */
  alreadyExists: 'external secret already exists in namespace',
  /** Ready=False message when any namespace failed. */
  namespacesFailed: 'one or more namespaces failed',
  createFailed: (detail: string) => `could not create or update ExternalSecret: ${detail}`,
  deleteFailed: (detail: string) => `external secret in non matching namespace could not be deleted: ${detail}`,
  selectFailed: (detail: string) => `failed to select namespaces: ${detail}`,
} as const;

/** ESO's failedNamespaces entry for a failure that is not one namespace's (an invalid selector). */
export const UNKNOWN_NAMESPACE = 'unknown';

/** A namespace as the controller caches it: only what selection and cleanup read. */
export interface NamespaceView {
  name: string;
  labels: Record<string, string>;
  terminating: boolean;
  finalizers: readonly string[];
}

/** spec.namespaceSelector (deprecated) and spec.namespaceSelectors, in ESO's order. */
export function namespaceSelectorsOf(spec: ClusterExternalSecret['spec']): LabelSelector[] {
  return [...(spec.namespaceSelector ? [spec.namespaceSelector] : []), ...(spec.namespaceSelectors ?? [])];
}

/**
 * Whether the ClusterExternalSecret selects the namespace: any selector matches (an empty
 * selector matches every namespace), or spec.namespaces names it. Throws on a selector the
 * schema would have refused (an unknown operator), naming the field.
 */
export function selects(spec: ClusterExternalSecret['spec'], ns: Pick<NamespaceView, 'name' | 'labels'>): boolean {
  if ((spec.namespaces ?? []).includes(ns.name)) return true;
  const selectors = namespaceSelectorsOf(spec);
  for (let i = 0; i < selectors.length; i++) {
    try {
      if (labelSelectorMatches(selectors[i]!, ns.labels)) return true;
    } catch (e) {
      const field = spec.namespaceSelector && i === 0 ? 'spec.namespaceSelector' : `spec.namespaceSelectors[${spec.namespaceSelector ? i - 1 : i}]`;
      throw new Error(`${field}: ${(e as Error).message}`, { cause: e });
    }
  }
  return false;
}

/**
 * The namespaces to provision, sorted. With `scope` (--namespace) only that namespace can be, as
 * the operator then manages nothing elsewhere. A terminating namespace is not provisioned: its
 * ExternalSecrets are going with it.
 */
export function targetNamespaces(spec: ClusterExternalSecret['spec'], namespaces: Iterable<NamespaceView>, scope?: string): string[] {
  const out: string[] = [];
  for (const ns of namespaces) {
    if (scope !== undefined && scope !== '' && ns.name !== scope) continue;
    if (!ns.terminating && selects(spec, ns)) out.push(ns.name);
  }
  return sortedGoStrings(out);
}

/** spec.externalSecretName, or the ClusterExternalSecret's own name. */
export function externalSecretNameOf(ces: ClusterExternalSecret): string {
  return ces.spec.externalSecretName || ces.metadata.name!;
}

/** The controller owner reference ESO sets on the ExternalSecrets it creates for a ClusterExternalSecret. */
export function ownerReferenceTo(ces: ClusterExternalSecret): OwnerReference {
  return {
    apiVersion: API_VERSION_V1,
    kind: KIND_CLUSTER_EXTERNAL_SECRET,
    name: ces.metadata.name!,
    uid: ces.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function refersToCes(ref: OwnerReference, cesName: string): boolean {
  const group = ref.apiVersion.includes('/') ? ref.apiVersion.slice(0, ref.apiVersion.indexOf('/')) : '';
  return group === GROUP && ref.kind === KIND_CLUSTER_EXTERNAL_SECRET && ref.name === cesName;
}

/**
 * Whether the ExternalSecret is this ClusterExternalSecret's, as ESO decides it: its controller
 * owner reference names a ClusterExternalSecret of this name (any version, any uid: a
 * ClusterExternalSecret deleted with orphaning and created again takes its ExternalSecrets back,
 * and ExternalSecrets ESO created are Tessera's after a switch-over).
 */
export function ownedBy(es: { metadata?: ObjectMeta }, cesName: string): boolean {
  const controller = (es.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
  return controller !== undefined && refersToCes(controller, cesName);
}

/** The name of the ClusterExternalSecret that controls this ExternalSecret, if one does. */
export function controllingCes(es: { metadata?: ObjectMeta }): string | undefined {
  const controller = (es.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
  return controller && refersToCes(controller, controller.name) ? controller.name : undefined;
}

/**
 * The ExternalSecret wanted in one namespace. As ESO: labels and annotations are exactly
 * spec.externalSecretMetadata's (a label added by hand is removed), plus the ClusterExternalSecret's
 * force-sync annotation, so that `kubectl annotate ces … force-sync=…` refreshes every copy. Other
 * owner references of an existing ExternalSecret are kept.
 */
export function desiredExternalSecret(ces: ClusterExternalSecret, namespace: string, existing?: ExternalSecret): ExternalSecret {
  const annotations: Record<string, string> = { ...(ces.spec.externalSecretMetadata?.annotations ?? {}) };
  const forceSync = ces.metadata.annotations?.[ANNOTATION_FORCE_SYNC];
  if (forceSync !== undefined) annotations[ANNOTATION_FORCE_SYNC] = forceSync;
  else delete annotations[ANNOTATION_FORCE_SYNC];
  const labels = { ...(ces.spec.externalSecretMetadata?.labels ?? {}) };
  const otherOwners = (existing?.metadata.ownerReferences ?? []).filter((r) => !refersToCes(r, ces.metadata.name!) && r.controller !== true);
  // The rest of an existing object's metadata (finalizers, uid, resourceVersion for the
  // optimistic lock) is kept: the update replaces the object, and only these fields are ours.
  const { labels: _l, annotations: _a, ownerReferences: _o, ...keptMetadata } = existing?.metadata ?? {};
  return {
    apiVersion: API_VERSION_V1,
    kind: KIND_EXTERNAL_SECRET,
    metadata: {
      ...keptMetadata,
      name: externalSecretNameOf(ces),
      namespace,
      ...(Object.keys(labels).length ? { labels } : {}),
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [ownerReferenceTo(ces), ...otherOwners],
    },
    spec: structuredClone(ces.spec.externalSecretSpec),
  };
}

/** Whether an owned ExternalSecret differs from what is wanted (so that an unchanged one is not written). */
export function externalSecretDiffers(existing: ExternalSecret, desired: ExternalSecret): boolean {
  const meta = (m: ObjectMeta) => ({ labels: m.labels ?? {}, annotations: m.annotations ?? {}, ownerReferences: m.ownerReferences ?? [] });
  return !isDeepStrictEqual(meta(existing.metadata), meta(desired.metadata)) || !isDeepStrictEqual(existing.spec, desired.spec);
}

/**
 * The status after one pass, as ESO writes it: provisioned namespaces sorted, failures sorted by
 * namespace, and one Ready condition (True, or False with ESO's message) replacing the previous one.
 */
export function clusterExternalSecretStatus(
  previous: ClusterExternalSecretStatus | undefined,
  externalSecretName: string,
  provisioned: readonly string[],
  failures: ReadonlyMap<string, string>,
): ClusterExternalSecretStatus {
  const failedNamespaces: ClusterExternalSecretNamespaceFailure[] = sortedGoStrings([...failures.keys()]).map((namespace) => ({ namespace, reason: failures.get(namespace)! }));
  const ready = failures.size === 0 ? { type: 'Ready', status: 'True' } : { type: 'Ready', status: 'False', message: CesMessage.namespacesFailed };
  const status: ClusterExternalSecretStatus = {
    externalSecretName,
    conditions: [...(previous?.conditions ?? []).filter((c) => c.type !== 'Ready'), ready],
  };
  if (failedNamespaces.length) status.failedNamespaces = failedNamespaces;
  if (provisioned.length) status.provisionedNamespaces = sortedGoStrings([...provisioned]);
  return status;
}

/** Whether two statuses say the same (absent and empty lists are the same, as the apiserver drops neither). */
export function statusDiffers(a: ClusterExternalSecretStatus | undefined, b: ClusterExternalSecretStatus): boolean {
  const norm = (s: ClusterExternalSecretStatus | undefined) => ({
    externalSecretName: s?.externalSecretName ?? '',
    failedNamespaces: s?.failedNamespaces ?? [],
    provisionedNamespaces: s?.provisionedNamespaces ?? [],
    conditions: s?.conditions ?? [],
  });
  return !isDeepStrictEqual(norm(a), norm(b));
}

/** ESO's finalizer on a namespace it provisioned for this ClusterExternalSecret. */
export function namespaceFinalizerOf(cesName: string): string {
  return `${FINALIZER_ESO_CES_NAMESPACE_PREFIX}${cesName}`;
}
