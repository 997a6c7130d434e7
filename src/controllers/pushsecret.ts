// The PushSecret and ClusterPushSecret controllers' wiring: informers, the event → key mapping
// (a PushSecret is pushed again when it, or a Secret it selects, changes; a ClusterPushSecret is
// looked at again when it, a namespace's labels or a PushSecret it controls change). What one
// reconcile does is in pushsecret-reconciler.ts and clusterpushsecret.ts.
import type { Logger } from 'pino';
import type { ExternalSecret } from '../api/types.generated.ts';
import type { DesiredSecretCompute } from '../compute/index.ts';
import type { TemplateSources } from '../sync/template-refs.ts';
import type { KubeClient } from '../kube/client.ts';
import { Controller } from '../kube/controller.ts';
import type { EventRecorder } from '../kube/events.ts';
import { Informer } from '../kube/informer.ts';
import type { Manager } from '../kube/manager.ts';
import { labelSelectorMatches } from '../kube/selectors.ts';
import { core, objectKey, type KubeObject, type Secret } from '../kube/types.ts';
import { ClusterPushSecretReconciler, targetNamespaces, type CPS } from './clusterpushsecret.ts';
import { esoSyncedResourceVersion } from '../sync/eso-hash.ts';
import type { ReconcilerKube } from './externalsecret-reconciler.ts';
import { PushSecretReconciler, type PS } from './pushsecret-reconciler.ts';
import { clusterPushSecrets, pushSecrets } from './resources.ts';
import { StoreClients, type ControllerIdentityPolicy } from './stores.ts';
import { kubeGenerateValues } from './generators.ts';
import { clusterPushSecretMetrics, forgetReadyGauges, pushSecretMetrics } from '../metrics/index.ts';

export interface PushSecretControllerOptions {
  kube: KubeClient;
  events: EventRecorder;
  logger: Logger;
  namespace?: string | undefined;
  controllerClass: string;
  concurrent: number;
  computeDesiredSecret: DesiredSecretCompute['computeDesiredSecret'];
  computePushEntries: DesiredSecretCompute['computePushEntries'];
  templateSourcesFor?: ((es: ExternalSecret & KubeObject, kube: ReconcilerKube, signal?: AbortSignal) => Promise<TemplateSources>) | undefined;
  env?: Record<string, string | undefined>;
  providerTimeoutMs?: number | undefined;
  namespacedStoreControllerIdentity?: ControllerIdentityPolicy | undefined;
  reconcileTimeoutMs?: number | undefined;
  shutdownGraceMs?: number | undefined;
  /** ClusterPushSecrets without refreshTime are looked at again this often (ms). */
  clusterRequeueIntervalMs?: number | undefined;
}

/** A Secret's identity and labels only: PushSecrets read the data when they push. */
function secretMetadataOnly(s: Secret): Secret {
  const m = s.metadata ?? {};
  return { metadata: { name: m.name, namespace: m.namespace, resourceVersion: m.resourceVersion, uid: m.uid, labels: m.labels } } as Secret;
}

/** Did the PushSecret change in a way that calls for a push (ESO's shouldReconcilePushSecretUpdate)? */
export function pushSecretChanged(a: PS, b: PS): boolean {
  return a.metadata.generation !== b.metadata.generation
    || esoSyncedResourceVersion(a.metadata) !== esoSyncedResourceVersion(b.metadata)
    || !!a.metadata.deletionTimestamp !== !!b.metadata.deletionTimestamp;
}

export function setupPushSecretControllers(manager: Manager, o: PushSecretControllerOptions): { pushSecret: Controller; clusterPushSecret: Controller } {
  const log = o.logger.child({ controller: 'pushsecret' });
  const psInformer = new Informer<PS>(o.kube, pushSecrets, {
    namespace: o.namespace,
    indexers: {
      source: (ps) => (ps.spec.selector?.secret?.name ? [`${ps.metadata.namespace}/${ps.spec.selector.secret.name}`] : []),
      bySelectorNamespace: (ps) => (ps.spec.selector?.secret?.selector ? [ps.metadata.namespace!] : []),
    },
  });
  // Secrets' names and labels, listed and watched as metadata only (the values never cross the
  // wire here), so that a change of a selected Secret is pushed at once. Only the namespaces that
  // hold a PushSecret are cached: the operator's memory must not grow with the cluster's Secrets
  // (most clusters have no PushSecret at all). A namespace that gains its first PushSecret, or
  // loses its last, re-lists the Secrets once (re-lists asked for meanwhile are one).
  const pushNamespaces = new Map<string, number>();
  const secretInformer = new Informer<Secret>(o.kube, core.secrets, {
    namespace: o.namespace, metadataOnly: true, transform: secretMetadataOnly,
    filter: (s) => pushNamespaces.has(s.metadata?.namespace ?? ''),
    // No PushSecret, no watch: every Secret event of the cluster would cross the wire for nothing.
    enabled: () => pushNamespaces.size > 0,
  });
  const countPushNamespace = (ns: string, delta: 1 | -1) => {
    const n = (pushNamespaces.get(ns) ?? 0) + delta;
    if (n > 0) pushNamespaces.set(ns, n);
    else pushNamespaces.delete(ns);
    if ((delta === 1 && n === 1) || n <= 0) void secretInformer.relist();
  };
  const cpsInformer = new Informer<CPS>(o.kube, clusterPushSecrets, {});
  const nsInformer = new Informer<KubeObject>(o.kube, core.namespaces, {
    transform: (n) => ({ metadata: { name: n.metadata?.name, resourceVersion: n.metadata?.resourceVersion, labels: n.metadata?.labels } }) as KubeObject,
  });
  for (const inf of [psInformer, secretInformer, cpsInformer, nsInformer] as Informer<KubeObject>[]) manager.addInformer(inf);

  const clients = new StoreClients({ kube: o.kube, logger: log, env: o.env, callDeadlineMs: o.providerTimeoutMs, namespacedStoreControllerIdentity: o.namespacedStoreControllerIdentity });
  const reconciler = new PushSecretReconciler({
    pushSecret: (key) => psInformer.get(key),
    kube: o.kube,
    clients,
    computeDesiredSecret: o.computeDesiredSecret,
    computePushEntries: o.computePushEntries,
    templateSourcesFor: o.templateSourcesFor,
    events: o.events,
    logger: log,
    controllerClass: o.controllerClass,
    generate: kubeGenerateValues({ kube: o.kube, env: o.env, callDeadlineMs: o.providerTimeoutMs, controllerClass: o.controllerClass }),
  });
  const pushSecret = new Controller({
    name: 'pushsecret',
    workers: Math.max(1, Math.ceil(o.concurrent / 4)),
    reconcileTimeoutMs: o.reconcileTimeoutMs,
    shutdownGraceMs: o.shutdownGraceMs,
    logger: o.logger,
    backoffBaseMs: 1000,
    backoffMaxMs: 5 * 60_000,
    reconcile: (key, signal) => reconciler.reconcile(key, signal),
    groupsOf: (key) => [`ns/${key.split('/')[0]}`],
    groupLimit: () => Math.max(1, Math.ceil(o.concurrent / 8)),
  });
  const cpsReconciler = new ClusterPushSecretReconciler({
    clusterPushSecret: (name) => cpsInformer.get(name),
    namespaces: () => nsInformer.list().map((n) => ({ name: n.metadata!.name!, labels: n.metadata?.labels ?? {} })),
    kube: o.kube,
    events: o.events,
    logger: log,
    requeueIntervalMs: o.clusterRequeueIntervalMs ?? 60 * 60_000,
  });
  const clusterPushSecret = new Controller({
    name: 'clusterpushsecret',
    workers: 1,
    reconcileTimeoutMs: o.reconcileTimeoutMs,
    shutdownGraceMs: o.shutdownGraceMs,
    logger: o.logger,
    backoffBaseMs: 1000,
    backoffMaxMs: 5 * 60_000,
    reconcile: (key, signal) => cpsReconciler.reconcile(key, signal),
  });

  // ---- event → key mapping ------------------------------------------------------------------
  psInformer.addHandlers({
    add: (ps, { initialList }) => {
      countPushNamespace(ps.metadata.namespace!, 1);
      pushSecret.enqueue(objectKey(ps), initialList ? 'low' : 'high');
    },
    update: (a, b) => {
      if (pushSecretChanged(a, b)) pushSecret.enqueue(objectKey(b), 'high');
      // A PushSecret a ClusterPushSecret controls was edited by hand: put it back.
      const owner = (b.metadata.ownerReferences ?? []).find((r) => r.controller && r.kind === 'ClusterPushSecret');
      if (owner && a.metadata.generation !== b.metadata.generation) clusterPushSecret.enqueue(owner.name);
    },
    delete: (ps) => {
      countPushNamespace(ps.metadata.namespace!, -1);
      pushSecret.queue.cancelDelayed(objectKey(ps));
      reconciler.forget(objectKey(ps));
      forgetReadyGauges(pushSecretMetrics, { name: ps.metadata.name!, namespace: ps.metadata.namespace! });
      o.events.forget(ps.metadata.uid ?? '');
      const owner = (ps.metadata.ownerReferences ?? []).find((r) => r.controller && r.kind === 'ClusterPushSecret');
      if (owner) clusterPushSecret.enqueue(owner.name);
    },
  });
  const enqueueForSecret = (s: Secret) => {
    const ns = s.metadata?.namespace ?? '';
    for (const ps of psInformer.byIndex('source', objectKey(s))) pushSecret.enqueue(objectKey(ps), 'high');
    for (const ps of psInformer.byIndex('bySelectorNamespace', ns)) {
      if (labelSelectorMatches(ps.spec.selector!.secret!.selector!, s.metadata?.labels ?? {})) pushSecret.enqueue(objectKey(ps), 'high');
    }
  };
  secretInformer.addHandlers({
    add: (s, { initialList }) => !initialList && enqueueForSecret(s),
    update: (a, b) => a.metadata?.resourceVersion !== b.metadata?.resourceVersion && enqueueForSecret(b),
    delete: enqueueForSecret,
  });
  cpsInformer.addHandlers({
    add: (c) => clusterPushSecret.enqueue(objectKey(c)),
    update: (a, b) => a.metadata.generation !== b.metadata.generation && clusterPushSecret.enqueue(objectKey(b)),
    delete: (c) => forgetReadyGauges(clusterPushSecretMetrics, { name: c.metadata.name!, namespace: '' }),
  });
  const enqueueForNamespace = (labels: Record<string, string> | undefined, name: string) => {
    for (const c of cpsInformer.list()) {
      const matches = targetNamespaces(c.spec.namespaceSelectors, [{ name, labels: labels ?? {} }]).length > 0;
      if (matches || (c.status?.provisionedNamespaces ?? []).includes(name)) clusterPushSecret.enqueue(objectKey(c));
    }
  };
  nsInformer.addHandlers({
    add: (n, { initialList }) => !initialList && enqueueForNamespace(n.metadata?.labels, n.metadata!.name!),
    update: (a, b) => JSON.stringify(a.metadata?.labels ?? {}) !== JSON.stringify(b.metadata?.labels ?? {}) && enqueueForNamespace(b.metadata?.labels, b.metadata!.name!),
    delete: (n) => enqueueForNamespace(n.metadata?.labels, n.metadata!.name!),
  });

  manager.add({ name: 'pushsecret-provider-clients', leaderOnly: false, start: () => undefined, stop: () => clients.closeAll() });
  const controllers = [pushSecret, clusterPushSecret];
  manager.add({ name: 'pushsecret-controllers', leaderOnly: true, start: () => controllers.forEach((c) => c.start()), stop: async () => void (await Promise.all(controllers.map((c) => c.stop()))) });
  return { pushSecret, clusterPushSecret };
}
