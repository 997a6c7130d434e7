// The ExternalSecret reconciler: wiring of watches → queue → reconcile, and the I/O around the
// pure sync core (src/sync): resolve the store, fetch remote values, compute the desired Secret,
// write it if its content changed, report status, events and metrics.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { ClusterSecretStore, ExternalSecret, SecretStore, SecretStoreRef } from '../api/types.generated.ts';
import { LABEL_MANAGED, LABEL_MANAGED_VALUE } from '../api/constants.ts';
import { parseDurationMs } from '../api/duration.ts';
import { targetName, NOT_FOUND, type FetchedDataFrom, type FetchedValue } from '../sync/desired.ts';
import type { TemplateSources } from '../sync/template.ts';
import type { DesiredSecretCompute } from '../compute/index.ts';
import { ConditionReason, EventReason, isSyncError } from '../sync/errors.ts';
import { contentHash, decodeSecretData, fieldOwnerFor, type Secret as SyncSecret } from '../sync/secret.ts';
import type { KubeClient } from '../kube/client.ts';
import { isAlreadyExists, isConflict, isNotFound as isKubeNotFound } from '../kube/client.ts';
import { Controller, type Result } from '../kube/controller.ts';
import type { EventRecorder } from '../kube/events.ts';
import { Informer } from '../kube/informer.ts';
import type { Manager } from '../kube/manager.ts';
import { core, objectKey, rfc3339, type Condition, type KubeObject, type Secret } from '../kube/types.ts';
import { isNotFound as isProviderNotFound } from '../providers/provider.ts';
import { CoalescingReader, type StoreHandle } from '../providers/reader.ts';
import { secretMetrics } from '../metrics/index.ts';
import { ControllerError, controllerErrors } from './errors.ts';
import { nextRefreshDelay, refreshDue, type RefreshState } from './refresh.ts';
import { clusterSecretStores, externalSecrets, secretStores } from './resources.ts';
import { makeStoreReconciler, namespaceAllowed, setCondition, storeHandledBy, StoreClients, type AnyStore, type ControllerIdentityPolicy, type StoreKind } from './stores.ts';

type ES = ExternalSecret & KubeObject;
type SS = SecretStore & KubeObject;
type CSS = ClusterSecretStore & KubeObject;

export interface ExternalSecretControllerOptions {
  kube: KubeClient;
  events: EventRecorder;
  logger: Logger;
  namespace?: string | undefined;
  controllerClass: string;
  concurrent: number;
  /** Bulkhead: most ExternalSecrets of one SecretStore in progress; default max(1, concurrent/4). */
  storeConcurrency?: number | undefined;
  /** Bulkhead: most ExternalSecrets of one namespace in progress; default max(1, concurrent/2). */
  namespaceConcurrency?: number | undefined;
  /** Longest time a value read for one ExternalSecret is reused for another (ms). */
  providerCacheTtlMs: number;
  storeRequeueIntervalMs: number;
  storeQps: number;
  storeBurst: number;
  /** The ConfigMaps and Secrets an ExternalSecret's templateFrom reads (fetched before step 3). */
  templateSourcesFor?: (es: ES, kube: KubeClient) => Promise<TemplateSources>;
  /** Step 3, the desired Secret: tenant-driven compute runs in workers under a budget (src/compute). */
  computeDesiredSecret: DesiredSecretCompute['computeDesiredSecret'];
  env?: Record<string, string | undefined>;
  /** Total deadline of one provider call (ms), --provider-timeout. */
  providerTimeoutMs?: number | undefined;
  /** --namespaced-store-controller-identity. */
  namespacedStoreControllerIdentity?: ControllerIdentityPolicy | undefined;
  /** Deadline of one reconcile (ms), --reconcile-timeout. */
  reconcileTimeoutMs?: number | undefined;
  /** How long shutdown waits for in-progress reconciles before aborting them (ms), --shutdown-timeout. */
  shutdownGraceMs?: number | undefined;
}


/** ESO's syncedResourceVersion: the generation plus a hash of labels and annotations. */
export function syncedVersion(es: ES): string {
  const meta = JSON.stringify([sortObj(es.metadata.labels), sortObj(es.metadata.annotations)]);
  return `${es.metadata.generation ?? 0}-${createHash('sha256').update(meta).digest('hex').slice(0, 32)}`;
}

function sortObj(o: Record<string, string> | undefined): Array<[string, string]> {
  return Object.entries(o ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function storeRefKey(ref: SecretStoreRef | undefined, namespace: string): string {
  const kind = ref?.kind ?? 'SecretStore';
  return kind === 'ClusterSecretStore' ? `ClusterSecretStore/${ref?.name ?? ''}` : `SecretStore/${namespace}/${ref?.name ?? ''}`;
}

/** Every store an ExternalSecret reads from (its secretStoreRef and per-item sourceRef.storeRef). */
function storesOf(es: ES): string[] {
  const ns = es.metadata.namespace!;
  const out = new Set<string>([storeRefKey(es.spec.secretStoreRef, ns)]);
  for (const d of es.spec.data ?? []) if (d.sourceRef?.storeRef) out.add(storeRefKey(d.sourceRef.storeRef, ns));
  for (const d of es.spec.dataFrom ?? []) if (d.sourceRef?.storeRef) out.add(storeRefKey(d.sourceRef.storeRef, ns));
  return [...out];
}

/** What a hand edit of a Secret we wrote would change: type, immutability and data. */
function contentDigest(secret: Secret | SyncSecret): string {
  const s = secret as unknown as SyncSecret;
  return contentHash({ type: s.type || 'Opaque', immutable: s.immutable === true, data: decodeSecretData(s), labels: {}, annotations: {} });
}

/** The bulkhead caps (see --store-concurrency, --namespace-concurrency in README). */
export function bulkheadLimits(o: { concurrent: number; storeConcurrency?: number | undefined; namespaceConcurrency?: number | undefined }): { store: number; namespace: number; storeWorkers: number } {
  const c = Math.max(1, o.concurrent);
  return {
    store: Math.max(1, o.storeConcurrency ?? Math.floor(c / 4)),
    namespace: Math.max(1, o.namespaceConcurrency ?? Math.floor(c / 2)),
    storeWorkers: Math.max(2, Math.ceil(c / 4)),
  };
}

/**
 * The bulkhead groups of an ExternalSecret key: its namespace, and its SecretStore when it reads
 * from one (a tenant chooses a SecretStore's endpoint, so a slow one must only delay its own
 * ExternalSecrets). A ClusterSecretStore is the platform's and shared: capping it would throttle
 * every tenant together and protect none, so only the namespace cap applies.
 */
export function bulkheadGroups(es: ExternalSecret | undefined, key: string): string[] {
  const ns = es?.metadata.namespace ?? key.split('/')[0]!;
  const groups = [`ns/${ns}`];
  if (es && (es.spec.secretStoreRef?.kind ?? 'SecretStore') === 'SecretStore') groups.push(storeRefKey(es.spec.secretStoreRef, ns));
  return groups;
}

export function setupExternalSecretController(manager: Manager, o: ExternalSecretControllerOptions): { controller: Controller; reader: CoalescingReader } {
  const log = o.logger.child({ controller: 'externalsecret' });
  const kube = o.kube;
  const esInformer = new Informer<ES>(kube, externalSecrets, {
    namespace: o.namespace,
    indexers: {
      store: (es) => storesOf(es),
      target: (es) => [`${es.metadata.namespace}/${targetName(es)}`],
    },
  });
  const ssInformer = new Informer<SS>(kube, secretStores, { namespace: o.namespace });
  const cssInformer = new Informer<CSS>(kube, clusterSecretStores, {});
  // Only Secrets we manage are watched and cached: memory follows what we manage, not the cluster.
  const secretInformer = new Informer<Secret>(kube, core.secrets, { namespace: o.namespace, labelSelector: `${LABEL_MANAGED}=${LABEL_MANAGED_VALUE}` });
  // Namespace labels, for ClusterSecretStore namespaceSelector conditions; only labels are kept.
  const nsInformer = new Informer<KubeObject>(kube, core.namespaces, {
    transform: (n) => ({ metadata: { name: n.metadata?.name, resourceVersion: n.metadata?.resourceVersion, labels: n.metadata?.labels } }) as KubeObject,
  });
  for (const inf of [esInformer, ssInformer, cssInformer, secretInformer, nsInformer] as Informer<KubeObject>[]) manager.addInformer(inf);

  const clients = new StoreClients({ kube, logger: log, env: o.env, callDeadlineMs: o.providerTimeoutMs, namespacedStoreControllerIdentity: o.namespacedStoreControllerIdentity });
  // Digest of each target Secret as we last wrote (or found it up to date), by namespace/name.
  // Other tools may add labels and annotations to a Secret; only a change of what we wrote is drift.
  const written = new Map<string, string>();
  /** Has the Secret been edited since we wrote it? Unknown (after a restart) counts as edited once. */
  const drifted = (secret: Secret): boolean => {
    const known = written.get(objectKey(secret));
    return known === undefined || known !== contentDigest(secret);
  };
  const reader = new CoalescingReader({
    storeQps: o.storeQps,
    storeBurst: o.storeBurst,
    maxCacheMs: Math.max(1000, o.providerCacheTtlMs),
    readAhead: (store, room, wanted) => readAhead(store, room, wanted),
    onCoalesced: (s) => secretMetrics.coalescedReads.inc({ provider: s.provider, store: s.id.split('@')[0]! }),
  });

  const limits = bulkheadLimits(o);
  const controller = new Controller({
    name: 'externalsecret',
    workers: o.concurrent,
    reconcileTimeoutMs: o.reconcileTimeoutMs,
    shutdownGraceMs: o.shutdownGraceMs,
    logger: o.logger,
    backoffBaseMs: 1000,
    backoffMaxMs: 5 * 60_000,
    reconcile: (key) => reconcile(key),
    groupsOf: (key) => bulkheadGroups(esInformer.get(key), key),
    groupLimit: (g) => (g.startsWith('SecretStore/') ? limits.store : limits.namespace),
  });
  // Store validation calls the provider too: several workers, at most half of them per namespace,
  // so one tenant's hostile SecretStores cannot hold back the validation of everyone else's.
  const ssController = new Controller({
    name: 'secretstore',
    workers: limits.storeWorkers,
    reconcileTimeoutMs: o.reconcileTimeoutMs,
    shutdownGraceMs: o.shutdownGraceMs,
    groupsOf: (key) => [`ns/${key.split('/')[0]}`],
    groupLimit: () => Math.max(1, Math.floor(limits.storeWorkers / 2)),
    logger: o.logger,
    backoffBaseMs: 1000,
    backoffMaxMs: 5 * 60_000,
    reconcile: makeStoreReconciler('SecretStore', { kube, clients, controllerClass: o.controllerClass, logger: log, secretStoreInformer: ssInformer, clusterSecretStoreInformer: cssInformer, requeueIntervalMs: o.storeRequeueIntervalMs }),
  });
  const cssController = new Controller({
    name: 'clustersecretstore',
    workers: limits.storeWorkers,
    reconcileTimeoutMs: o.reconcileTimeoutMs,
    shutdownGraceMs: o.shutdownGraceMs,
    logger: o.logger,
    backoffBaseMs: 1000,
    backoffMaxMs: 5 * 60_000,
    reconcile: makeStoreReconciler('ClusterSecretStore', { kube, clients, controllerClass: o.controllerClass, logger: log, secretStoreInformer: ssInformer, clusterSecretStoreInformer: cssInformer, requeueIntervalMs: o.storeRequeueIntervalMs }),
  });

  // ---- event → key mapping ------------------------------------------------------------------
  esInformer.addHandlers({
    add: (es) => controller.enqueue(objectKey(es), 'high'),
    // Our own status writes arrive as updates too; only spec, label and annotation changes count.
    update: (a, b) => syncedVersion(a) !== syncedVersion(b) && controller.enqueue(objectKey(b), 'high'),
    delete: (es) => {
      controller.queue.cancelDelayed(objectKey(es));
      written.delete(`${es.metadata.namespace}/${targetName(es)}`);
      o.events.forget(es.metadata.uid ?? '');
      for (const s of ['True', 'False']) secretMetrics.statusCondition.remove({ name: es.metadata.name!, namespace: es.metadata.namespace!, condition: 'Ready', status: s });
    },
  });
  const enqueueForSecret = (s: Secret) => {
    for (const es of esInformer.byIndex('target', objectKey(s))) controller.enqueue(objectKey(es), 'high');
  };
  secretInformer.addHandlers({
    update: (a, b) => a.metadata?.resourceVersion !== b.metadata?.resourceVersion && enqueueForSecret(b),
    delete: enqueueForSecret,
  });
  const onStore = (kind: StoreKind, ctrl: Controller) => ({
    add: (s: AnyStore) => {
      ctrl.enqueue(objectKey(s));
      for (const es of esInformer.byIndex('store', `${kind}/${objectKey(s)}`)) controller.enqueue(objectKey(es), 'high');
    },
    update: (a: AnyStore, b: AnyStore) => {
      if (a.metadata.generation === b.metadata.generation && JSON.stringify(a.metadata.labels) === JSON.stringify(b.metadata.labels)) return;
      clients.evict(kind, b);
      ctrl.enqueue(objectKey(b));
      for (const es of esInformer.byIndex('store', `${kind}/${objectKey(b)}`)) controller.enqueue(objectKey(es), 'high');
    },
    delete: (s: AnyStore) => {
      clients.evict(kind, s);
      for (const es of esInformer.byIndex('store', `${kind}/${objectKey(s)}`)) controller.enqueue(objectKey(es), 'high');
    },
  });
  ssInformer.addHandlers(onStore('SecretStore', ssController));
  cssInformer.addHandlers(onStore('ClusterSecretStore', cssController));
  nsInformer.addHandlers({
    update: (a, b) => {
      if (JSON.stringify(a.metadata?.labels) === JSON.stringify(b.metadata?.labels)) return;
      // Namespace labels feed ClusterSecretStore conditions: re-check its ExternalSecrets.
      for (const es of esInformer.list()) if (es.metadata.namespace === b.metadata?.name) controller.enqueue(objectKey(es), 'high');
    },
  });

  // Runnables stop in reverse order: the provider clients are added first so that they close
  // after the controllers have drained; the three controllers drain together, within one grace.
  manager.add({ name: 'provider-clients', leaderOnly: false, start: () => undefined, stop: () => clients.closeAll() });
  const controllers = [controller, ssController, cssController];
  manager.add({ name: 'controllers', leaderOnly: true, start: () => controllers.forEach((c) => c.start()), stop: async () => void (await Promise.all(controllers.map((c) => c.stop()))) });

  // ---- reconcile ------------------------------------------------------------------------------

  /**
   * Keys that ExternalSecrets of this store will read at their first sync: handed to the reader
   * to fill batch calls (a new cluster, a restore or a big Argo CD sync creates thousands at once).
   */
  function readAhead(store: StoreHandle, room: number, wanted: (ref: { key: string }) => boolean): Array<{ key: string }> {
    const base = store.id.split('@')[0]!;
    const [storeKey, onlyNs] = base.split('#') as [string, string | undefined];
    const out: Array<{ key: string }> = [];
    const seen = new Set<string>();
    for (const es of esInformer.byIndex('store', storeKey)) {
      if (out.length >= room) break;
      if (es.status?.syncedResourceVersion !== undefined) continue;
      const ns = es.metadata.namespace!;
      if (onlyNs !== undefined && ns !== onlyNs) continue;
      if (storeRefKey(es.spec.secretStoreRef, ns) !== storeKey) continue;
      const consider = (key: string, version?: string, metadataPolicy?: string) => {
        if (out.length < room && !seen.has(key) && !version && (metadataPolicy ?? 'None') === 'None' && wanted({ key })) {
          seen.add(key);
          out.push({ key });
        }
      };
      for (const d of es.spec.data ?? []) if (!d.sourceRef) consider(d.remoteRef.key, d.remoteRef.version, d.remoteRef.metadataPolicy);
      for (const d of es.spec.dataFrom ?? []) if (d.extract && !d.sourceRef) consider(d.extract.key, d.extract.version, d.extract.metadataPolicy);
    }
    return out;
  }

  function findStore(ref: SecretStoreRef | undefined, namespace: string): { kind: StoreKind; store: AnyStore | undefined; name: string } {
    const kind = (ref?.kind ?? 'SecretStore') as StoreKind;
    const name = ref?.name ?? '';
    const store = kind === 'ClusterSecretStore' ? cssInformer.get(name) : ssInformer.get(`${namespace}/${name}`);
    return { kind, store, name };
  }

  /** Is any store of the ExternalSecret deleted, or closed to its namespace? (From the caches.) */
  function storeUnavailable(es: ES): boolean {
    const ns = es.metadata.namespace!;
    const sourceRefs = [...(es.spec.data ?? []), ...(es.spec.dataFrom ?? [])].flatMap((d) => (d.sourceRef?.storeRef ? [d.sourceRef.storeRef] : []));
    for (const ref of [es.spec.secretStoreRef, ...sourceRefs]) {
      const { kind, store } = findStore(ref, ns);
      if (!store) return true;
      if (kind === 'ClusterSecretStore' && !namespaceAllowed(store.spec.conditions, ns, nsInformer.get(ns)?.metadata?.labels)) return true;
    }
    return false;
  }

  async function handleFor(ref: SecretStoreRef | undefined, namespace: string): Promise<{ handle: StoreHandle; label: string } | 'skip'> {
    const { kind, store, name } = findStore(ref, namespace);
    if (!store) throw controllerErrors.storeNotFound(kind, name, kind === 'SecretStore' ? namespace : undefined);
    if (!storeHandledBy(store, o.controllerClass)) return 'skip';
    if (kind === 'ClusterSecretStore') {
      const labels = nsInformer.get(namespace)?.metadata?.labels;
      if (!namespaceAllowed(store.spec.conditions, namespace, labels)) throw controllerErrors.namespaceNotAllowed(name, namespace);
    }
    const label = kind === 'ClusterSecretStore' ? `ClusterSecretStore ${JSON.stringify(name)}` : `SecretStore ${JSON.stringify(name)}`;
    try {
      return { handle: await clients.clientFor(kind, store, namespace), label };
    } catch (e) {
      throw controllerErrors.fromProvider(label, e);
    }
  }

  /** Reads every remote value the ExternalSecret needs, through the coalescing reader. */
  async function fetchRemoteValues(es: ES, maxAgeMs: number): Promise<{ data: FetchedValue[]; dataFrom: FetchedDataFrom[] } | 'skip'> {
    const ns = es.metadata.namespace!;
    const main = await handleFor(es.spec.secretStoreRef, ns);
    if (main === 'skip') return 'skip';
    const storeFor = async (sourceRef: { storeRef?: SecretStoreRef; generatorRef?: unknown } | undefined, field: string) => {
      if (sourceRef?.generatorRef) throw controllerErrors.unsupportedSource(`${field}.sourceRef.generatorRef`, 'generators');
      if (!sourceRef?.storeRef) return main;
      const h = await handleFor(sourceRef.storeRef, ns);
      if (h === 'skip') throw controllerErrors.unsupportedSource(`${field}.sourceRef.storeRef`, 'a store handled by another controller class');
      return h;
    };
    const guard = async <T>(label: string, p: Promise<T>): Promise<T | typeof NOT_FOUND> => {
      try {
        return await p;
      } catch (e) {
        if (isProviderNotFound(e)) return NOT_FOUND;
        throw controllerErrors.fromProvider(label, e);
      }
    };
    const data = Promise.all(
      (es.spec.data ?? []).map(async (d, i) => {
        const h = await storeFor(d.sourceRef, `spec.data[${i}]`);
        const ref = { key: d.remoteRef.key, version: d.remoteRef.version, metadataPolicy: d.remoteRef.metadataPolicy as 'None' | 'Fetch' | undefined };
        return guard(h.label, reader.read(h.handle, ref, maxAgeMs));
      }),
    );
    const dataFrom = Promise.all(
      (es.spec.dataFrom ?? []).map(async (d, i): Promise<FetchedDataFrom> => {
        const h = await storeFor(d.sourceRef, `spec.dataFrom[${i}]`);
        if (d.extract) {
          const ref = { key: d.extract.key, version: d.extract.version, metadataPolicy: d.extract.metadataPolicy as 'None' | 'Fetch' | undefined };
          return guard(h.label, reader.read(h.handle, ref, maxAgeMs));
        }
        if (d.find) {
          const query = { path: d.find.path, name: d.find.name?.regexp !== undefined ? { regexp: d.find.name.regexp } : undefined, tags: d.find.tags };
          return guard(h.label, reader.memo(h.handle, `find:${JSON.stringify(query)}`, maxAgeMs, () => h.handle.client.findValues(query)));
        }
        throw controllerErrors.unsupportedSource(`spec.dataFrom[${i}]`, 'an entry without extract or find');
      }),
    );
    // Awaited together: a rejection of one must not leave the other's rejection unhandled.
    const [d, df] = await Promise.all([data, dataFrom]);
    return { data: d, dataFrom: df };
  }

  async function writeStatus(es: ES, cond: { status: 'True' | 'False'; reason: string; message: string }, synced: boolean): Promise<void> {
    const ns = es.metadata.namespace!;
    const name = es.metadata.name!;
    for (const s of ['True', 'False']) secretMetrics.statusCondition.set({ name, namespace: ns, condition: 'Ready', status: s }, s === cond.status ? 1 : 0);
    const conditions = setCondition(es.status?.conditions as Condition[] | undefined, { type: 'Ready', ...cond });
    const status: Record<string, unknown> = { conditions, binding: { name: targetName(es) } };
    if (synced) {
      status.refreshTime = rfc3339();
      status.syncedResourceVersion = syncedVersion(es);
    } else {
      const cur = (es.status?.conditions ?? []).find((c) => c.type === 'Ready');
      // An unchanged failure is not written again: a hot retry loop must not hammer the API.
      if (cur && cur.status === cond.status && cur.reason === cond.reason && cur.message === cond.message) return;
    }
    try {
      await kube.patch(externalSecrets, ns, name, 'merge', { status }, { subresource: 'status' });
    } catch (e) {
      if (!isKubeNotFound(e)) throw e;
    }
  }

  async function fail(es: ES, err: unknown): Promise<never> {
    const message = err instanceof Error ? err.message : String(err);
    const reason = isSyncError(err) ? err.code : err instanceof ControllerError ? err.code : 'Error';
    secretMetrics.syncErrors.inc({ namespace: es.metadata.namespace!, reason });
    o.events.warning(es, EventReason.UpdateFailed, message);
    await writeStatus(es, { status: 'False', reason: ConditionReason.SecretSyncedError, message }, false).catch((e: Error) =>
      log.warn({ es: objectKey(es), err: e.message }, 'status update failed'),
    );
    log.warn({ es: objectKey(es), reason, err: message }, 'sync failed');
    throw err;
  }

  /**
   * The client an ExternalSecret writes its Secret with: its own field manager, named as ESO
   * names it, so the apiserver's managedFields tell who wrote what (and ESO reads them after a
   * migration back). Tessera itself decides ownership on the write records (src/sync/secret.ts).
   */
  const secretWriter = (es: ES): KubeClient => kube.withFieldManager(fieldOwnerFor(es.metadata.name!));

  /** Creates or updates the target Secret; a lost race is retried with backoff. */
  async function writeSecret(es: ES, secret: unknown, existing: Secret | undefined): Promise<void> {
    const target = targetName(es);
    try {
      if (!existing) {
        await secretWriter(es).create(core.secrets, secret as Secret);
        o.events.normal(es, EventReason.Created, `secret ${JSON.stringify(target)} created`);
      } else {
        const s = secret as Secret;
        const body = { ...s, metadata: { ...s.metadata, resourceVersion: existing.metadata?.resourceVersion } };
        await secretWriter(es).update(core.secrets, body as Secret);
        o.events.normal(es, EventReason.Updated, `secret ${JSON.stringify(target)} updated`);
      }
    } catch (e) {
      // Lost a race with another writer: read again and retry with backoff.
      if (isConflict(e) || isAlreadyExists(e)) throw controllerErrors.secretWriteFailed(target, 'it changed while we wrote it; retrying');
      throw controllerErrors.secretWriteRefused(target, e);
    }
  }

  async function reconcile(key: string): Promise<Result> {
    const es = esInformer.get(key);
    if (!es || es.metadata.deletionTimestamp) return {};
    const t0 = performance.now();
    const ns = es.metadata.namespace!;
    const { store } = findStore(es.spec.secretStoreRef, ns);
    if (store && !storeHandledBy(store, o.controllerClass)) return {};

    let refreshMs: number;
    try {
      refreshMs = parseDurationMs(es.spec.refreshInterval ?? '1h');
    } catch (e) {
      // The schema's pattern admits values Go cannot hold (past about 2,562,047h): say so in status.
      return await fail(es, controllerErrors.invalidSpec('spec.refreshInterval', (e as Error).message));
    }
    const policy = es.spec.refreshPolicy ?? 'Periodic';
    const creation = es.spec.target?.creationPolicy ?? 'Owner';
    const target = targetName(es);
    const cached = secretInformer.get(`${ns}/${target}`);
    const lastRefresh = es.status?.refreshTime ? Date.parse(es.status.refreshTime) : NaN;
    const ready = (es.status?.conditions ?? []).find((c) => c.type === 'Ready');
    const specChanged = es.status?.syncedResourceVersion !== syncedVersion(es);
    const ownsWholeSecret = creation === 'Owner' || creation === 'Orphan';
    const targetBroken = ownsWholeSecret && (!cached || drifted(cached));
    const state: RefreshState = {
      policy,
      refreshMs,
      lastRefreshMs: lastRefresh,
      ready: ready?.status === 'True',
      specChanged,
      targetBroken,
      targetExists: !!cached,
      storeUnavailable: storeUnavailable(es),
      now: Date.now(),
    };
    const due = refreshDue(state);
    const nextRefresh = (): Result => {
      const after = nextRefreshDelay(state, due);
      return after === undefined ? {} : { requeueAfter: after };
    };
    if (!due) return nextRefresh();

    secretMetrics.syncCalls.inc({ namespace: ns });
    try {
      // A change of an already synced ExternalSecret (or a repair) reads fresh values. A periodic
      // refresh, and the first sync of a new ExternalSecret, may share a read made for another
      // ExternalSecret within the cache TTL: the values are then as fresh as those of every other
      // ExternalSecret using the key, and a burst of new ExternalSecrets (a restore, a new
      // cluster, a big Argo CD sync) costs one read per distinct key instead of one per object.
      const firstSync = es.status?.syncedResourceVersion === undefined && !cached;
      const maxAge = (specChanged && !firstSync) || (targetBroken && !firstSync) ? 0 : Math.min(o.providerCacheTtlMs, refreshMs > 0 ? refreshMs : o.providerCacheTtlMs);
      const fetched = await fetchRemoteValues(es, maxAge);
      if (fetched === 'skip') return {};
      // Secrets we manage are all in the cache. When the target is not, it usually does not exist:
      // create it without a GET first; a Secret we do not manage turns up as AlreadyExists and is
      // read then. (Merge needs the existing Secret, so it always reads.)
      const blindCreate = !cached && ownsWholeSecret && secretInformer.synced;
      let existing = cached ?? (blindCreate ? undefined : await kube.tryGet<Secret>(core.secrets, ns, target));
      const sources = es.spec.target?.template ? await o.templateSourcesFor?.(es, kube) : undefined;
      const planFor = async (current: Secret | undefined) => {
        const result = await o.computeDesiredSecret({
          externalSecret: es,
          fetched,
          existing: current as unknown as SyncSecret | undefined,
          sources,
        });
        if (!result.ok) throw result.error;
        return result.plan;
      };
      let plan = await planFor(existing);
      const remember = () => {
        if (plan.action === 'write') written.set(`${ns}/${target}`, contentDigest(plan.secret));
        else written.delete(`${ns}/${target}`);
      };
      if (plan.action === 'write' && !plan.upToDate && plan.mode === 'create' && !existing) {
        let created = false;
        try {
          await secretWriter(es).create(core.secrets, plan.secret as unknown as Secret);
          created = true;
        } catch (e) {
          if (!(blindCreate && isAlreadyExists(e))) {
            if (isConflict(e) || isAlreadyExists(e)) throw controllerErrors.secretWriteFailed(target, 'it changed while we wrote it; retrying');
            throw controllerErrors.secretWriteRefused(target, e);
          }
          // A Secret we do not manage (or not in the cache yet): read it and decide again.
          existing = await kube.tryGet<Secret>(core.secrets, ns, target);
          plan = await planFor(existing);
        }
        if (created) o.events.normal(es, EventReason.Created, `secret ${JSON.stringify(target)} created`);
        else if (plan.action === 'write' && !plan.upToDate) await writeSecret(es, plan.secret, existing);
      } else if (plan.action === 'write' && !plan.upToDate) {
        await writeSecret(es, plan.secret, existing);
      } else if (plan.action === 'delete') {
        // Only Secrets we manage are cached: one that is not may still exist and belong to someone
        // else. Read it and decide again, so the ownership rules refuse it before anything is deleted.
        if (!existing) {
          existing = await kube.tryGet<Secret>(core.secrets, ns, target);
          if (existing) plan = await planFor(existing);
        }
        if (plan.action === 'delete' && existing?.metadata?.uid) {
          await kube.delete(core.secrets, plan.namespace ?? ns, plan.name, { preconditions: { uid: existing.metadata.uid } }).catch((e) => {
            if (!isKubeNotFound(e)) throw e;
          });
          o.events.normal(es, EventReason.Deleted, `secret ${JSON.stringify(plan.name)} deleted: the provider has no data and deletionPolicy is Delete`);
        }
      }
      remember();
      await writeStatus(es, { status: plan.condition.status, reason: plan.condition.reason, message: plan.condition.message }, true);
      secretMetrics.reconcileDuration.observe({ namespace: ns }, (performance.now() - t0) / 1000);
      return nextRefresh();
    } catch (e) {
      // Every failure is reported in status and an event, then retried with backoff.
      return await fail(es, e);
    }
  }

  return { controller, reader };
}
