// The ClusterPushSecret reconciler: one PushSecret (spec.pushSecretSpec) in every namespace that
// a namespaceSelector matches, as ESO 2.9's pkg/controllers/clusterpushsecret. A PushSecret of the
// same name that this ClusterPushSecret does not control is never overwritten (the namespace is
// reported in failedNamespaces); namespaces that stop matching lose the PushSecret it created.
// The PushSecrets themselves are pushed by the PushSecret controller.
import type { Logger } from 'pino';
import type { ClusterPushSecret, ClusterPushSecretNamespaceFailure, PushSecret } from '../api/types.generated.ts';
import { GROUP } from '../api/constants.ts';
import { parseDurationMs } from '../api/duration.ts';
import { isAlreadyExists, isConflict, isNotFound as isKubeNotFound, type KubeClient } from '../kube/client.ts';
import type { Result } from '../kube/controller.ts';
import type { EventRecorder } from '../kube/events.ts';
import { labelSelectorMatches, type LabelSelector } from '../kube/selectors.ts';
import { compareGoStrings } from '../go/sort.ts';
import { rfc3339, type Condition, type KubeObject } from '../kube/types.ts';
import { writeFailureDetail } from './errors.ts';
import { causeChain } from './externalsecret-reconciler.ts';
import { clusterPushSecrets, pushSecrets } from './resources.ts';
import { PushSecretReason } from './pushsecret-reconciler.ts';
import { setCondition } from './stores.ts';
import { clusterPushSecretMetrics, nanosecondsSince, setReadyCondition } from '../metrics/index.ts';

export type CPS = ClusterPushSecret & KubeObject;
type PS = PushSecret & KubeObject;

/** ESO's messages. */
export const ClusterPushSecretMessage = {
  namespacesFailed: 'one or more namespaces failed',
  alreadyExists: 'push secret already exists in namespace',
} as const;

const OWNER_API_VERSION = `${GROUP}/v1alpha1`;

/** Namespaces matched by any of the selectors (ORed), sorted; no selectors match none. */
export function targetNamespaces(selectors: readonly LabelSelector[] | undefined, namespaces: ReadonlyArray<{ name: string; labels: Record<string, string> }>): string[] {
  if (!selectors || selectors.length === 0) return [];
  return namespaces.filter((n) => selectors.some((s) => labelSelectorMatches(s, n.labels))).map((n) => n.name).sort(compareGoStrings);
}

/** Is this PushSecret controlled by the ClusterPushSecret `name`? (ESO's isPushSecretOwnedBy) */
export function controlledBy(ps: PS, cpsName: string): boolean {
  return (ps.metadata.ownerReferences ?? []).some((r) => r.controller === true && r.apiVersion === OWNER_API_VERSION && r.kind === 'ClusterPushSecret' && r.name === cpsName);
}

export interface ClusterPushSecretReconcilerDeps {
  clusterPushSecret(name: string): CPS | undefined;
  /** Every namespace with its labels (the namespace informer's cache). */
  namespaces(): Array<{ name: string; labels: Record<string, string> }>;
  kube: Pick<KubeClient, 'tryGet' | 'create' | 'update' | 'delete' | 'updateStatusWithRetry'>;
  events: Pick<EventRecorder, 'warning'>;
  logger: Logger;
  /** How often every ClusterPushSecret is looked at again when refreshTime is not set (ms). */
  requeueIntervalMs: number;
}

export class ClusterPushSecretReconciler {
  private readonly d: ClusterPushSecretReconcilerDeps;
  constructor(d: ClusterPushSecretReconcilerDeps) {
    this.d = d;
  }

  async reconcile(key: string, signal?: AbortSignal): Promise<Result> {
    const t0 = performance.now();
    try {
      return await this.reconcileOnce(key, signal);
    } finally {
      if (this.d.clusterPushSecret(key)) clusterPushSecretMetrics.reconcileDuration.set({ name: key, namespace: '' }, nanosecondsSince(t0));
    }
  }

  private async reconcileOnce(key: string, signal?: AbortSignal): Promise<Result> {
    const cps = this.d.clusterPushSecret(key);
    if (!cps || cps.metadata.deletionTimestamp) return {};
    const name = cps.metadata.name!;
    const log = this.d.logger.child({ ClusterPushSecret: { name } });
    let every = this.d.requeueIntervalMs;
    if (cps.spec.refreshTime) {
      try {
        every = parseDurationMs(cps.spec.refreshTime);
      } catch {
        // The schema's pattern admits it; a value Go cannot hold falls back to the default.
      }
    }
    const psName = cps.spec.pushSecretName || name;
    const failed = new Map<string, string>();
    // A renamed pushSecretName: the PushSecrets of the old name go first, as ESO.
    const previousName = cps.status?.pushSecretName;
    if (previousName && previousName !== psName) {
      for (const ns of cps.status?.provisionedNamespaces ?? []) {
        await this.deleteOwned(ns, previousName, name, signal).catch((e: unknown) => failed.set(ns, describe(e)));
      }
    }
    const wanted = targetNamespaces(cps.spec.namespaceSelectors as LabelSelector[] | undefined, this.d.namespaces());
    for (const ns of cps.status?.provisionedNamespaces ?? []) {
      if (wanted.includes(ns)) continue;
      await this.deleteOwned(ns, psName, name, signal).catch((e: unknown) => failed.set(ns, describe(e)));
    }
    const provisioned: string[] = [];
    for (const ns of wanted) {
      try {
        const outcome = await this.createOrUpdate(cps, ns, psName, signal);
        if (outcome === 'not-ours') failed.set(ns, ClusterPushSecretMessage.alreadyExists);
        else provisioned.push(ns);
      } catch (e) {
        if (signal?.aborted) throw e;
        failed.set(ns, describe(e));
      }
    }
    const failures: ClusterPushSecretNamespaceFailure[] = [...failed].sort(([a], [b]) => compareGoStrings(a, b)).map(([namespace, reason]) => ({ namespace, reason }));
    const ready = failures.length === 0;
    setReadyCondition(clusterPushSecretMetrics, { name, namespace: '' }, ready);
    if (!ready) {
      this.d.events.warning(cps, PushSecretReason.Errored, ClusterPushSecretMessage.namespacesFailed);
      log.warn({ failedNamespaces: failures.map((f) => f.namespace) }, 'ClusterPushSecret: some namespaces failed');
    }
    try {
      await this.d.kube.updateStatusWithRetry<CPS>(clusterPushSecrets, undefined, name, (cur) => ({
        ...cur,
        status: {
          ...cur.status,
          pushSecretName: psName,
          provisionedNamespaces: provisioned,
          failedNamespaces: failures,
          conditions: setCondition(cur.status?.conditions as Condition[] | undefined, ready
            ? { type: 'Ready', status: 'True' }
            : { type: 'Ready', status: 'False', message: ClusterPushSecretMessage.namespacesFailed }),
        },
      }), { signal });
    } catch (e) {
      if (!isKubeNotFound(e)) throw e;
    }
    log.debug({ provisioned, failed: failures.length, at: rfc3339() }, 'ClusterPushSecret reconciled');
    return every > 0 ? { requeueAfter: every } : {};
  }

  /** Creates or updates the PushSecret in `ns`; 'not-ours' when one exists that we do not control. */
  private async createOrUpdate(cps: CPS, ns: string, psName: string, signal: AbortSignal | undefined): Promise<'ok' | 'not-ours'> {
    const meta = cps.spec.pushSecretMetadata ?? {};
    const owner = { apiVersion: OWNER_API_VERSION, kind: 'ClusterPushSecret', name: cps.metadata.name!, uid: cps.metadata.uid!, controller: true, blockOwnerDeletion: true };
    const existing = await this.d.kube.tryGet<PS>(pushSecrets, ns, psName, { signal });
    if (!existing) {
      const ps = {
        apiVersion: OWNER_API_VERSION,
        kind: 'PushSecret',
        metadata: { name: psName, namespace: ns, ...(meta.labels ? { labels: meta.labels } : {}), ...(meta.annotations ? { annotations: meta.annotations } : {}), ownerReferences: [owner] },
        spec: cps.spec.pushSecretSpec,
      } as PS;
      try {
        await this.d.kube.create(pushSecrets, ps, { signal });
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        return this.createOrUpdate(cps, ns, psName, signal);
      }
      return 'ok';
    }
    if (!controlledBy(existing, cps.metadata.name!)) return 'not-ours';
    const next: PS = {
      ...existing,
      metadata: { ...existing.metadata, labels: meta.labels ?? {}, annotations: meta.annotations ?? {}, ownerReferences: [owner] },
      spec: cps.spec.pushSecretSpec,
    };
    if (JSON.stringify([existing.metadata.labels ?? {}, existing.metadata.annotations ?? {}, existing.spec]) === JSON.stringify([next.metadata.labels, next.metadata.annotations, next.spec])) return 'ok';
    try {
      await this.d.kube.update(pushSecrets, next, { signal });
    } catch (e) {
      // Changed meanwhile (the PushSecret controller's finalizer): the retry reads it again.
      if (isConflict(e)) throw new Error('the PushSecret changed while it was updated; retrying');
      throw e;
    }
    return 'ok';
  }

  /** Deletes the PushSecret in `ns` if this ClusterPushSecret controls it. */
  private async deleteOwned(ns: string, psName: string, cpsName: string, signal: AbortSignal | undefined): Promise<void> {
    const existing = await this.d.kube.tryGet<PS>(pushSecrets, ns, psName, { signal });
    if (!existing || !controlledBy(existing, cpsName)) return;
    try {
      await this.d.kube.delete(pushSecrets, ns, psName, { signal });
    } catch (e) {
      if (!isKubeNotFound(e)) throw e;
    }
  }
}

/** A failure for failedNamespaces[].reason: the apiserver's answer without quoted values. */
function describe(e: unknown): string {
  return e instanceof Error && e.name === 'Error' ? e.message : `${writeFailureDetail(e)} (${causeChain(e)})`;
}
