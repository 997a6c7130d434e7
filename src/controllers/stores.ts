// Stores: resolving a SecretStore / ClusterSecretStore for an ExternalSecret, the namespace
// conditions of ClusterSecretStores, provider clients (built once per store and credentials,
// shared by every ExternalSecret that can share them), and the store reconciler that reports
// Ready and capabilities.
import type { Logger } from 'pino';
import type { ClusterSecretStore, ClusterSecretStoreCondition, SecretStore } from '../api/types.generated.ts';
import { compile as compileRegexp, matchString, RegexpError } from '../go/regexp.ts';
import type { KubeClient } from '../kube/client.ts';
import { isNotFound as isKubeNotFound } from '../kube/client.ts';
import { labelSelectorMatches } from '../kube/selectors.ts';
import { core, rfc3339, type Condition, type KubeObject, type Secret } from '../kube/types.ts';
import type { Informer } from '../kube/informer.ts';
import type { EventRecorder } from '../kube/events.ts';
import { getProvider, providerName, supportedProviders } from '../providers/registry.ts';
import { ProviderError, type Provider, type ProviderClient, type ProviderContext, type SecretKeySelector } from '../providers/provider.ts';
import type { StoreHandle } from '../providers/reader.ts';
import { forgetReadyGauges, nanosecondsSince, secretMetrics, setReadyCondition, storeMetrics } from '../metrics/index.ts';
import { TerminalError } from '../kube/controller.ts';
import { referencesIn } from '../api/references.ts';
import { storeRefreshIntervalMs } from '../api/duration.ts';
import { controllerErrors, StoreReason } from './errors.ts';
import { clusterSecretStores, secretStores } from './resources.ts';

export type AnyStore = (SecretStore | ClusterSecretStore) & KubeObject;
export type StoreKind = 'SecretStore' | 'ClusterSecretStore';

export function storeId(kind: StoreKind, store: AnyStore): string {
  return kind === 'ClusterSecretStore' ? `ClusterSecretStore/${store.metadata.name}` : `SecretStore/${store.metadata.namespace}/${store.metadata.name}`;
}

/** Does this controller handle the store? `spec.controller` empty, or equal to our class. */
export function storeHandledBy(store: AnyStore, controllerClass: string): boolean {
  const c = store.spec.controller ?? '';
  return c === '' || c === controllerClass;
}

/**
 * ClusterSecretStore `spec.conditions`, as ESO: with no conditions every namespace may use it;
 * otherwise a namespace is allowed when any condition matches it by name, by an (unanchored)
 * RE2 regular expression, or by label selector.
 */
export function namespaceAllowed(conditions: ClusterSecretStoreCondition[] | undefined, namespace: string, namespaceLabels: Record<string, string> | undefined): boolean {
  if (!conditions || conditions.length === 0) return true;
  for (const c of conditions) {
    if (c.namespaces?.includes(namespace)) return true;
    for (const re of c.namespaceRegexes ?? []) {
      try {
        if (matchString(compileRegexp(re), namespace)) return true;
      } catch (err) {
        // An invalid expression matches nothing; the store's Ready condition names it
        // (conditionProblems).
        if (!(err instanceof RegexpError)) throw err;
      }
    }
    if (c.namespaceSelector && namespaceLabels && labelSelectorMatches(c.namespaceSelector, namespaceLabels)) return true;
  }
  return false;
}

/** Invalid `spec.conditions[].namespaceRegexes`, each naming its field (ESO's webhook refuses them). */
export function conditionProblems(conditions: ClusterSecretStoreCondition[] | undefined): string[] {
  const problems: string[] = [];
  (conditions ?? []).forEach((c, i) => (c.namespaceRegexes ?? []).forEach((re, j) => {
    try {
      compileRegexp(re);
    } catch (err) {
      if (!(err instanceof RegexpError)) throw err;
      problems.push(`spec.conditions[${i}].namespaceRegexes[${j}]: ${err.message}`);
    }
  }));
  return problems;
}

/** hasNamespaceRelativeRefs' answers, by config object. */
const relativeRefs = new WeakMap<object, { provider: string; relative: boolean }>();

/**
 * Whether a ClusterSecretStore's provider config refers to a Secret, ConfigMap or ServiceAccount
 * without a namespace: such references resolve in each ExternalSecret's own namespace, so a
 * client cannot be shared across namespaces (tenant isolation). The reference fields come from
 * the schema (src/api/references.ts), so caProvider and every selector count.
 */
export function hasNamespaceRelativeRefs(provider: string, config: unknown): boolean {
  if (typeof config !== 'object' || config === null) return namespaceRelative(provider, config);
  // Asked at every reconcile of every ExternalSecret of the store, of a cached config that a
  // change of the store replaces (never edits): once per config object.
  let known = relativeRefs.get(config);
  if (known === undefined || known.provider !== provider) relativeRefs.set(config, (known = { provider, relative: namespaceRelative(provider, config) }));
  return known.relative;
}

function namespaceRelative(provider: string, config: unknown): boolean {
  return referencesIn(provider, config).some((r) => r.namespace === undefined || r.namespace === null || r.namespace === '');
}

/**
 * A SecretStore's references to another namespace, each naming its field, refused as ESO refuses
 * them ("namespace should either be empty or match the namespace of the SecretStore"): a tenant's
 * store must never read credentials or CA bundles of another namespace. ClusterSecretStores may.
 */
export function foreignNamespaceReferences(kind: StoreKind, storeNamespace: string | undefined, provider: string, config: unknown): string[] {
  if (kind !== 'SecretStore') return [];
  return referencesIn(provider, config)
    .filter((r) => r.namespace !== undefined && r.namespace !== null && r.namespace !== '' && r.namespace !== storeNamespace)
    .map((r) => `${r.field}.namespace: ${JSON.stringify(String(r.namespace).slice(0, 63))}: namespace should either be empty or match the namespace of the SecretStore (${JSON.stringify(storeNamespace ?? '')})`);
}

interface CachedClient {
  handle: StoreHandle;
  version: string;
  created: number;
}

export interface StoreClientsOptions {
  kube: KubeClient;
  logger: Logger;
  /** Rebuild clients after this long, to pick up rotated credentials (ms). */
  clientTtlMs?: number;
  env?: Record<string, string | undefined>;
  /** Total deadline of one provider call (ms); the providers' default when absent. */
  callDeadlineMs?: number | undefined;
  /**
   * May a namespaced SecretStore act as the controller itself (AWS default chain, the
   * controller's own service-account token)? `--namespaced-store-controller-identity`.
   * ClusterSecretStores are the platform's and always may.
   */
  namespacedStoreControllerIdentity?: ControllerIdentityPolicy | undefined;
  /** How long a replaced or evicted client stays open for the reads it still serves (ms). */
  retireAfterMs?: number;
}

export type ControllerIdentityPolicy = 'allow' | 'deny';

/**
 * Why a store may not be used under the controller-identity policy, or undefined when it may.
 * Only namespaced SecretStores are restricted: their spec is tenant-written.
 */
export function controllerIdentityRefusal(kind: StoreKind, provider: Provider, config: unknown, policy: ControllerIdentityPolicy | undefined): string | undefined {
  if (kind !== 'SecretStore' || policy !== 'deny') return undefined;
  const ambient = provider.controllerIdentity?.(config);
  if (!ambient) return undefined;
  return `${ambient.field}: a SecretStore may not use ${ambient.uses}; the controller runs with --namespaced-store-controller-identity=deny (give the store its own credentials, or use a ClusterSecretStore)`;
}

/** Builds and caches provider clients per store (and per namespace where credentials demand it). */
export class StoreClients {
  private readonly o: StoreClientsOptions;
  private readonly clients = new Map<string, CachedClient>();
  private readonly building = new Map<string, Promise<CachedClient>>();
  /**
   * Clients no longer handed out, still open for the reads in flight on them: at most one per
   * cache key, so a tenant who edits its store in a loop holds two clients, not one per edit.
   */
  private readonly retiring = new Map<string, { client: ProviderClient; timer: NodeJS.Timeout }>();
  /** Providers warm() has prepared (or is preparing). */
  private readonly warmed = new Set<string>();

  constructor(o: StoreClientsOptions) {
    this.o = o;
  }

  /** The provider client for `store`, used from an ExternalSecret in `namespace`. */
  async clientFor(kind: StoreKind, store: AnyStore, namespace: string): Promise<StoreHandle> {
    const name = providerName(store.spec as { provider?: Record<string, unknown> });
    const config = (store.spec.provider as Record<string, unknown>)[name];
    const perNamespace = kind === 'ClusterSecretStore' && hasNamespaceRelativeRefs(name, config);
    const base = storeId(kind, store);
    const cacheKey = perNamespace ? `${base}#${namespace}` : base;
    const version = `${store.metadata.uid}:${store.metadata.generation ?? store.metadata.resourceVersion}`;
    const ttl = this.o.clientTtlMs ?? 15 * 60_000;
    const hit = this.clients.get(cacheKey);
    if (hit && hit.version === version && performance.now() - hit.created < ttl) return hit.handle;
    const pending = this.building.get(cacheKey);
    if (pending) return (await pending).handle;
    const build = (async () => {
      const provider = await getProvider(name);
      const problems = [...provider.validateConfig(config), ...foreignNamespaceReferences(kind, store.metadata.namespace, name, config)];
      if (problems.length) throw new ProviderError('InvalidRequest', problems.join('; '));
      const refused = controllerIdentityRefusal(kind, provider, config, this.o.namespacedStoreControllerIdentity);
      if (refused) throw controllerErrors.controllerIdentityDenied(storeId(kind, store), refused);
      const client = await provider.newClient(config, this.context(kind, store, namespace, name));
      const entry: CachedClient = { handle: { id: `${cacheKey}@${version}`, provider: name, client }, version, created: performance.now() };
      const old = this.clients.get(cacheKey);
      this.clients.set(cacheKey, entry);
      if (old) this.retire(cacheKey, old.handle.client);
      return entry;
    })();
    this.building.set(cacheKey, build);
    try {
      return (await build).handle;
    } finally {
      this.building.delete(cacheKey);
    }
  }

  /**
   * Prepares, while the caches fill, what the first client of each provider needs: the
   * provider's module, its config check (compiled on first use) and its SDK (Provider.warm).
   * Once per provider; nothing is built, no credential read, no call made. Never rejects: the
   * store's reconcile reports whatever is wrong with it.
   */
  warm(store: AnyStore): Promise<void> {
    let name: string;
    try {
      name = providerName(store.spec as { provider?: Record<string, unknown> });
    } catch {
      return Promise.resolve();
    }
    if (this.warmed.has(name) || !supportedProviders().includes(name)) return Promise.resolve();
    this.warmed.add(name);
    const config = (store.spec.provider as Record<string, unknown>)[name];
    return getProvider(name)
      .then(async (provider) => {
        provider.validateConfig(config);
        await provider.warm?.(config);
      })
      .catch((e: unknown) => this.o.logger.debug({ provider: name, err: (e as Error).message }, 'provider warm-up failed'));
  }

  /** Builds a client without caching it (store validation). */
  async probe(kind: StoreKind, store: AnyStore): Promise<{ provider: Provider; client?: ProviderClient; problems: string[] }> {
    const name = providerName(store.spec as { provider?: Record<string, unknown> });
    const provider = await getProvider(name);
    const config = (store.spec.provider as Record<string, unknown>)[name];
    const problems = [
      ...provider.validateConfig(config),
      ...foreignNamespaceReferences(kind, store.metadata.namespace, name, config),
      ...conditionProblems((store.spec as ClusterSecretStore['spec']).conditions),
    ];
    if (problems.length) return { provider, problems };
    const refused = controllerIdentityRefusal(kind, provider, config, this.o.namespacedStoreControllerIdentity);
    if (refused) return { provider, problems: [refused] };
    if (kind === 'ClusterSecretStore' && hasNamespaceRelativeRefs(name, config)) {
      // Credentials live in each ExternalSecret's namespace: nothing to check until one uses it.
      return { provider, problems };
    }
    const ns = store.metadata.namespace ?? 'default';
    return { provider, client: await provider.newClient(config, this.context(kind, store, ns, name)), problems };
  }

  /**
   * Forgets the clients of a deleted or changed store: the next read builds a new one. The old
   * ones are retired, not closed: a read in flight on them (a store that turned Ready while an
   * ExternalSecret's first read ran) completes, instead of failing and being sent again.
   */
  evict(kind: StoreKind, store: AnyStore): void {
    const base = storeId(kind, store);
    for (const [k, c] of this.clients) {
      if (k === base || k.startsWith(base + '#')) {
        this.clients.delete(k);
        this.retire(k, c.handle.client);
      }
    }
  }

  async closeAll(): Promise<void> {
    const all = [...this.clients.values()].map((c) => c.handle.client);
    for (const r of this.retiring.values()) {
      clearTimeout(r.timer);
      all.push(r.client);
    }
    this.clients.clear();
    this.retiring.clear();
    await Promise.all(all.map((c) => c.close().catch(() => undefined)));
  }

  /** Clients retired and not yet closed (for tests). */
  get retired(): number {
    return this.retiring.size;
  }

  /**
   * Closes `client` once the reads in flight on it are over: after `retireAfterMs` (longer than
   * any provider call's deadline), or at closeAll. A client retired earlier under the same key is
   * closed at once: it was replaced twice within the grace, which only a store edited in a loop
   * does, and the reads still on it fail as any provider error does and are retried.
   */
  private retire(key: string, client: ProviderClient): void {
    const earlier = this.retiring.get(key);
    if (earlier) {
      clearTimeout(earlier.timer);
      void earlier.client.close().catch(() => undefined);
    }
    // Its timer is cleared whenever the entry is replaced or closeAll runs: it fires only for itself.
    const timer = setTimeout(() => {
      this.retiring.delete(key);
      void client.close().catch(() => undefined);
    }, this.o.retireAfterMs ?? Math.max(60_000, (this.o.callDeadlineMs ?? 0) + 5_000));
    timer.unref();
    this.retiring.set(key, { client, timer });
  }

  /** What a provider may ask of the cluster, with ESO's namespace rules applied. */
  private context(kind: StoreKind, store: AnyStore, esNamespace: string, provider: string): ProviderContext {
    // A SecretStore reads only its own namespace; a ClusterSecretStore reads the namespace the
    // reference names, else the ExternalSecret's.
    return kubeProviderContext({
      kube: this.o.kube,
      label: storeId(kind, store),
      ownNamespace: kind === 'SecretStore' ? store.metadata.namespace! : undefined,
      defaultNamespace: esNamespace,
      provider,
      env: this.o.env,
      callDeadlineMs: this.o.callDeadlineMs,
    });
  }
}

export interface KubeProviderContextOptions {
  kube: KubeClient;
  /** Who reads (a store id, a generator), for messages and the api-calls metric's store label. */
  label: string;
  /** When set, every reference must stay in this namespace (a SecretStore's, a namespaced generator's). */
  ownNamespace: string | undefined;
  /** Who is confined to ownNamespace, for the refusal ("a SecretStore", "a generator"). */
  confined?: string | undefined;
  /** The namespace of a reference that names none (a ClusterSecretStore: the ExternalSecret's). */
  defaultNamespace: string;
  /** The provider label of the api-calls metric when a call names none. */
  provider: string;
  env?: Record<string, string | undefined> | undefined;
  callDeadlineMs?: number | undefined;
}

/** A ProviderContext over the Kubernetes API, with the namespace rules of `o`. */
export function kubeProviderContext(o: KubeProviderContextOptions): ProviderContext {
  const { kube, label: storeName, provider } = o;
  const nsFor = (ref: { namespace?: string | undefined }): string => {
    if (o.ownNamespace !== undefined) {
      const own = o.ownNamespace;
      if (ref.namespace && ref.namespace !== own) {
        throw new ProviderError('InvalidRequest', `${storeName}: ${o.confined ?? 'a SecretStore'} may only reference Secrets in its own namespace (got namespace ${JSON.stringify(ref.namespace)})`);
      }
      return own;
    }
    return ref.namespace || o.defaultNamespace;
  };
  return {
    namespace: o.ownNamespace ?? o.defaultNamespace,
    env: o.env ?? process.env,
    callDeadlineMs: o.callDeadlineMs,
    readSecretKey: async (ref: SecretKeySelector) => {
      const ns = nsFor(ref);
      let secret: Secret | undefined;
      try {
        secret = await kube.tryGet<Secret>(core.secrets, ns, ref.name);
      } catch (e) {
        throw new ProviderError('BadCredentials', `${storeName}: cannot read credentials secret ${ns}/${ref.name}: ${(e as Error).message}`);
      }
      if (!secret) throw new ProviderError('BadCredentials', `${storeName}: credentials secret ${ns}/${ref.name} not found`);
      const key = ref.key ?? '';
      const v = secret.data?.[key];
      if (v === undefined) throw new ProviderError('BadCredentials', `${storeName}: credentials secret ${ns}/${ref.name} has no key ${JSON.stringify(key)}`);
      return Buffer.from(v, 'base64').toString('utf8');
    },
    readConfigMapKey: async (ref: SecretKeySelector) => {
      const ns = nsFor(ref);
      const cm = await kube.tryGet<KubeObject & { data?: Record<string, string> }>(core.configMaps, ns, ref.name).catch((e: Error) => {
        throw new ProviderError('InvalidRequest', `${storeName}: cannot read configmap ${ns}/${ref.name}: ${e.message}`);
      });
      if (!cm) throw new ProviderError('InvalidRequest', `${storeName}: configmap ${ns}/${ref.name} not found`);
      const v = cm.data?.[ref.key ?? ''];
      if (v === undefined) throw new ProviderError('InvalidRequest', `${storeName}: configmap ${ns}/${ref.name} has no key ${JSON.stringify(ref.key ?? '')}`);
      return v;
    },
    createServiceAccountToken: async (ref) => {
      const ns = nsFor(ref);
      try {
        const res = await kube.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${encodeURIComponent(ns)}/serviceaccounts/${encodeURIComponent(ref.name)}/token`, {
          body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ref.audiences ?? [], expirationSeconds: 600 } },
        });
        return res.status.token;
      } catch (e) {
        throw new ProviderError('BadCredentials', `${storeName}: cannot issue a token for service account ${ns}/${ref.name}: ${(e as Error).message}`);
      }
    },
    readServiceAccountAnnotations: async (ref: { name: string; namespace?: string | undefined }) => {
      const ns = nsFor(ref);
      try {
        const sa = await kube.get<KubeObject>(core.serviceAccounts, ns, ref.name);
        return sa.metadata?.annotations ?? {};
      } catch (e) {
        if (isKubeNotFound(e)) throw new ProviderError('BadCredentials', `${storeName}: service account ${ns}/${ref.name} not found`);
        throw e;
      }
    },
    onApiCall: (operation: string, detail?: { provider?: string; status?: string }) => {
      secretMetrics.providerCalls.inc({ provider: detail?.provider ?? provider, store: storeName, call: operation, status: detail?.status ?? 'success' });
    },
  } as ProviderContext;
}

// ---------------------------------------------------------------------------------------------
// The store reconciler: validates config and credentials; sets Ready and capabilities.

export interface StoreReconcilerDeps {
  kube: KubeClient;
  clients: StoreClients;
  controllerClass: string;
  logger: Logger;
  secretStoreInformer: Informer<SecretStore & KubeObject>;
  clusterSecretStoreInformer: Informer<ClusterSecretStore & KubeObject>;
  /** How often a Ready store is validated again (ms). */
  requeueIntervalMs: number;
  /** Events on the store (ESO's `Valid` / `InvalidProviderConfig`); none when absent. */
  events?: EventRecorder | undefined;
}

/**
 * The Event a store's validation outcome is reported with, as ESO's store controller records
 * them: Normal `Valid` "store validated", or Warning `InvalidProviderConfig` with the error for
 * every failure (ESO uses that one event reason whether the client could not be built or its
 * validation failed; the Ready condition's reason says which).
 */
export function storeEvent(ready: boolean, message: string): { type: 'Normal' | 'Warning'; reason: string; message: string } {
  return ready ? { type: 'Normal', reason: StoreReason.Valid, message: 'store validated' } : { type: 'Warning', reason: StoreReason.InvalidProviderConfig, message };
}


export function setCondition(conditions: Condition[] | undefined, next: Omit<Condition, 'lastTransitionTime'>): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? list[i] : undefined;
  const cond: Condition = {
    ...next,
    lastTransitionTime: prev && prev.status === next.status ? (prev.lastTransitionTime ?? rfc3339()) : rfc3339(),
  };
  if (i >= 0) list[i] = cond;
  else list.push(cond);
  return list;
}

export function makeStoreReconciler(kind: StoreKind, d: StoreReconcilerDeps) {
  const rt = kind === 'SecretStore' ? secretStores : clusterSecretStores;
  const informer = (kind === 'SecretStore' ? d.secretStoreInformer : d.clusterSecretStoreInformer) as Informer<AnyStore>;
  const metrics = storeMetrics[kind];
  // The last event recorded per store (uid and content): an unchanged outcome is not recorded
  // again on every requeue, nor after a restart when the store's status already shows it.
  const lastEvent = new Map<string, string>();
  // `signal` is the reconcile's (its deadline, shutdown): validation calls the store's provider,
  // whose endpoint a tenant may have chosen to be slow.
  return async (key: string, signal?: AbortSignal): Promise<{ requeueAfter?: number }> => {
    const t0 = performance.now();
    const store = informer.get(key);
    if (!store) {
      // Gone: its series go with it, as ESO's RemoveMetrics.
      removeStoreMetrics(kind, key);
      lastEvent.delete(key);
      return {};
    }
    if (!storeHandledBy(store, d.controllerClass)) return {};
    try {
      return await validateAndReport(key, store, signal);
    } finally {
      metrics.reconcileDuration.set(storeSeries(store), nanosecondsSince(t0));
    }
  };

  async function validateAndReport(key: string, store: AnyStore, signal: AbortSignal | undefined): Promise<{ requeueAfter?: number }> {
    const { status, reason, message, capabilities } = await validateStore(d.clients, kind, store, signal);
    const ns = store.metadata.namespace;
    const name = store.metadata.name!;
    setReadyCondition(metrics, storeSeries(store), status);
    const cur = (store.status?.conditions ?? []).find((c) => c.type === 'Ready');
    const statusChanged = !cur || cur.status !== status || cur.reason !== reason || cur.message !== message || (capabilities !== undefined && store.status?.capabilities !== capabilities);
    if (statusChanged) {
      await d.kube.updateStatusWithRetry<AnyStore>(rt, ns, name, (obj) => ({
        ...obj,
        status: { ...obj.status, ...(capabilities !== undefined ? { capabilities } : {}), conditions: setCondition(obj.status?.conditions as Condition[] | undefined, { type: 'Ready', status, reason, message }) },
      }), { signal });
    }
    const ev = storeEvent(status === 'True', message);
    const signature = `${store.metadata.uid}\u0000${ev.type}\u0000${ev.reason}\u0000${ev.message}`;
    // After a restart (nothing remembered) an outcome its status already shows is not recorded
    // again: a restart writes nothing that is not due.
    if (d.events && lastEvent.get(key) !== signature && (lastEvent.has(key) || statusChanged)) d.events.record(store, ev.type, ev.reason, ev.message);
    lastEvent.set(key, signature);
    // spec.refreshInterval (seconds, or a duration string in v1) overrides the controller's
    // --store-requeue-interval, as in ESO. The CRD refuses values that do not parse; one stored
    // before the CRD changed is a terminal error naming the field, as ESO fails the reconcile.
    let every: number;
    try {
      every = storeRefreshIntervalMs(store.spec.refreshInterval) || d.requeueIntervalMs;
    } catch (e) {
      throw new TerminalError(`${storeId(kind, store)}: spec.refreshInterval: ${(e as Error).message}`);
    }
    // A store that is not Ready is a failed reconcile, as in ESO: it counts in
    // controller_runtime_reconcile_total{result="error"} (the dashboards' store error rate) and
    // is logged once, by the controller. Invalid configuration waits for a change (terminal);
    // failed validation is retried with backoff, but at least as often as the store asks to be
    // validated, so credentials fixed outside the cluster are seen within its refreshInterval.
    if (status === 'False') {
      const failure = `${storeId(kind, store)} is not ready (${reason}): ${message}`;
      throw reason === StoreReason.InvalidProviderConfig ? new TerminalError(failure) : new StoreNotReadyError(failure, every);
    }
    d.logger.info({ store: storeId(kind, store), ready: status, reason }, 'store reconciled');
    return { requeueAfter: every };
  }
}

/** The outcome of validating a store: its Ready condition and its capabilities. */
interface StoreValidation {
  status: 'True' | 'False';
  reason: string;
  message: string;
  /**
   * Set when the provider is known. Undefined when the store could not be built: as ESO, the
   * previous status.capabilities is then kept rather than guessed.
   */
  capabilities: string | undefined;
}

/**
 * Builds the store's provider client and validates it (a provider call). A cancelled validation
 * (deadline, shutdown) is thrown, not reported: it says nothing about the store.
 */
async function validateStore(clients: Pick<StoreClients, 'probe'>, kind: StoreKind, store: AnyStore, signal: AbortSignal | undefined): Promise<StoreValidation> {
  let capabilities: string | undefined;
  try {
    const { provider, client, problems } = await clients.probe(kind, store);
    capabilities = provider.capabilities((store.spec.provider as Record<string, unknown>)[provider.name]);
    if (problems.length) return { status: 'False', reason: StoreReason.InvalidProviderConfig, message: problems.join('; '), capabilities };
    if (client) {
      try {
        await client.validate(signal);
      } finally {
        await client.close().catch(() => undefined);
      }
    }
    return { status: 'True', reason: StoreReason.Valid, message: 'store validated', capabilities };
  } catch (e) {
    if (signal?.aborted) throw e;
    const invalid = e instanceof ProviderError && (e.kind === 'InvalidRequest');
    const reason = invalid ? StoreReason.InvalidProviderConfig : e instanceof ProviderError ? StoreReason.ValidationFailed : StoreReason.InvalidStoreConfiguration;
    return { status: 'False', reason, message: `unable to validate store: ${(e as Error).message}`, capabilities };
  }
}

/** A store whose validation failed: retried with backoff. Its message is the one in status. */
export class StoreNotReadyError extends Error {
  /** Retried with backoff, but not later than the store's validation interval (RetryHints). */
  readonly retryWithinMs: number;
  constructor(message: string, retryWithinMs: number) {
    super(message);
    this.name = 'StoreNotReadyError';
    this.retryWithinMs = retryWithinMs;
  }
}

/** The labels of a store's series: ESO's name and namespace (empty for a ClusterSecretStore). */
function storeSeries(store: AnyStore): { name: string; namespace: string } {
  return { name: store.metadata.name!, namespace: store.metadata.namespace ?? '' };
}

/** Removes the series of a store that is gone; `key` is the informer key (namespace/name or name). */
export function removeStoreMetrics(kind: StoreKind, key: string): void {
  const slash = key.indexOf('/');
  const series = slash < 0 ? { name: key, namespace: '' } : { name: key.slice(slash + 1), namespace: key.slice(0, slash) };
  forgetReadyGauges(storeMetrics[kind], series);
}
