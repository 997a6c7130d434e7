// The ExternalSecret controller's wiring: informers (the caches), the three controllers
// (ExternalSecret, SecretStore, ClusterSecretStore), and the event → key mapping through the named
// predicates of externalsecret-predicates.ts. What one reconcile does is in
// externalsecret-reconciler.ts; nothing here decides about a single ExternalSecret.
import type { Logger } from 'pino';
import type { ExternalSecret } from '../api/types.generated.ts';
import { LABEL_MANAGED, LABEL_MANAGED_VALUE } from '../api/constants.ts';
import { targetName } from '../sync/desired.ts';
import type { TemplateSources } from '../sync/template-refs.ts';
import type { DesiredSecretCompute } from '../compute/index.ts';
import type { KubeClient } from '../kube/client.ts';
import { Controller, type Reconciler } from '../kube/controller.ts';
import type { EventRecorder } from '../kube/events.ts';
import { Discovery } from '../kube/discovery.ts';
import { GenericTargetWatches } from './externalsecret-generic-target.ts';
import { Informer } from '../kube/informer.ts';
import type { Manager } from '../kube/manager.ts';
import type { ShardGate } from '../kube/shardcoordinator.ts';
import { core, objectKey, type KubeObject, type Secret } from '../kube/types.ts';
import { UnseenWrites } from '../kube/unseen-writes.ts';
import { CoalescingReader, type StoreHandle } from '../providers/reader.ts';
import { forgetExternalSecret, secretMetrics } from '../metrics/index.ts';
import {
  addPriority, deletionStarted, externalSecretChanged, managedSecretChanged, namespaceLabelsChanged,
  storeBecameReady, storeChanged, storeRefKey, storesOf,
} from './externalsecret-predicates.ts';
import { ExternalSecretReconciler, type CSS, type ES, type ExternalSecretCaches, type ReconcilerKube, type SS } from './externalsecret-reconciler.ts';
import { clusterSecretStores, externalSecrets, secretStores } from './resources.ts';
import { makeStoreReconciler, namespaceAllowed, StoreClients, storeHandledBy, storeId, type AnyStore, type ControllerIdentityPolicy, type StoreKind } from './stores.ts';
import { kubeGenerateValues } from './generators.ts';

export { syncedVersion } from './externalsecret-predicates.ts';

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
  templateSourcesFor?: (es: ES, kube: ReconcilerKube, signal?: AbortSignal) => Promise<TemplateSources>;
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
  /** --unsafe-allow-generic-targets: ConfigMap targets (spec.target.manifest) are written and watched. */
  allowGenericTargets?: boolean | undefined;
  /** --generic-target-kinds: when non-empty, the only kinds besides ConfigMap a generic target may be. */
  genericTargetKinds?: readonly string[] | undefined;
  /**
   * --shards: ExternalSecrets and SecretStores are cached and reconciled only in the namespaces of
   * the shards this replica holds; ClusterSecretStores stay with the leader.
   */
  sharding?: ShardGate | undefined;
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

export function setupExternalSecretController(manager: Manager, o: ExternalSecretControllerOptions): { controller: Controller; reader: CoalescingReader; reconciler: ExternalSecretReconciler; externalSecrets: Informer<ES> } {
  const log = o.logger.child({ controller: 'externalsecret' });
  const kube = o.kube;
  const gate = o.sharding;
  // With sharding, namespaced caches keep only the held shards' namespaces (re-listed on change).
  const inShards = gate ? { filter: (obj: KubeObject) => gate.caches(obj.metadata?.namespace) } : {};
  const esInformer = new Informer<ES>(kube, externalSecrets, {
    namespace: o.namespace,
    ...inShards,
    indexers: {
      store: (es) => storesOf(es),
      target: (es) => [`${es.metadata.namespace}/${targetName(es)}`],
    },
  });
  const ssInformer = new Informer<SS>(kube, secretStores, { namespace: o.namespace, ...inShards });
  const cssInformer = new Informer<CSS>(kube, clusterSecretStores, {});
  // Only Secrets we manage are watched and cached: memory follows what we manage, not the cluster.
  const secretInformer = new Informer<Secret>(kube, core.secrets, { namespace: o.namespace, labelSelector: `${LABEL_MANAGED}=${LABEL_MANAGED_VALUE}`, ...inShards });
  // Namespace labels, for ClusterSecretStore namespaceSelector conditions; only labels are kept.
  const nsInformer = new Informer<KubeObject>(kube, core.namespaces, {
    transform: (n) => ({ metadata: { name: n.metadata?.name, resourceVersion: n.metadata?.resourceVersion, labels: n.metadata?.labels } }) as KubeObject,
  });
  // Generic target ConfigMaps we manage, for drift repair; watched only when they are allowed
  // (the watch needs the RBAC of deploy/rbac/generic-targets.yaml).
  const configMapInformer = o.allowGenericTargets
    ? new Informer<KubeObject>(kube, core.configMaps, { namespace: o.namespace, labelSelector: `${LABEL_MANAGED}=${LABEL_MANAGED_VALUE}`, ...inShards })
    : undefined;
  for (const inf of [esInformer, ssInformer, secretInformer, configMapInformer]) if (inf) gate?.addCache(inf);
  for (const inf of [esInformer, ssInformer, cssInformer, secretInformer, nsInformer, configMapInformer] as Array<Informer<KubeObject> | undefined>) if (inf) manager.addInformer(inf);

  // The cache views the reconciler decides on; read-ahead asks the same ones.
  const caches: ExternalSecretCaches = {
    externalSecret: (key) => esInformer.get(key),
    managedSecret: (namespace, name) => secretInformer.get(`${namespace}/${name}`),
    managedSecretsSynced: () => secretInformer.synced,
    managedConfigMap: (namespace, name) => configMapInformer?.get(`${namespace}/${name}`),
    secretStore: (namespace, name) => ssInformer.get(`${namespace}/${name}`),
    clusterSecretStore: (name) => cssInformer.get(name),
    namespaceLabels: (namespace) => nsInformer.get(namespace)?.metadata?.labels,
  };
  const clients = new StoreClients({ kube, logger: log, env: o.env, callDeadlineMs: o.providerTimeoutMs, namespacedStoreControllerIdentity: o.namespacedStoreControllerIdentity });
  const judged: JudgedExternalSecrets = { at: new WeakMap(), now: () => performance.now() };
  const reader = new CoalescingReader({
    storeQps: o.storeQps,
    storeBurst: o.storeBurst,
    maxCacheMs: Math.max(1000, o.providerCacheTtlMs),
    readAhead: (store, room, wanted) =>
      readAhead(esInformer, store, room, wanted, (name, ns) => {
        // A ClusterSecretStore reads ahead only for namespaces its conditions allow: a namespace it
        // refuses must not make the operator read keys from it.
        const css = caches.clusterSecretStore(name);
        return css !== undefined && namespaceAllowed(css.spec.conditions, ns, caches.namespaceLabels(ns));
      }, judged),
    onCoalesced: (s) => secretMetrics.coalescedReads.inc({ provider: s.provider, store: s.id.split('@')[0]! }),
  });

  let genericWatches: GenericTargetWatches | undefined;
  const unseenWrites = { externalSecrets: new UnseenWrites(), secrets: new UnseenWrites() };
  const reconciler = new ExternalSecretReconciler({
    caches,
    kube,
    clients,
    reader,
    computeDesiredSecret: o.computeDesiredSecret,
    templateSourcesFor: o.templateSourcesFor,
    events: o.events,
    logger: log,
    controllerClass: o.controllerClass,
    providerCacheTtlMs: o.providerCacheTtlMs,
    generate: kubeGenerateValues({ kube, env: o.env, callDeadlineMs: o.providerTimeoutMs, controllerClass: o.controllerClass }),
    allowGenericTargets: o.allowGenericTargets,
    genericTargetKinds: o.genericTargetKinds,
    // Kinds other than ConfigMap are resolved through discovery, only when generic targets are on.
    discovery: o.allowGenericTargets ? new Discovery(kube) : undefined,
    watchGenericKind: (rt) => genericWatches?.ensure(rt),
    unseenWrites,
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
    reconcile: shardedReconciler(gate, (key, signal) => reconciler.reconcile(key, signal)),
    groupsOf: (key) => bulkheadGroups(esInformer.get(key), key),
    groupLimit: (g) => (g.startsWith('SecretStore/') ? limits.store : limits.namespace),
  });
  // Store validation calls the provider too: several workers, at most half of them per namespace,
  // so one tenant's hostile SecretStores cannot hold back the validation of everyone else's.
  const storeReconcilerDeps = { kube, clients, controllerClass: o.controllerClass, logger: log, secretStoreInformer: ssInformer, clusterSecretStoreInformer: cssInformer, requeueIntervalMs: o.storeRequeueIntervalMs, events: o.events };
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
    reconcile: shardedReconciler(gate, makeStoreReconciler('SecretStore', storeReconcilerDeps)),
  });
  const cssController = new Controller({
    name: 'clustersecretstore',
    workers: limits.storeWorkers,
    reconcileTimeoutMs: o.reconcileTimeoutMs,
    shutdownGraceMs: o.shutdownGraceMs,
    logger: o.logger,
    backoffBaseMs: 1000,
    backoffMaxMs: 5 * 60_000,
    reconcile: makeStoreReconciler('ClusterSecretStore', storeReconcilerDeps),
  });

  // ---- event → key mapping ------------------------------------------------------------------
  // A reconcile deferred until the caches show this controller's own write goes on once they do.
  const seenWrite = (tracker: UnseenWrites, obj: KubeObject) => {
    const waiter = tracker.seen(objectKey(obj));
    if (waiter !== undefined) controller.enqueue(waiter, 'high');
  };
  esInformer.addHandlers({
    add: (es, { initialList }) => controller.enqueue(objectKey(es), addPriority(initialList)),
    update: (a, b) => {
      if (externalSecretChanged(a, b) || deletionStarted(a, b)) controller.enqueue(objectKey(b), 'high');
      seenWrite(unseenWrites.externalSecrets, b);
    },
    delete: (es) => {
      seenWrite(unseenWrites.externalSecrets, es);
      controller.queue.cancelDelayed(objectKey(es));
      o.events.forget(es.metadata.uid ?? '');
      forgetExternalSecret({ name: es.metadata.name!, namespace: es.metadata.namespace! });
    },
  });
  const enqueueForSecret = (s: KubeObject) => {
    for (const es of esInformer.byIndex('target', objectKey(s))) controller.enqueue(objectKey(es), 'high');
  };
  secretInformer.addHandlers({
    add: (s) => seenWrite(unseenWrites.secrets, s),
    update: (a, b) => {
      seenWrite(unseenWrites.secrets, b);
      if (managedSecretChanged(a, b)) enqueueForSecret(b);
    },
    delete: (s) => {
      seenWrite(unseenWrites.secrets, s);
      enqueueForSecret(s);
    },
  });
  // Other generic target kinds are watched from their first write on (drift repair).
  genericWatches = o.allowGenericTargets ? new GenericTargetWatches({ client: kube, namespace: o.namespace, onChange: enqueueForSecret }) : undefined;
  if (genericWatches) {
    const watches = genericWatches;
    manager.add({ name: 'generic-target-watches', leaderOnly: false, start: () => {}, stop: () => watches.stop() });
  }
  configMapInformer?.addHandlers({
    update: (a, b) => managedSecretChanged(a, b) && enqueueForSecret(b),
    delete: enqueueForSecret,
  });
  const enqueueForStore = (kind: StoreKind, s: AnyStore, priority: 'high' | 'low') => {
    for (const es of esInformer.byIndex('store', storeId(kind, s))) controller.enqueue(objectKey(es), priority);
  };
  const onStore = (kind: StoreKind, ctrl: Controller) => ({
    add: (s: AnyStore, { initialList }: { initialList: boolean }) => {
      // The ExternalSecrets' list is still loading: their first store client gets ready meanwhile.
      if (initialList && storeHandledBy(s, o.controllerClass)) void clients.warm(s);
      ctrl.enqueue(objectKey(s));
      enqueueForStore(kind, s, addPriority(initialList));
    },
    update: (a: AnyStore, b: AnyStore) => {
      if (storeChanged(a, b)) {
        clients.evict(kind, b);
        ctrl.enqueue(objectKey(b));
        enqueueForStore(kind, b, 'high');
      } else if (storeBecameReady(a, b)) {
        // Validated with fresh credentials: clients built with the old ones go, and the
        // ExternalSecrets waiting in backoff on this store are retried now.
        log.debug({ store: storeId(kind, b) }, 'store became ready; requeueing its ExternalSecrets');
        clients.evict(kind, b);
        enqueueForStore(kind, b, 'high');
      }
    },
    delete: (s: AnyStore) => {
      clients.evict(kind, s);
      // The store reconciler finds it gone and removes its metric series.
      ctrl.enqueue(objectKey(s));
      enqueueForStore(kind, s, 'high');
    },
  });
  ssInformer.addHandlers(onStore('SecretStore', ssController));
  cssInformer.addHandlers(onStore('ClusterSecretStore', cssController));
  nsInformer.addHandlers({
    update: (a, b) => {
      if (!namespaceLabelsChanged(a, b)) return;
      // Namespace labels feed ClusterSecretStore conditions: re-check its ExternalSecrets.
      for (const es of esInformer.list()) if (es.metadata.namespace === b.metadata?.name) controller.enqueue(objectKey(es), 'high');
    },
  });

  // Runnables stop in reverse order: the provider clients are added first so that they close
  // after the controllers have drained; the three controllers drain together, within one grace.
  manager.add({ name: 'provider-clients', leaderOnly: false, start: () => undefined, stop: () => clients.closeAll() });
  // With sharding, the namespaced controllers run on every replica (the shard gate decides per
  // key) and the ClusterSecretStore controller on the leader only.
  const controllers = gate ? [cssController] : [controller, ssController, cssController];
  if (gate) manager.add({ name: 'sharded-controllers', leaderOnly: false, start: () => [controller, ssController].forEach((c) => c.start()), stop: async () => void (await Promise.all([controller, ssController].map((c) => c.stop()))) });
  manager.add({ name: 'controllers', leaderOnly: true, start: () => controllers.forEach((c) => c.start()), stop: async () => void (await Promise.all(controllers.map((c) => c.stop()))) });

  return { controller, reader, reconciler, externalSecrets: esInformer };
}

/** A reconciler that runs only for keys of the held shards (unchanged without sharding). */
function shardedReconciler(gate: ShardGate | undefined, reconcile: Reconciler): Reconciler {
  return gate ? (key, signal) => gate.reconcile(key, signal, (s) => reconcile(key, s)) : reconcile;
}

/**
 * ExternalSecrets (cached objects) whose keys read-ahead has all judged, and when. A first sync of
 * 10,000 ExternalSecrets makes ~150 passes (50 batch calls) in its first seconds, each of which
 * walked past thousands of ExternalSecrets whose keys an earlier pass had already sent for.
 * A key judged is not wanted again for minutes (read ahead, in flight, or cached); an
 * ExternalSecret is looked at again after JUDGED_FOR_MS, or at once when its object changes.
 * Skipping one only costs a read-ahead: its own reconcile still reads what it needs.
 */
export interface JudgedExternalSecrets {
  at: WeakMap<object, number>;
  now(): number;
}

const JUDGED_FOR_MS = 10_000;

/**
 * Keys that ExternalSecrets of this store will read at their first sync: handed to the reader
 * to fill batch calls (a new cluster, a restore or a big Argo CD sync creates thousands at once).
 * Of a ClusterSecretStore, only ExternalSecrets of namespaces it allows count.
 */
export function readAhead(
  esInformer: Pick<Informer<ES>, 'eachByIndex'>,
  store: StoreHandle,
  room: number,
  wanted: (ref: { key: string }) => boolean,
  clusterStoreAllows: (name: string, namespace: string) => boolean,
  judged?: JudgedExternalSecrets,
): Array<{ key: string }> {
  const base = store.id.split('@')[0]!;
  const [storeIndexKey, onlyNs] = base.split('#') as [string, string | undefined];
  const allowed = new Map<string, boolean>();
  const out: Array<{ key: string }> = [];
  const seen = new Set<string>();
  const now = judged?.now() ?? 0;
  const allows = (name: string, ns: string) => {
    let ok = allowed.get(ns);
    if (ok === undefined) allowed.set(ns, (ok = clusterStoreAllows(name, ns)));
    return ok;
  };
  esInformer.eachByIndex('store', storeIndexKey, (es) => {
    if (out.length >= room) return false;
    if (es.status?.syncedResourceVersion !== undefined) return;
    const at = judged?.at.get(es);
    if (at !== undefined && now - at < JUDGED_FOR_MS) return;
    if (!waitsOnStore(es, storeIndexKey, onlyNs, allows)) return;
    // Each key is judged once per pass, taken or not: thousands of ExternalSecrets share a few
    // hundred keys, and late in a first sync nearly every key is cached or in flight.
    let unjudged = false;
    const consider = (key: string, version?: string, metadataPolicy?: string) => {
      if (version || (metadataPolicy ?? 'None') !== 'None' || seen.has(key)) return;
      if (out.length >= room) {
        unjudged = true;
        return;
      }
      seen.add(key);
      if (wanted({ key })) out.push({ key });
    };
    for (const d of es.spec.data ?? []) if (!d.sourceRef) consider(d.remoteRef.key, d.remoteRef.version, d.remoteRef.metadataPolicy);
    for (const d of es.spec.dataFrom ?? []) if (d.extract && !d.sourceRef) consider(d.extract.key, d.extract.version, d.extract.metadataPolicy);
    // Every key of this ExternalSecret is now read ahead, in flight or cached, which stays so for
    // minutes: later passes skip it for a while instead of looking at its keys again.
    if (!unjudged) judged?.at.set(es, now);
  });
  return out;
}

/** Does this unsynced ExternalSecret read from the store (its own reference, an allowed namespace)? */
function waitsOnStore(es: ES, storeIndexKey: string, onlyNs: string | undefined, allows: (name: string, ns: string) => boolean): boolean {
  const ns = es.metadata.namespace!;
  if (onlyNs !== undefined && ns !== onlyNs) return false;
  if (storeRefKey(es.spec.secretStoreRef, ns) !== storeIndexKey) return false;
  return es.spec.secretStoreRef?.kind !== 'ClusterSecretStore' || allows(es.spec.secretStoreRef.name ?? '', ns);
}
