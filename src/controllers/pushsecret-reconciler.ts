// The PushSecret reconciler: one reconcile of one PushSecret, around the pure core of src/sync/push.ts.
// Resolves the source Secret(s) and the stores (controller class, namespace conditions,
// capabilities), renders spec.template in the compute workers, writes each value through the
// store's provider client (ESO's managed-by mark decides what may be overwritten or deleted),
// removes what is no longer pushed when deletionPolicy is Delete, and reports status and events.
// Behaviour follows ESO 2.9's pkg/controllers/pushsecret; values never reach logs, events or status.
//
// Its seams are fields (kube verbs, store clients, compute, clock, events), as the ExternalSecret
// reconciler's; the wiring is in pushsecret.ts.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ClusterSecretStore, ExternalSecret, PushSecret, PushSecretDataTo, PushSecretStoreRef } from '../api/types.generated.ts';
import { FINALIZER_PUSHSECRET } from '../api/constants.ts';
import { parseDurationMs } from '../api/duration.ts';
import { esoSyncedResourceVersion } from '../sync/eso-hash.ts';
import { decodeSecretData, type Secret as SyncSecret } from '../sync/secret.ts';
import { SyncError } from '../sync/errors.ts';
import {
  mergeSynced, parseStoreStatusKey, staleEntries, statusRef, storeStatusKey,
  type PushEntry, type SyncedPushSecrets,
} from '../sync/push.ts';
import type { TemplateSources } from '../sync/template-refs.ts';
import type { DesiredSecretCompute } from '../compute/index.ts';
import { isNotFound as isKubeNotFound, type KubeClient } from '../kube/client.ts';
import { markLogged, type Result } from '../kube/controller.ts';
import type { EventRecorder } from '../kube/events.ts';
import { labelSelectorMatches, serverLabelSelector } from '../kube/selectors.ts';
import { core, rfc3339, type Condition, type KubeObject, type Secret } from '../kube/types.ts';
import { esoCapabilitiesOf, getProvider, providerName } from '../providers/registry.ts';
import type { ProviderClient } from '../providers/provider.ts';
import { controllerErrors } from './errors.ts';
import { causeChain, failureReason, type ReconcilerKube, type StoreClientSource } from './externalsecret-reconciler.ts';
import { removeFinalizerFrom } from '../kube/finalizers.ts';
import { generatedDataFrom, type GenerateValues } from './generators.ts';
import { clusterSecretStores, pushSecrets, secretStores } from './resources.ts';
import { namespaceAllowed, setCondition, storeHandledBy, type AnyStore, type StoreKind } from './stores.ts';
import { nanosecondsSince, pushSecretMetrics, setReadyCondition } from '../metrics/index.ts';

export type PS = PushSecret & KubeObject;

/** ESO's PushSecret condition reasons and event reasons (v1alpha1 ReasonSynced, ...). */
export const PushSecretReason = {
  Synced: 'Synced',
  Errored: 'Errored',
  SourceDeleted: 'SourceDeleted',
} as const;

/** ESO's Ready=True messages, word for word. */
export const PushSecretMessage = {
  synced: (ifNotExists: boolean) => `PushSecret synced successfully${ifNotExists ? '. Existing secrets in providers unchanged.' : ''}`,
  sourceDeleted: 'source secret deleted; provider secrets cleaned up',
} as const;

/** Most source Secrets one label selector may push (each is pushed to every store). */
export const MAX_SOURCE_SECRETS = 100;

export interface PushSecretReconcilerDeps {
  pushSecret(key: string): PS | undefined;
  kube: ReconcilerKube & Pick<KubeClient, 'list' | 'updateStatusWithRetry'>;
  clients: StoreClientSource;
  computeDesiredSecret: DesiredSecretCompute['computeDesiredSecret'];
  computePushEntries: DesiredSecretCompute['computePushEntries'];
  templateSourcesFor?: ((es: ExternalSecret & KubeObject, kube: ReconcilerKube, signal?: AbortSignal) => Promise<TemplateSources>) | undefined;
  events: Pick<EventRecorder, 'normal' | 'warning'>;
  logger: Logger;
  controllerClass: string;
  clock?: { now(): number } | undefined;
  /** selector.generatorRef; absent: reported as not supported. */
  generate?: GenerateValues | undefined;
}

/** A resolved store the PushSecret pushes to. */
interface TargetStore {
  kind: StoreKind;
  store: AnyStore;
  /** "Kind/name", the key of status.syncedPushSecrets. */
  key: string;
}

/**
 * The source Secrets' identity (names and resourceVersions): when it changes, the Secrets changed
 * and are pushed again at once, whatever refreshInterval says.
 */
export function sourceFingerprint(secrets: ReadonlyArray<{ metadata?: { name?: string; resourceVersion?: string } }>): string {
  return secrets.map((s) => `${s.metadata?.name}@${s.metadata?.resourceVersion}`).sort().join(',');
}

/**
 * ESO's shouldRefresh, plus a change of the source Secrets: a spec (or label/annotation) change,
 * no refresh yet, or refreshInterval passed; refreshInterval 0 pushes once per change.
 */
export function pushDue(s: { specChanged: boolean; sourceChanged: boolean; refreshMs: number; lastRefreshMs: number; synced: boolean; now: number }): { due: boolean; requeueAfter?: number } {
  if (s.specChanged || s.sourceChanged) return { due: true };
  if (s.refreshMs === 0 && s.synced) return { due: false };
  if (!Number.isFinite(s.lastRefreshMs)) return { due: true };
  const left = s.lastRefreshMs + s.refreshMs - s.now;
  return left <= 0 ? { due: true } : { due: false, requeueAfter: left };
}

export class PushSecretReconciler {
  private readonly d: PushSecretReconcilerDeps;
  private readonly clock: { now(): number };
  /** Source fingerprint of the last successful push, per PushSecret key (see sourceFingerprint). */
  private readonly pushedSources = new Map<string, string>();

  constructor(d: PushSecretReconcilerDeps) {
    this.d = d;
    this.clock = d.clock ?? { now: () => Date.now() };
  }

  /** Forgets a deleted PushSecret. */
  forget(key: string): void {
    this.pushedSources.delete(key);
  }

  async reconcile(key: string, signal?: AbortSignal): Promise<Result> {
    const t0 = performance.now();
    try {
      return await this.reconcileOnce(key, signal);
    } finally {
      const ps = this.d.pushSecret(key);
      if (ps) pushSecretMetrics.reconcileDuration.set({ name: ps.metadata.name!, namespace: ps.metadata.namespace! }, nanosecondsSince(t0));
    }
  }

  private async reconcileOnce(key: string, signal?: AbortSignal): Promise<Result> {
    let ps = this.d.pushSecret(key);
    if (!ps) return {};
    const ns = ps.metadata.namespace!;
    const name = ps.metadata.name!;
    const log = this.d.logger.child({ PushSecret: { name, namespace: ns }, namespace: ns, name, reconcileID: randomUUID() });
    if (ps.metadata.deletionTimestamp) return this.finalize(ps, log, signal);

    let refreshMs: number;
    try {
      refreshMs = parseDurationMs(ps.spec.refreshInterval ?? '1h');
    } catch (e) {
      return await this.fail(ps, controllerErrors.invalidSpec('spec.refreshInterval', (e as Error).message), log, signal, undefined);
    }

    try {
      // Stores first: a PushSecret of another controller class is left alone entirely.
      const stores = await this.resolveStores(ps, signal);
      if (stores.length === 0) {
        log.debug('skipped: no store of this controller class');
        return {};
      }
      ps = await this.syncFinalizer(ps, signal);
      const sources = await this.resolveSources(ps, signal);
      if (sources === 'source-deleted') return await this.sourceDeleted(ps, key, signal, log);
      const fingerprint = sourceFingerprint(sources);
      const previous = this.pushedSources.get(key);
      if (previous === undefined) this.pushedSources.set(key, fingerprint);
      const due = pushDue({
        specChanged: ps.status?.syncedResourceVersion !== esoSyncedResourceVersion(ps.metadata),
        sourceChanged: previous !== undefined && previous !== fingerprint,
        refreshMs,
        lastRefreshMs: ps.status?.refreshTime ? Date.parse(ps.status.refreshTime) : NaN,
        synced: ps.status?.syncedResourceVersion !== undefined,
        now: this.clock.now(),
      });
      if (!due.due) {
        log.debug({ requeueAfterMs: due.requeueAfter }, 'skipped: no push due');
        return due.requeueAfter !== undefined ? { requeueAfter: due.requeueAfter } : {};
      }
      const synced = await this.pushAll(ps, stores, sources, signal, log);
      if (ps.spec.deletionPolicy === 'Delete') await this.deleteStale(ps, synced, signal, log);
      const message = PushSecretMessage.synced(ps.spec.updatePolicy === 'IfNotExists');
      await this.writeStatus(ps, { status: 'True', reason: PushSecretReason.Synced, message }, synced, true, signal);
      this.d.events.normal(ps, PushSecretReason.Synced, message);
      this.pushedSources.set(key, fingerprint);
      log.debug({ stores: stores.map((s) => s.key), requeueAfterMs: refreshMs || undefined }, 'pushed');
      return refreshMs > 0 ? { requeueAfter: refreshMs } : {};
    } catch (e) {
      return await this.fail(ps, e, log, signal, (e as { synced?: SyncedPushSecrets }).synced);
    }
  }

  // ---- steps ----------------------------------------------------------------------------------

  /** A PushSecret being deleted: with deletionPolicy Delete, what it pushed goes first; then ESO's finalizer. */
  private async finalize(ps: PS, log: Logger, signal: AbortSignal | undefined): Promise<Result> {
    if (!(ps.metadata.finalizers ?? []).includes(FINALIZER_PUSHSECRET)) return {};
    // Its stores all belong to another controller class (ESO beside Tessera): that controller
    // deletes what it pushed and removes the finalizer. With no store left at all, we do.
    const candidates = await this.storeCandidates(ps, signal, false);
    if (candidates.length > 0 && !candidates.some((c) => storeHandledBy(c.store, this.d.controllerClass))) {
      log.debug({ finalizer: FINALIZER_PUSHSECRET }, 'skipped: the finalizer belongs to another controller class');
      return {};
    }
    const policy = ps.spec.deletionPolicy ?? 'None';
    if (policy === 'Delete') {
      try {
        await this.deleteStale(ps, {}, signal, log);
      } catch (e) {
        return await this.fail(ps, e, log, signal, (e as { synced?: SyncedPushSecrets }).synced);
      }
    }
    await removeFinalizerFrom(this.d.kube, pushSecrets, ps, FINALIZER_PUSHSECRET, signal);
    log.info({ finalizer: FINALIZER_PUSHSECRET, deletionPolicy: policy }, 'PushSecret deleted; finalizer removed');
    return {};
  }

  /** The finalizer is there exactly when deletionPolicy is Delete, as ESO keeps it. */
  private async syncFinalizer(ps: PS, signal: AbortSignal | undefined): Promise<PS> {
    const has = (ps.metadata.finalizers ?? []).includes(FINALIZER_PUSHSECRET);
    const wants = ps.spec.deletionPolicy === 'Delete';
    if (wants && !has) {
      // resourceVersion makes the merge patch conditional: a concurrent change of the list is not lost.
      return this.d.kube.patch<PS>(pushSecrets, ps.metadata.namespace, ps.metadata.name!, 'merge',
        { metadata: { finalizers: [...(ps.metadata.finalizers ?? []), FINALIZER_PUSHSECRET], resourceVersion: ps.metadata.resourceVersion } }, { signal });
    }
    if (!wants && has) await removeFinalizerFrom(this.d.kube, pushSecrets, ps, FINALIZER_PUSHSECRET, signal);
    return ps;
  }

  /** spec.secretStoreRefs → the stores of this controller class, not being deleted. */
  private async resolveStores(ps: PS, signal: AbortSignal | undefined): Promise<TargetStore[]> {
    const found = new Map<string, TargetStore>();
    for (const { kind, store } of await this.storeCandidates(ps, signal, true)) {
      if (store.metadata.deletionTimestamp || !storeHandledBy(store, this.d.controllerClass)) continue;
      const key = storeStatusKey(kind, store.metadata.name!);
      found.set(key, { kind, store, key });
    }
    return [...found.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * Every store spec.secretStoreRefs names or selects, whatever its controller class. `strict`:
   * a named store that does not exist is an error (a push); otherwise it is left out (a deletion).
   */
  private async storeCandidates(ps: PS, signal: AbortSignal | undefined, strict: boolean): Promise<Array<{ kind: StoreKind; store: AnyStore }>> {
    const ns = ps.metadata.namespace!;
    const out: Array<{ kind: StoreKind; store: AnyStore }> = [];
    for (const [i, ref] of (ps.spec.secretStoreRefs ?? []).entries()) {
      const kind: StoreKind = ref.kind === 'ClusterSecretStore' ? 'ClusterSecretStore' : 'SecretStore';
      const rt = kind === 'ClusterSecretStore' ? clusterSecretStores : secretStores;
      const storeNs = kind === 'ClusterSecretStore' ? undefined : ns;
      if (ref.labelSelector) {
        const list = await this.d.kube.list<AnyStore>(rt, storeNs, { signal });
        for (const store of list.items) if (labelSelectorMatches(ref.labelSelector, store.metadata?.labels ?? {})) out.push({ kind, store });
      } else if (ref.name) {
        const store = await this.d.kube.tryGet<AnyStore>(rt, storeNs, ref.name, { signal });
        if (store) out.push({ kind, store });
        else if (strict) throw controllerErrors.storeNotFound(kind, ref.name, storeNs);
      } else if (strict) {
        throw controllerErrors.invalidSpec(`spec.secretStoreRefs[${i}]`, 'name or labelSelector is required');
      }
    }
    return out;
  }

  /** The Secrets to push, or 'source-deleted' (the named Secret is gone and was pushed with Delete). */
  private async resolveSources(ps: PS, signal: AbortSignal | undefined): Promise<Secret[] | 'source-deleted'> {
    const ns = ps.metadata.namespace!;
    const sel = ps.spec.selector;
    if (sel?.secret?.name) {
      const s = await this.d.kube.tryGet<Secret>(core.secrets, ns, sel.secret.name, { signal });
      if (s) return [s];
      if ((ps.spec.deletionPolicy ?? 'None') === 'Delete' && Object.keys(ps.status?.syncedPushSecrets ?? {}).length > 0) return 'source-deleted';
      throw controllerErrors.pushSourceNotFound(ns, sel.secret.name);
    }
    if (sel?.generatorRef) {
      // As ESO: the generator runs at every sync of the PushSecret, and its values are pushed as
      // the data of one Secret named after the PushSecret (updatePolicy IfNotExists keeps the
      // first value remote). The values exist only in memory and are never recorded.
      const field = 'spec.selector.generatorRef';
      const generated = await generatedDataFrom(this.d.generate, ns, sel.generatorRef, field, signal);
      if (generated === 'skip') throw controllerErrors.invalidSpec(field, 'the generator names another controller class');
      const data = Object.fromEntries([...generated].map(([k, v]) => [k, Buffer.from(v.value).toString('base64')]));
      return [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: ps.metadata.name!, namespace: ns }, data }];
    }
    if (sel?.secret?.selector) {
      // The apiserver narrows the list; the exact match is still ours (see serverLabelSelector).
      const list = await this.d.kube.list<Secret>(core.secrets, ns, { signal, labelSelector: serverLabelSelector(sel.secret.selector) });
      const matched = list.items.filter((s) => labelSelectorMatches(sel.secret!.selector!, s.metadata?.labels ?? {}))
        .sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
      if (matched.length > MAX_SOURCE_SECRETS) throw controllerErrors.invalidSpec('spec.selector.secret.selector', `matches ${matched.length} Secrets; at most ${MAX_SOURCE_SECRETS} are pushed by one PushSecret`);
      return matched;
    }
    throw controllerErrors.invalidSpec('spec.selector', 'no secret selector provided');
  }

  /** spec.template over the Secret's data, in the compute workers; ESO merges the rendered keys into the data. */
  private async applyTemplate(ps: PS, secret: Secret, data: Map<string, Uint8Array>, signal: AbortSignal | undefined): Promise<Map<string, Uint8Array>> {
    const template = ps.spec.template;
    if (!template) return data;
    const keys = [...data.keys()];
    // The template engine of ExternalSecrets, fed the Secret's keys as spec.data entries: the same
    // functions, budget and workers, and binary values pass unchanged.
    const es = {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: ps.metadata.name!, namespace: ps.metadata.namespace!, uid: ps.metadata.uid },
      spec: {
        refreshInterval: '0',
        target: { name: secret.metadata!.name!, creationPolicy: 'Orphan', deletionPolicy: 'Retain', template: { ...template, mergePolicy: 'Merge' } },
        data: keys.map((k) => ({ secretKey: k, remoteRef: { key: k } })),
      },
    } as unknown as ExternalSecret & KubeObject;
    const sources = this.d.templateSourcesFor ? await this.d.templateSourcesFor(es, this.d.kube, signal) : {};
    const result = await this.d.computeDesiredSecret({
      externalSecret: es,
      fetched: { data: keys.map((k) => ({ value: data.get(k)! })), dataFrom: [] },
      sources,
    }, { signal });
    if (!result.ok) throw asPushTemplateError(result.error);
    if (result.plan.action !== 'write') return data;
    return decodeSecretData(result.plan.secret as SyncSecret);
  }

  /** Pushes every source Secret to every store; a failure carries what was pushed (for status). */
  private async pushAll(ps: PS, stores: TargetStore[], sources: Secret[], signal: AbortSignal | undefined, log: Logger): Promise<SyncedPushSecrets> {
    const ns = ps.metadata.namespace!;
    const synced: SyncedPushSecrets = {};
    const clients = new Map<string, ProviderClient>();
    const ifNotExists = ps.spec.updatePolicy === 'IfNotExists';
    try {
      for (const target of stores) clients.set(target.key, await this.writableClient(target, ns));
      this.checkDataTo(ps, stores);
      for (const secret of sources) {
        const data = await this.applyTemplate(ps, secret, decodeSecretData(secret as unknown as SyncSecret), signal);
        for (const target of stores) {
          const client = clients.get(target.key)!;
          // dataTo's rewrite transforms are tenant templates: rendered in a compute worker.
          const expanded = await this.d.computePushEntries({ data: ps.spec.data ?? [], dataToForStore: dataToFor(ps.spec.dataTo ?? [], target), source: data }, { namespace: ns, signal });
          if (!expanded.ok) throw expanded.error;
          const entries = expanded.entries;
          synced[target.key] ??= {};
          for (const entry of entries) {
            await this.pushOne(client, target, entry, ifNotExists, signal, log);
            synced[target.key]![statusRef(entry.data)] = entry.data;
          }
        }
      }
    } catch (e) {
      throw Object.assign(e instanceof Error ? e : new Error(String(e)), { synced: mergeSynced(synced, ps.status?.syncedPushSecrets) });
    }
    return synced;
  }

  private async pushOne(client: ProviderClient, target: TargetStore, entry: PushEntry, ifNotExists: boolean, signal: AbortSignal | undefined, log: Logger): Promise<void> {
    const ref = { remoteKey: entry.data.match.remoteRef.remoteKey, property: entry.data.match.remoteRef.property };
    const label = statusRef(entry.data);
    try {
      if (ifNotExists && (await client.remoteExists!(ref, signal))) {
        log.debug({ store: target.key, remoteRef: label }, 'skipped: the remote secret exists (updatePolicy IfNotExists)');
        return;
      }
      await client.pushValue!({ ref, value: entry.value, metadata: entry.data.metadata, wholeSecret: entry.wholeSecret }, signal);
    } catch (e) {
      throw controllerErrors.fromPush(label, target.key, e);
    }
  }

  /** The store's client, refused when the store cannot write (ReadOnly) or is not allowed here. */
  private async writableClient(target: TargetStore, namespace: string): Promise<ProviderClient> {
    const { kind, store } = target;
    const label = `${kind} ${JSON.stringify(store.metadata.name)}`;
    if (kind === 'ClusterSecretStore') {
      const labels = (await this.d.kube.tryGet<KubeObject>(core.namespaces, undefined, namespace))?.metadata?.labels;
      if (!namespaceAllowed((store.spec as ClusterSecretStore['spec']).conditions, namespace, labels)) throw controllerErrors.namespaceNotAllowed(store.metadata.name!, namespace);
    }
    let capabilities: string | undefined;
    try {
      const name = providerName(store.spec as { provider?: Record<string, unknown> });
      capabilities = esoCapabilitiesOf(name) ?? (await getProvider(name)).capabilities((store.spec.provider as Record<string, unknown>)[name]);
    } catch (e) {
      throw controllerErrors.fromProvider(label, e);
    }
    if (capabilities === 'ReadOnly') throw controllerErrors.storeReadOnly(label);
    let client: ProviderClient;
    try {
      client = (await this.d.clients.clientFor(kind, store, namespace)).client;
    } catch (e) {
      throw controllerErrors.fromProvider(label, e);
    }
    if (!client.pushValue || !client.remoteExists) throw controllerErrors.storeReadOnly(label);
    return client;
  }

  /** ESO's checks of dataTo storeRefs: named ones are in secretStoreRefs, selectors match a store. */
  private checkDataTo(ps: PS, stores: TargetStore[]): void {
    (ps.spec.dataTo ?? []).forEach((d, i) => {
      const ref = d.storeRef;
      if (!ref || (!ref.name && !ref.labelSelector)) throw controllerErrors.invalidSpec(`spec.dataTo[${i}].storeRef`, 'storeRef must have name or labelSelector');
      const kind = ref.kind ?? 'SecretStore';
      if (ref.name && !(ps.spec.secretStoreRefs ?? []).some((s) => s.name === ref.name && (s.kind ?? 'SecretStore') === kind)) {
        throw controllerErrors.invalidSpec(`spec.dataTo[${i}].storeRef`, `storeRef ${JSON.stringify(ref.name)} not found in secretStoreRefs`);
      }
      if (!ref.name && ref.labelSelector && !stores.some((s) => storeMatches(ref, s))) {
        throw controllerErrors.invalidSpec(`spec.dataTo[${i}].storeRef`, 'labelSelector does not match any store in secretStoreRefs');
      }
    });
  }

  /**
   * deletionPolicy Delete: removes what status says was pushed and `next` no longer pushes. Only
   * the providers' own mark decides ownership: deleteValue leaves anything without it alone.
   */
  private async deleteStale(ps: PS, next: SyncedPushSecrets, signal: AbortSignal | undefined, log: Logger): Promise<void> {
    const ns = ps.metadata.namespace!;
    const stale = staleEntries(ps.status?.syncedPushSecrets, next);
    const clients = new Map<string, ProviderClient | undefined>();
    for (const { store, ref, data } of stale) {
      const parsed = parseStoreStatusKey(store);
      if (!parsed) continue;
      if (!clients.has(store)) {
        const rt = parsed.kind === 'ClusterSecretStore' ? clusterSecretStores : secretStores;
        const obj = await this.d.kube.tryGet<AnyStore>(rt, parsed.kind === 'ClusterSecretStore' ? undefined : ns, parsed.name, { signal });
        // A store that is gone, or another controller class's: nothing we can (or may) delete through.
        clients.set(store, obj && storeHandledBy(obj, this.d.controllerClass)
          ? await this.d.clients.clientFor(parsed.kind, obj, ns).then((h) => h.client, (e: unknown) => { throw controllerErrors.fromProvider(store, e); })
          : undefined);
      }
      const client = clients.get(store);
      if (!client?.deleteValue) continue;
      try {
        await client.deleteValue({ remoteKey: data.match.remoteRef.remoteKey, property: data.match.remoteRef.property }, signal);
      } catch (e) {
        throw Object.assign(controllerErrors.fromPush(ref, store, e), { synced: mergeSynced(next, ps.status?.syncedPushSecrets) });
      }
      log.debug({ store, remoteRef: ref }, 'deleted a remote secret no longer pushed (deletionPolicy Delete)');
    }
  }

  /** The named source Secret is gone after pushing with deletionPolicy Delete: clean up, as ESO. */
  private async sourceDeleted(ps: PS, key: string, signal: AbortSignal | undefined, log: Logger): Promise<Result> {
    try {
      await this.deleteStale(ps, {}, signal, log);
    } catch (e) {
      return await this.fail(ps, e, log, signal, (e as { synced?: SyncedPushSecrets }).synced);
    }
    await this.writeStatus(ps, { status: 'False', reason: PushSecretReason.SourceDeleted, message: PushSecretMessage.sourceDeleted }, {}, false, signal);
    this.d.events.normal(ps, PushSecretReason.SourceDeleted, PushSecretMessage.sourceDeleted);
    this.pushedSources.delete(key);
    return {};
  }

  private async writeStatus(ps: PS, cond: { status: 'True' | 'False'; reason: string; message: string }, synced: SyncedPushSecrets | undefined, done: boolean, signal: AbortSignal | undefined): Promise<void> {
    const now = rfc3339(new Date(this.clock.now()));
    setReadyCondition(pushSecretMetrics, { name: ps.metadata.name!, namespace: ps.metadata.namespace! }, cond.status);
    try {
      await this.d.kube.updateStatusWithRetry<PS>(pushSecrets, ps.metadata.namespace, ps.metadata.name!, (cur) => ({
        ...cur,
        status: {
          ...cur.status,
          conditions: setCondition(cur.status?.conditions as Condition[] | undefined, { type: 'Ready', ...cond }),
          ...(synced !== undefined ? { syncedPushSecrets: synced } : {}),
          ...(done ? { refreshTime: now, syncedResourceVersion: esoSyncedResourceVersion(ps.metadata) } : {}),
        },
      }), { signal });
    } catch (e) {
      if (!isKubeNotFound(e)) throw e;
    }
  }

  /** Reports a failure (status, a Warning event, one log line) and throws it for backoff. */
  private async fail(ps: PS, err: unknown, log: Logger, signal: AbortSignal | undefined, synced: SyncedPushSecrets | undefined): Promise<never> {
    if (signal?.aborted) throw err;
    const message = err instanceof Error ? err.message : String(err);
    this.d.events.warning(ps, PushSecretReason.Errored, message);
    await this.writeStatus(ps, { status: 'False', reason: PushSecretReason.Errored, message }, synced, false, signal)
      .catch((e: unknown) => log.warn({ error: causeChain(e) }, 'status update failed'));
    log.warn({ reason: failureReason(err), error: causeChain(err) }, 'push failed; will retry with backoff');
    throw markLogged(err);
  }
}

/** Does a dataTo storeRef (by name or labels) name this store? */
function storeMatches(ref: PushSecretStoreRef, target: TargetStore): boolean {
  if ((ref.kind ?? 'SecretStore') !== target.kind) return false;
  if (ref.name) return ref.name === target.store.metadata.name;
  return ref.labelSelector !== undefined && labelSelectorMatches(ref.labelSelector, target.store.metadata.labels ?? {});
}

/** The dataTo entries that target this store, with their index (for error fields). */
function dataToFor(dataTo: readonly PushSecretDataTo[], target: TargetStore): Array<{ entry: PushSecretDataTo; index: number }> {
  return dataTo.map((entry, index) => ({ entry, index })).filter(({ entry }) => entry.storeRef !== undefined && storeMatches(entry.storeRef, target));
}

/** A template failure names the PushSecret's field (spec.template), not an ExternalSecret's. */
function asPushTemplateError(err: SyncError): SyncError {
  const fix = (s: string | undefined) => s?.replaceAll('spec.target.template', 'spec.template');
  return new SyncError(err.code, fix(err.message)!, fix(err.field));
}
