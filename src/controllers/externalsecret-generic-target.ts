// The write step for a generic target (spec.target.manifest, ESO 2.9): the ConfigMap, custom
// resource or other namespaced object an ExternalSecret writes instead of a Secret. Why a file of
// its own: the plan is the sync core's (src/sync/configmap-target.ts and src/sync/generic-target.ts
// make the object look like a Secret to it, so ownership, Merge, write records and deletionPolicy
// are the Secret's, ADR 0004); only resolving the kind, the reads and the writes differ, and the
// Secret path of the reconciler stays as it is. Values are never logged or quoted (they come from
// a secret store).
import { configMapAsSecret, forConfigMapTarget, secretAsConfigMap, type ConfigMap } from '../sync/configmap-target.ts';
import { targetName, type FetchedDataFrom, type FetchedValue, type ReadyCondition, type SyncPlan } from '../sync/desired.ts';
import { ConditionReason, EventMessage, EventReason, ReadyMessage } from '../sync/errors.ts';
import type { Secret as SyncSecret } from '../sync/secret.ts';
import type { TemplateSources } from '../sync/template-refs.ts';
import type { DesiredSecretCompute } from '../compute/index.ts';
import { isNotFound as isKubeNotFound, type KubeClient } from '../kube/client.ts';
import { Informer } from '../kube/informer.ts';
import { ANNOTATION_DATA_HASH, LABEL_MANAGED, LABEL_MANAGED_VALUE } from '../api/constants.ts';
import type { EventRecorder } from '../kube/events.ts';
import { core, type KubeObject, type ResourceType, type Secret } from '../kube/types.ts';
import type { KindResolution } from '../kube/discovery.ts';
import type { ManifestReference } from '../api/types.generated.ts';
import { buildGenericTarget, forGenericTarget, genericContentHash, genericTargetAsSecret, genericTargetUpToDate, refusedGenericKind, type GenericObject } from '../sync/generic-target.ts';
import { syncErrors } from '../sync/errors.ts';
import type { ES, ReconcilerKube } from './externalsecret-reconciler.ts';

export interface ConfigMapTargetDeps {
  kube: ReconcilerKube;
  /** The client the ExternalSecret writes with (its own field manager, as for Secrets). */
  writer: ReconcilerKube;
  computeDesiredSecret: DesiredSecretCompute['computeDesiredSecret'];
  templateSourcesFor?: ((es: ES, kube: ReconcilerKube, signal?: AbortSignal) => Promise<TemplateSources>) | undefined;
  events: Pick<EventRecorder, 'normal' | 'warning'>;
  /** Maps a failed write to the error status reports (the reconciler's, shared with Secrets). */
  writeError: (target: string, e: unknown) => Error;
}

/** The managed ConfigMap from the cache, as the reconciler's refresh decisions read a Secret. */
export function configMapAsCachedSecret(cm: KubeObject | undefined): Secret | undefined {
  return cm ? (configMapAsSecret(cm as ConfigMap) as unknown as Secret) : undefined;
}

/** ESO names the Ready reasons of a generic target Resource*, with the Merge message its own. */
export function resourceCondition(c: ReadyCondition): ReadyCondition {
  switch (c.reason) {
    case ConditionReason.SecretSynced: return { ...c, reason: ConditionReason.ResourceSynced };
    case ConditionReason.SecretDeleted: return { ...c, reason: ConditionReason.ResourceDeleted };
    case ConditionReason.SecretMissing: return { ...c, reason: ConditionReason.ResourceMissing, message: ReadyMessage.ResourceMissing };
    case ConditionReason.SecretSyncedError: return { ...c, reason: ConditionReason.ResourceSyncedError };
    default: return c;
  }
}

/**
 * Plans and writes the target ConfigMap. A ConfigMap not in the managed cache is read first (a
 * Merge target, or one someone else created): the plan's ownership rules then refuse what this
 * ExternalSecret does not own before anything is written or deleted.
 */
export async function syncConfigMapTarget(
  d: ConfigMapTargetDeps,
  es: ES,
  fetched: { data: FetchedValue[]; dataFrom: FetchedDataFrom[] },
  cached: KubeObject | undefined,
  signal: AbortSignal | undefined,
): Promise<SyncPlan> {
  const ns = es.metadata.namespace!;
  const name = targetName(es);
  const existing = (cached ?? await d.kube.tryGet<KubeObject>(core.configMaps, ns, name, { signal })) as ConfigMap | undefined;
  const sources = es.spec.target?.template ? await d.templateSourcesFor?.(es, d.kube, signal) : undefined;
  const result = await d.computeDesiredSecret({
    externalSecret: forConfigMapTarget(es),
    fetched,
    existing: existing ? configMapAsSecret(existing) as SyncSecret : undefined,
    sources,
  }, { signal });
  if (!result.ok) throw result.error;
  const plan = result.plan;
  for (const skipped of plan.skipped) d.events.normal(es, EventReason.MissingProviderSecret, skipped.message);
  if (plan.action === 'write' && !plan.upToDate) {
    const body = secretAsConfigMap(plan.secret, existing);
    try {
      if (!existing) {
        await d.writer.create(core.configMaps, body as unknown as KubeObject, { signal });
        d.events.normal(es, EventReason.Created, EventMessage.createdResource('ConfigMap', name));
      } else {
        const update = { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata.resourceVersion } };
        await d.writer.update(core.configMaps, update as unknown as KubeObject, { signal });
        d.events.normal(es, EventReason.Updated, EventMessage.updatedResource('ConfigMap', name));
      }
    } catch (e) {
      throw d.writeError(name, e);
    }
  } else if (plan.action === 'delete' && existing?.metadata.uid) {
    await d.kube.delete(core.configMaps, ns, name, { preconditions: { uid: existing.metadata.uid }, signal }).catch((e: unknown) => {
      if (!isKubeNotFound(e)) throw e;
    });
    d.events.normal(es, EventReason.Deleted, EventMessage.deletedResource('ConfigMap', name));
  }
  return plan;
}

/** The apiserver's discovery, as the reconciler asks it (src/kube/discovery.ts). */
export interface KindResolver {
  resolve(apiVersion: string, kind: string, signal?: AbortSignal): Promise<KindResolution>;
}

/** Is this manifest a ConfigMap (the ConfigMap path, with its own watch)? */
export function isConfigMapManifest(m: ManifestReference): boolean {
  return m.apiVersion === 'v1' && m.kind === 'ConfigMap';
}

/**
 * The collection a generic target is written to, or the reason it is refused: a kind never
 * written or left out of --generic-target-kinds, a kind the apiserver does not serve, a
 * cluster-scoped kind. Each error names spec.target.manifest.
 */
export async function resolveGenericTarget(
  discovery: KindResolver | undefined,
  manifest: ManifestReference,
  allowedKinds: readonly string[] | undefined,
  signal: AbortSignal | undefined,
): Promise<ResourceType> {
  const refused = refusedGenericKind(manifest, allowedKinds);
  if (refused) throw refused;
  if (isConfigMapManifest(manifest)) return core.configMaps;
  if (!discovery) throw syncErrors.unsupportedTargetKind(manifest.apiVersion, manifest.kind, 'this operator resolves no kinds other than ConfigMap');
  const r = await discovery.resolve(manifest.apiVersion, manifest.kind, signal);
  if ('invalid' in r) throw syncErrors.unsupportedTargetKind(manifest.apiVersion, manifest.kind, `${r.invalid} is not a valid Kubernetes name`);
  if ('missing' in r) throw syncErrors.targetKindNotFound(manifest.apiVersion, manifest.kind, r.missing);
  if (!r.found.namespaced) throw syncErrors.targetKindClusterScoped(manifest.apiVersion, manifest.kind);
  return r.found;
}

/**
 * Plans and writes a generic target of any kind but ConfigMap. There is no cache of these objects
 * (their kinds are known only at run time): the object is read each sync, so drift is repaired at
 * the next refresh, and the write is skipped when the object already holds what would be written.
 * The plan's ownership rules refuse what this ExternalSecret does not own before anything is
 * written or deleted.
 */
export async function syncGenericTarget(
  d: ConfigMapTargetDeps,
  rt: ResourceType,
  es: ES,
  fetched: { data: FetchedValue[]; dataFrom: FetchedDataFrom[] },
  signal: AbortSignal | undefined,
): Promise<SyncPlan> {
  const ns = es.metadata.namespace!;
  const name = targetName(es);
  const existing = await d.kube.tryGet<KubeObject>(rt, ns, name, { signal }) as GenericObject | undefined;
  const { externalSecret: forCore, paths } = forGenericTarget(es);
  const sources = es.spec.target?.template ? await d.templateSourcesFor?.(es, d.kube, signal) : undefined;
  const result = await d.computeDesiredSecret({
    externalSecret: forCore,
    fetched,
    existing: existing ? genericTargetAsSecret(existing, es) : undefined,
    sources,
  }, { signal });
  if (!result.ok) throw result.error;
  const plan = result.plan;
  for (const skipped of plan.skipped) d.events.normal(es, EventReason.MissingProviderSecret, skipped.message);
  if (plan.action === 'write') {
    const body = buildGenericTarget({ externalSecret: es, planned: plan.secret, paths, existing });
    if (existing && genericTargetUpToDate(body, existing)) return plan;
    try {
      if (!existing) {
        await d.writer.create(rt, body as KubeObject, { signal });
        d.events.normal(es, EventReason.Created, EventMessage.createdResource(rt.kind, name));
      } else {
        const update = { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata.resourceVersion } };
        await d.writer.update(rt, update as KubeObject, { signal });
        d.events.normal(es, EventReason.Updated, EventMessage.updatedResource(rt.kind, name));
      }
    } catch (e) {
      throw d.writeError(name, e);
    }
  } else if (plan.action === 'delete' && existing?.metadata.uid) {
    await d.kube.delete(rt, ns, name, { preconditions: { uid: existing.metadata.uid }, signal }).catch((e: unknown) => {
      if (!isKubeNotFound(e)) throw e;
    });
    d.events.normal(es, EventReason.Deleted, EventMessage.deletedResource(rt.kind, name));
  }
  return plan;
}

/** The part of an object a generic target writes, as comparable text. */
const managedPart = (o: KubeObject) => {
  const r = o as KubeObject & { spec?: unknown; data?: unknown };
  return JSON.stringify([r.spec, r.data, o.metadata?.labels, o.metadata?.annotations, o.metadata?.ownerReferences]);
};

/** Did the part of the object a generic target writes change (content, labels, annotations, owners)? */
function contentChanged(a: KubeObject, b: KubeObject): boolean {
  return a.metadata?.resourceVersion !== b.metadata?.resourceVersion && managedPart(a) !== managedPart(b);
}

/** Is the content still what the data-hash annotation says, as after our own write? */
function carriesOwnHash(o: KubeObject): boolean {
  const hash = o.metadata?.annotations?.[ANNOTATION_DATA_HASH];
  return hash !== undefined && hash === genericContentHash(o as unknown as Record<string, unknown>);
}

/**
 * Watches on the managed objects of the generic target kinds written so far, for drift repair as
 * ConfigMaps have it (ESO's informer manager does the same). Started on the first write of a
 * kind, so that only kinds in use are watched; at most `maxKinds` (a tenant chooses the kinds).
 * Not readiness checks of the manager: a kind the operator may write but not watch (RBAC without
 * list/watch) only loses the instant repair, and its objects are still repaired at each refresh.
 */
export class GenericTargetWatches {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private readonly client: KubeClient;
  private readonly namespace: string | undefined;
  private readonly onChange: (obj: KubeObject) => void;
  private readonly maxKinds: number;

  constructor(o: { client: KubeClient; namespace: string | undefined; onChange: (obj: KubeObject) => void; maxKinds?: number }) {
    this.client = o.client;
    this.namespace = o.namespace;
    this.onChange = o.onChange;
    this.maxKinds = o.maxKinds ?? 32;
  }

  /** Watches the managed objects of `rt` from now on (ConfigMaps have their own informer). */
  ensure(rt: ResourceType): void {
    const key = `${rt.group}/${rt.version}/${rt.plural}`;
    if (rt === core.configMaps || this.informers.has(key) || this.informers.size >= this.maxKinds) return;
    const inf = new Informer<KubeObject>(this.client, rt, { namespace: this.namespace || undefined, labelSelector: `${LABEL_MANAGED}=${LABEL_MANAGED_VALUE}` });
    inf.addHandlers({
      // A hand edit of what we write. Not status or metadata bookkeeping (another controller may
      // write the object's status often), and not our own write, whose content still hashes to the
      // data-hash annotation it carries: with a generator, each sync writes new values, and a
      // reconcile per own write would never end.
      update: (a, b) => contentChanged(a, b) && !carriesOwnHash(b) && this.onChange(b),
      delete: (o) => this.onChange(o),
    });
    this.informers.set(key, inf);
    inf.start();
  }

  get kinds(): number {
    return this.informers.size;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    this.informers.clear();
  }
}
