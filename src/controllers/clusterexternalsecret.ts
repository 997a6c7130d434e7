// The ClusterExternalSecret controller: keeps one ExternalSecret in every namespace a
// ClusterExternalSecret selects, and none (of its own) anywhere else. What to do is decided in
// clusterexternalsecret-plan.ts from cached objects; this file wires the caches and the queue and
// performs the writes.
//
// Reacts at once to what changes the answer: the ClusterExternalSecret itself, a namespace created,
// relabelled, terminating or deleted, and an ExternalSecret it owns (or one in its way) changed or
// deleted; spec.refreshTime (default 1h, as ESO) re-evaluates everything anyway.
//
// After a switch-over from ESO: ExternalSecrets ESO created carry the same controller owner
// reference, so they are adopted as they are (no write when unchanged); ESO's finalizers on the
// ClusterExternalSecret and on the namespaces it provisioned are removed, so deletes and namespace
// deletions do not hang. Tessera adds no finalizer: the owner reference lets the garbage collector
// remove the ExternalSecrets when the ClusterExternalSecret goes.
import type { Logger } from 'pino';
import { FINALIZER_ESO_CES_NAMESPACE_PREFIX, FINALIZER_ESO_CLUSTEREXTERNALSECRET } from '../api/constants.ts';
import { parseDurationMs, timerDelayMs } from '../api/duration.ts';
import type { ClusterExternalSecret, ClusterSecretStore, ExternalSecret } from '../api/types.generated.ts';
import { isAlreadyExists, isConflict, isNotFound, type KubeClient } from '../kube/client.ts';
import { Controller, markLogged, TerminalError, type Result } from '../kube/controller.ts';
import { removeFinalizerFrom } from '../kube/finalizers.ts';
import { Informer } from '../kube/informer.ts';
import type { Manager } from '../kube/manager.ts';
import { core, objectKey, type KubeObject } from '../kube/types.ts';
import {
  CesMessage, clusterExternalSecretStatus, controllingCes, desiredExternalSecret, externalSecretDiffers, externalSecretNameOf,
  namespaceFinalizerOf, ownedBy, selects, statusDiffers, targetNamespaces, UNKNOWN_NAMESPACE, type NamespaceView,
} from './clusterexternalsecret-plan.ts';
import { writeFailureDetail } from './errors.ts';
import { causeChain } from './externalsecret-reconciler.ts';
import { clusterExternalSecrets, clusterSecretStores, externalSecrets } from './resources.ts';
import { clusterExternalSecretMetrics, forgetReadyGauges, nanosecondsSince, setReadyCondition } from '../metrics/index.ts';
import { storeHandledBy } from './stores.ts';

/** ESO's default when spec.refreshTime is absent (its RequeueInterval for this controller). */
export const DEFAULT_CES_REFRESH_MS = 60 * 60_000;

export interface ClusterExternalSecretControllerOptions {
  kube: KubeClient;
  logger: Logger;
  /** --namespace: only this namespace is provisioned. */
  namespace?: string | undefined;
  controllerClass: string;
  reconcileTimeoutMs?: number | undefined;
  shutdownGraceMs?: number | undefined;
  /**
   * The ExternalSecret controller's informer, when it caches every ExternalSecret this controller
   * may provision: shared, it saves a second watch and a second copy of each object. Without it
   * this controller keeps its own, smaller cache.
   */
  externalSecrets?: Informer<ExternalSecret> | undefined;
}

type CES = ClusterExternalSecret;
type ES = ExternalSecret;

/** The cached namespace: only the fields selection and finalizer cleanup read. */
function namespaceView(n: KubeObject): NamespaceView {
  return {
    name: n.metadata?.name ?? '',
    labels: n.metadata?.labels ?? {},
    terminating: Boolean(n.metadata?.deletionTimestamp),
    finalizers: n.metadata?.finalizers ?? [],
  };
}

/** spec.refreshTime in ms; 0 means no periodic re-evaluation (events still trigger one). */
export function refreshTimeMs(ces: CES): number {
  const raw = ces.spec.refreshTime;
  if (raw === undefined || raw === '') return DEFAULT_CES_REFRESH_MS;
  return timerDelayMs(parseDurationMs(raw));
}

/** What one reconcile reads and writes through: the caches, and the kube client for writes. */
export interface ClusterExternalSecretReconcilerDeps {
  kube: Pick<KubeClient, 'create' | 'update' | 'delete' | 'patch' | 'tryGet' | 'updateStatusWithRetry'>;
  logger: Logger;
  /** --namespace: only this namespace is provisioned. */
  namespace?: string | undefined;
  controllerClass: string;
  ces: (name: string) => CES | undefined;
  namespaces: () => NamespaceView[];
  externalSecret: (namespace: string, name: string) => ES | undefined;
  ownedExternalSecrets: (cesName: string) => ES[];
}

export class ClusterExternalSecretReconciler {
  private readonly d: ClusterExternalSecretReconcilerDeps;
  constructor(deps: ClusterExternalSecretReconcilerDeps) {
    this.d = deps;
  }

  async reconcile(name: string, signal: AbortSignal): Promise<Result> {
    const t0 = performance.now();
    try {
      return await this.reconcileOnce(name, signal);
    } finally {
      if (this.d.ces(name)) clusterExternalSecretMetrics.reconcileDuration.set({ name, namespace: '' }, nanosecondsSince(t0));
    }
  }

  private async reconcileOnce(name: string, signal: AbortSignal): Promise<Result> {
    const log = this.d.logger.child({ clusterexternalsecret: name });
    const ces = this.d.ces(name);
    if (!ces) {
      forgetReadyGauges(clusterExternalSecretMetrics, { name, namespace: '' });
      // Deleted without ESO's finalizer: the garbage collector removes its ExternalSecrets; only
      // ESO's namespace finalizers may be left.
      await this.releaseNamespaces(name, signal, log);
      return {};
    }
    if (ces.metadata.deletionTimestamp) return this.finalize(ces, signal, log);
    if (!(await this.handledHere(ces, signal))) {
      log.debug({ controllerClass: this.d.controllerClass }, 'skipped: its ClusterSecretStore belongs to another controller class');
      return {};
    }

    const esName = externalSecretNameOf(ces);
    const failures = new Map<string, string>();
    let targets: string[];
    try {
      targets = targetNamespaces(ces.spec, this.d.namespaces(), this.d.namespace);
    } catch (e) {
      failures.set(UNKNOWN_NAMESPACE, CesMessage.selectFailed((e as Error).message));
      await this.writeStatus(ces, esName, [], failures, signal, log);
      throw markLogged(new TerminalError(CesMessage.selectFailed((e as Error).message)));
    }
    const wanted = new Set(targets);
    let retry = false;

    // ExternalSecrets of ours that are no longer wanted: their namespace stopped matching, or
    // spec.externalSecretName changed.
    for (const es of this.d.ownedExternalSecrets(ces.metadata.name!)) {
      const ns = es.metadata.namespace!;
      if (wanted.has(ns) && es.metadata.name === esName) continue;
      try {
        await this.deleteOwned(es, signal);
        log.info({ namespace: ns, externalSecret: es.metadata.name }, 'deleted the ExternalSecret of a namespace no longer selected');
      } catch (e) {
        if (signal.aborted) throw e;
        retry = true;
        failures.set(ns, CesMessage.deleteFailed(writeFailureDetail(e)));
      }
    }

    const provisioned: string[] = [];
    for (const ns of targets) {
      try {
        const failure = await this.provision(ces, ns, esName, signal, log);
        if (failure === undefined) provisioned.push(ns);
        else failures.set(ns, failure);
      } catch (e) {
        if (signal.aborted) throw e;
        retry = true;
        failures.set(ns, CesMessage.createFailed(isAlreadyExists(e) || isConflict(e) ? 'it changed while we wrote it; retrying' : writeFailureDetail(e)));
      }
    }

    await this.releaseNamespaces(ces.metadata.name!, signal, log);
    await this.writeStatus(ces, esName, provisioned, failures, signal, log);
    if (failures.size) log.warn({ failedNamespaces: [...failures.keys()].slice(0, 20), count: failures.size }, 'some namespaces failed');
    if (retry) throw markLogged(new Error(`ClusterExternalSecret ${name}: ${failures.size} namespace(s) failed; retrying`));
    const every = refreshTimeMs(ces);
    return every > 0 ? { requeueAfter: every } : {};
  }

  /**
   * Creates or updates the ExternalSecret of one namespace; an ExternalSecret of the name that is
   * not ours is left alone and reported. The cache may lag behind our own writes: a create that
   * finds one already there, or an update that conflicts, decides again once from a live read.
   */
  private async provision(ces: CES, ns: string, esName: string, signal: AbortSignal, log: Logger): Promise<string | undefined> {
    let existing = this.d.externalSecret(ns, esName);
    for (let attempt = 0; ; attempt++) {
      if (existing && !ownedBy(existing, ces.metadata.name!)) return CesMessage.alreadyExists;
      const desired = desiredExternalSecret(ces, ns, existing);
      try {
        if (!existing) {
          await this.d.kube.create(externalSecrets, desired, { signal });
          log.info({ namespace: ns, externalSecret: esName }, 'created ExternalSecret');
        } else if (externalSecretDiffers(existing, desired)) {
          await this.d.kube.update(externalSecrets, desired, { signal });
          log.info({ namespace: ns, externalSecret: esName }, 'updated ExternalSecret');
        }
        return undefined;
      } catch (e) {
        if (attempt > 0 || !(isAlreadyExists(e) || isConflict(e))) throw e;
      }
      existing = await this.d.kube.tryGet<ES>(externalSecrets, ns, esName, { signal });
    }
  }

  /**
   * A ClusterExternalSecret that names a ClusterSecretStore of another controller class is that
   * controller's, as its ExternalSecrets would be; one naming a SecretStore (per namespace) or a
   * store that does not exist yet is everyone's, as in ESO.
   */
  private async handledHere(ces: CES, signal: AbortSignal): Promise<boolean> {
    const ref = ces.spec.externalSecretSpec.secretStoreRef;
    if (ref?.kind !== 'ClusterSecretStore' || !ref.name) return true;
    const store = await this.d.kube.tryGet<ClusterSecretStore>(clusterSecretStores, undefined, ref.name, { signal });
    return !store || storeHandledBy(store, this.d.controllerClass);
  }

  /**
   * Being deleted with ESO's finalizer: do what ESO would (delete the ExternalSecrets it created,
   * release the namespaces), then remove the finalizer so the delete completes.
   */
  private async finalize(ces: CES, signal: AbortSignal, log: Logger): Promise<Result> {
    const name = ces.metadata.name!;
    if (!(ces.metadata.finalizers ?? []).includes(FINALIZER_ESO_CLUSTEREXTERNALSECRET)) return {};
    for (const es of this.d.ownedExternalSecrets(name)) await this.deleteOwned(es, signal);
    await this.releaseNamespaces(name, signal, log);
    try {
      await removeFinalizerFrom(this.d.kube, clusterExternalSecrets, ces, FINALIZER_ESO_CLUSTEREXTERNALSECRET, signal);
    } catch (e) {
      log.warn({ finalizer: FINALIZER_ESO_CLUSTEREXTERNALSECRET, error: causeChain(e) }, 'finalizer removal failed; will retry with backoff');
      throw markLogged(e);
    }
    log.info({ finalizer: FINALIZER_ESO_CLUSTEREXTERNALSECRET }, 'removed the ESO finalizer from a deleted ClusterExternalSecret');
    return {};
  }

  /** Deletes one of our ExternalSecrets, only if it is still the object we saw (uid). */
  private async deleteOwned(es: ES, signal: AbortSignal): Promise<void> {
    try {
      await this.d.kube.delete(externalSecrets, es.metadata.namespace!, es.metadata.name!, { signal, preconditions: { uid: es.metadata.uid! } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /**
   * ESO's per-namespace finalizer for this ClusterExternalSecret: Tessera needs none, and a left
   * one holds namespace deletion forever, so it is removed wherever it is.
   */
  private async releaseNamespaces(cesName: string, signal: AbortSignal, log: Logger): Promise<void> {
    const finalizer = namespaceFinalizerOf(cesName);
    for (const ns of this.d.namespaces()) {
      if (!ns.finalizers.includes(finalizer)) continue;
      const obj: KubeObject = { metadata: { name: ns.name, finalizers: [...ns.finalizers] } };
      await removeFinalizerFrom(this.d.kube, core.namespaces, obj, finalizer, signal);
      log.info({ namespace: ns.name, finalizer }, "removed ESO's ClusterExternalSecret finalizer from a namespace");
    }
  }

  private async writeStatus(ces: CES, esName: string, provisioned: string[], failures: Map<string, string>, signal: AbortSignal, log: Logger): Promise<void> {
    const status = clusterExternalSecretStatus(ces.status, esName, provisioned, failures);
    const ready = failures.size === 0 ? 'True' : 'False';
    const name = ces.metadata.name!;
    setReadyCondition(clusterExternalSecretMetrics, { name, namespace: '' }, ready);
    if (!statusDiffers(ces.status, status)) return;
    try {
      await this.d.kube.updateStatusWithRetry<CES>(clusterExternalSecrets, undefined, ces.metadata.name!, (current) =>
        statusDiffers(current.status, status) ? { ...current, status } : undefined, { signal });
    } catch (e) {
      if (signal.aborted) throw e;
      log.warn({ error: causeChain(e) }, 'status update failed; will retry with backoff');
      throw markLogged(e);
    }
  }
}

/** What the cache keeps of the metadata of an ExternalSecret no ClusterExternalSecret controls. */
function notControlledMetadata(m: ES['metadata']): ES['metadata'] {
  return { name: m.name, namespace: m.namespace, resourceVersion: m.resourceVersion, generation: m.generation, ownerReferences: m.ownerReferences };
}

export function setupClusterExternalSecretController(manager: Manager, o: ClusterExternalSecretControllerOptions): { controller: Controller; reconciler: ClusterExternalSecretReconciler } {
  const log = o.logger.child({ controller: 'clusterexternalsecret' });
  const cesInformer = new Informer<CES>(o.kube, clusterExternalSecrets, {});
  const nsInformer = new Informer<KubeObject>(o.kube, core.namespaces, {
    transform: (n) => ({ metadata: { name: n.metadata?.name, resourceVersion: n.metadata?.resourceVersion, labels: n.metadata?.labels, deletionTimestamp: n.metadata?.deletionTimestamp, finalizers: n.metadata?.finalizers } }) as KubeObject,
  });
  // Without sharding, the ExternalSecret controller's cache serves (one watch, one copy). A cache
  // of its own (sharded replicas) keeps no status, which is not read here: the cache holds what
  // the decisions compare. Of an ExternalSecret no ClusterExternalSecret controls (most of them)
  // it keeps only what tells whose it is (provision() asks nothing else) and when that changes:
  // its name, owners and versions.
  const byCes = (es: ES) => {
    const c = controllingCes(es);
    return c ? [c] : [];
  };
  const esInformer = o.externalSecrets ?? new Informer<ES>(o.kube, externalSecrets, {
    namespace: o.namespace,
    transform: (es) => (controllingCes(es) ? { apiVersion: es.apiVersion, kind: es.kind, metadata: es.metadata, spec: es.spec } : { apiVersion: es.apiVersion, kind: es.kind, metadata: notControlledMetadata(es.metadata) }) as ES,
    indexers: { ces: byCes },
  });
  if (o.externalSecrets) o.externalSecrets.addIndexer('ces', byCes);
  for (const inf of [cesInformer, nsInformer, ...(o.externalSecrets ? [] : [esInformer])] as Informer<KubeObject>[]) manager.addInformer(inf);

  const reconciler = new ClusterExternalSecretReconciler({
    kube: o.kube,
    logger: log,
    namespace: o.namespace,
    controllerClass: o.controllerClass,
    ces: (name) => cesInformer.get(name),
    namespaces: () => nsInformer.list().map(namespaceView),
    externalSecret: (namespace, name) => esInformer.get(`${namespace}/${name}`),
    ownedExternalSecrets: (cesName) => esInformer.byIndex('ces', cesName),
  });
  const controller = new Controller({
    name: 'clusterexternalsecret',
    workers: 2,
    reconcileTimeoutMs: o.reconcileTimeoutMs,
    shutdownGraceMs: o.shutdownGraceMs,
    logger: o.logger,
    backoffBaseMs: 1000,
    backoffMaxMs: 5 * 60_000,
    reconcile: (key, signal) => reconciler.reconcile(key, signal),
  });

  // ---- event → key mapping ------------------------------------------------------------------
  cesInformer.addHandlers({
    add: (ces, { initialList }) => controller.enqueue(objectKey(ces), initialList ? 'low' : 'high'),
    update: (a, b) => {
      // Status writes (ours) change neither generation nor metadata: no re-enqueue loop.
      const changed = a.metadata.generation !== b.metadata.generation
        || JSON.stringify([a.metadata.labels, a.metadata.annotations, a.metadata.finalizers, a.metadata.deletionTimestamp])
          !== JSON.stringify([b.metadata.labels, b.metadata.annotations, b.metadata.finalizers, b.metadata.deletionTimestamp]);
      if (changed) controller.enqueue(objectKey(b), 'high');
    },
    delete: (ces) => {
      controller.queue.cancelDelayed(objectKey(ces));
      controller.enqueue(objectKey(ces), 'high');
    },
  });
  /** Every ClusterExternalSecret whose answer may change with this namespace. */
  const enqueueForNamespace = (...states: KubeObject[]) => {
    const views = states.map(namespaceView);
    for (const ces of cesInformer.list()) {
      const name = ces.metadata.name!;
      const concerned = views.some((v) => {
        try {
          return selects(ces.spec, v) || (ces.status?.provisionedNamespaces ?? []).includes(v.name) || v.finalizers.includes(namespaceFinalizerOf(name));
        } catch {
          return true;
        }
      });
      if (concerned) controller.enqueue(name, 'high');
    }
  };
  nsInformer.addHandlers({
    add: (n, { initialList }) => !initialList && enqueueForNamespace(n),
    update: (a, b) => {
      const va = namespaceView(a);
      const vb = namespaceView(b);
      if (JSON.stringify([va.labels, va.terminating, va.finalizers]) !== JSON.stringify([vb.labels, vb.terminating, vb.finalizers])) enqueueForNamespace(a, b);
    },
    delete: (n) => enqueueForNamespace(n),
  });
  // An ExternalSecret of ours changed or went: put it back. One in the way went: take its place.
  const enqueueForExternalSecret = (es: ES) => {
    const owner = controllingCes(es);
    if (owner) controller.enqueue(owner, 'high');
    for (const ces of cesInformer.list()) {
      if ((ces.status?.failedNamespaces ?? []).some((f) => f.namespace === es.metadata.namespace) && externalSecretNameOf(ces) === es.metadata.name) {
        controller.enqueue(ces.metadata.name!, 'high');
      }
    }
  };
  esInformer.addHandlers({
    update: (a, b) => {
      if (a.metadata.generation !== b.metadata.generation || JSON.stringify([a.metadata.labels, a.metadata.annotations, a.metadata.ownerReferences]) !== JSON.stringify([b.metadata.labels, b.metadata.annotations, b.metadata.ownerReferences])) {
        enqueueForExternalSecret(b);
      }
    },
    delete: enqueueForExternalSecret,
  });

  manager.add({ name: 'clusterexternalsecret-controller', leaderOnly: true, start: () => controller.start(), stop: () => controller.stop() });
  return { controller, reconciler };
}
