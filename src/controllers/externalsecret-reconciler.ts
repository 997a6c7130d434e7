// The ExternalSecret reconciler: one reconcile of one ExternalSecret, around the pure sync core
// (src/sync): resolve the store, decide whether a sync is due, fetch remote values, compute the
// desired Secret, write it if its content changed, report status, events and metrics.
//
// Why a class with declared dependencies: everything it reads or writes is a field (caches, kube
// client, provider clients, reader, compute, clock, events, logger), as cert-manager's
// controllers declare their seams. The wiring (src/controllers/externalsecret.ts) fills them with
// informers and real clients; test/unit/controllers/externalsecret-reconciler.test.ts fills them
// with in-memory caches, a recording kube client and a fake clock, and drives one reconcile per
// table row. No informer, queue or timer is built here: a reconcile returns a Result, and
// src/kube/controller.ts alone decides what follows.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ClusterSecretStore, ExternalSecret, SecretStore, SecretStoreRef } from '../api/types.generated.ts';
import { FINALIZER_ESO_EXTERNALSECRET } from '../api/constants.ts';
import { removeFinalizerFrom } from '../kube/finalizers.ts';
import { parseDurationMs } from '../api/duration.ts';
import { targetName, NOT_FOUND, type FetchedDataFrom, type FetchedValue, type SyncPlan } from '../sync/desired.ts';
import type { TemplateSources } from '../sync/template-refs.ts';
import type { DesiredSecretCompute } from '../compute/index.ts';
import { ConditionReason, EventMessage, EventReason, FailureSummary, SyncError, SyncErrorCode, isSyncError } from '../sync/errors.ts';
import { fieldOwnerFor, unchangedSinceWritten, type Secret as SyncSecret } from '../sync/secret.ts';
import { ApiError, isAlreadyExists, isConflict, isNotFound as isKubeNotFound, type KubeClient } from '../kube/client.ts';
import { markLogged, type Result } from '../kube/controller.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { UnseenWrites } from '../kube/unseen-writes.ts';
import { core, rfc3339, type Condition, type KubeObject, type ObjectMeta, type ResourceType, type Secret } from '../kube/types.ts';
import { ProviderError, isNotFound as isProviderNotFound, type RemoteValue, type RemoteValueRef } from '../providers/provider.ts';
import type { StoreHandle } from '../providers/reader.ts';
import { nanosecondsSince, secretMetrics, setReadyCondition } from '../metrics/index.ts';
import { generatedDataFrom, type GenerateValues } from './generators.ts';
import { ControllerError, ControllerErrorCode, controllerErrors } from './errors.ts';
import { configMapAsCachedSecret, isConfigMapManifest, resolveGenericTarget, resourceCondition, syncConfigMapTarget, syncGenericTarget, type KindResolver } from './externalsecret-generic-target.ts';
import { refusedGenericKind } from '../sync/generic-target.ts';
import { parseSyncWindows, postponedFor, SyncWindowError } from '../sync/sync-windows.ts';
import { syncedVersion } from './externalsecret-predicates.ts';
import { nextRefreshDelay, refreshDue, type RefreshState } from './refresh.ts';
import { externalSecrets } from './resources.ts';
import { namespaceAllowed, setCondition, storeHandledBy, type AnyStore, type StoreKind } from './stores.ts';

export type ES = ExternalSecret & KubeObject;
export type SS = SecretStore & KubeObject;
export type CSS = ClusterSecretStore & KubeObject;

/** Read-only views of the informers' caches the reconciler decides on. */
export interface ExternalSecretCaches {
  externalSecret(key: string): ES | undefined;
  /** A target Secret by namespace and name; only managed Secrets are cached. */
  managedSecret(namespace: string, name: string): Secret | undefined;
  /** The managed-Secret cache holds every managed Secret (its first list is done). */
  managedSecretsSynced(): boolean;
  /** A generic target ConfigMap by namespace and name; only managed ones, and only with generic targets allowed. */
  managedConfigMap?(namespace: string, name: string): KubeObject | undefined;
  secretStore(namespace: string, name: string): SS | undefined;
  clusterSecretStore(name: string): CSS | undefined;
  namespaceLabels(namespace: string): Record<string, string> | undefined;
}

/** The kube verbs a reconcile uses (KubeClient has them; the unit tier records them in memory). */
export interface ReconcilerKube {
  withFieldManager(fieldManager: string): ReconcilerKube;
  get: KubeClient['get'];
  tryGet: KubeClient['tryGet'];
  create: KubeClient['create'];
  update: KubeClient['update'];
  patch: KubeClient['patch'];
  delete: KubeClient['delete'];
}

/** Provider clients per store (StoreClients): built once, shared by the ExternalSecrets of a store. */
export interface StoreClientSource {
  clientFor(kind: StoreKind, store: AnyStore, namespace: string): Promise<StoreHandle>;
}

/** The remote-value reader (CoalescingReader): one provider read per distinct key and age. */
export interface RemoteValueReader {
  read(store: StoreHandle, ref: RemoteValueRef, maxAgeMs: number, signal?: AbortSignal): Promise<RemoteValue>;
  memo<T>(store: StoreHandle, what: string, maxAgeMs: number, fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T>;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface ExternalSecretReconcilerDeps {
  caches: ExternalSecretCaches;
  kube: ReconcilerKube;
  clients: StoreClientSource;
  reader: RemoteValueReader;
  computeDesiredSecret: DesiredSecretCompute['computeDesiredSecret'];
  /** The ConfigMaps and Secrets an ExternalSecret's templateFrom reads (fetched before step 3). */
  templateSourcesFor?: ((es: ES, kube: ReconcilerKube, signal?: AbortSignal) => Promise<TemplateSources>) | undefined;
  events: Pick<EventRecorder, 'normal' | 'warning'>;
  logger: Logger;
  clock?: Clock | undefined;
  /** Jitter of the next refresh (refresh.ts); a test pins it. */
  random?: (() => number) | undefined;
  controllerClass: string;
  /** Longest time a value read for one ExternalSecret is reused for another (ms). */
  providerCacheTtlMs: number;
  /** Runs dataFrom[].sourceRef.generatorRef (src/controllers/generators.ts); absent: generators are refused. */
  generate?: GenerateValues | undefined;
  /** --unsafe-allow-generic-targets: spec.target.manifest (a ConfigMap or another namespaced kind) is written. */
  allowGenericTargets?: boolean | undefined;
  /** --generic-target-kinds: when set, the only kinds (besides ConfigMap) a generic target may be. */
  genericTargetKinds?: readonly string[] | undefined;
  /** Resolves a generic target's apiVersion and kind (src/kube/discovery.ts); absent: ConfigMap only. */
  discovery?: KindResolver | undefined;
  /** Called after a generic target of a kind other than ConfigMap was synced: start watching its kind. */
  watchGenericKind?: ((rt: ResourceType) => void) | undefined;
  /**
   * This controller's writes the caches have not shown yet (src/kube/unseen-writes.ts): a reconcile
   * that would see its own ExternalSecret or Secret from before its last write is deferred. The
   * informers' handlers call `seen` and enqueue the waiter.
   */
  unseenWrites?: { externalSecrets: UnseenWrites; secrets: UnseenWrites } | undefined;
}

// ---- pure decisions ------------------------------------------------------------------------------

/**
 * How old a remote value may be for this sync. A change of an already synced ExternalSecret, or
 * a repair of its Secret, reads fresh values. A periodic refresh, and the first sync of a new
 * ExternalSecret, may share a read made for another ExternalSecret within the cache TTL: a burst
 * of new ExternalSecrets (a restore, a new cluster, a big Argo CD sync) then costs one read per
 * distinct key instead of one per object.
 */
export function maxReadAgeMs(s: { specChanged: boolean; targetBroken: boolean; firstSync: boolean; refreshMs: number; providerCacheTtlMs: number }): number {
  if ((s.specChanged || s.targetBroken) && !s.firstSync) return 0;
  return Math.min(s.providerCacheTtlMs, s.refreshMs > 0 ? s.refreshMs : s.providerCacheTtlMs);
}

/**
 * Is the target Secret missing or edited since its ExternalSecret wrote it? Only for Owner and
 * Orphan, which own the whole Secret. Decided from the Secret's own records (unchangedSinceWritten),
 * so a restart does not count every Secret as edited and read every value fresh.
 */
export function targetBroken(creationPolicy: string, cached: Secret | undefined, externalSecretName: string): boolean {
  if (creationPolicy !== 'Owner' && creationPolicy !== 'Orphan') return false;
  return !cached || !unchangedSinceWritten(cached as unknown as SyncSecret, externalSecretName);
}

/**
 * Is the only reason to sync that the refresh interval has passed? Only such a refresh waits for
 * spec.syncWindows (ESO: windows gate the periodic refresh; a first sync, a spec change and a
 * repair of the target do not wait). A failed ExternalSecret keeps retrying with backoff too.
 */
export function periodicRefreshOnly(s: RefreshState): boolean {
  return s.policy === 'Periodic' && s.ready && !Number.isNaN(s.lastRefreshMs) && !s.specChanged && !s.targetBroken && s.storeUnavailable !== true;
}

/** A failure already reported in status with the same words is not written again (no API hammering in a hot retry loop). */
export function sameReadyCondition(current: Condition | undefined, next: { status: string; reason: string; message: string }): boolean {
  return current !== undefined && current.status === next.status && current.reason === next.reason && current.message === next.message;
}

/**
 * The error's message, then each cause's, for the one log line of a failure. Only causes of our
 * own typed errors are quoted (their messages are value-free by contract); of anything else
 * (an SDK's error, the apiserver's answer, which may quote a value) only its name and code.
 */
export function causeChain(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (e instanceof ControllerError || e instanceof SyncError || e instanceof ProviderError) {
      // A wrapper often quotes its cause's message already: say it once.
      const message = e.message;
      if (!parts.some((p) => p.includes(message))) parts.push(message);
    }
    else if (e instanceof ApiError) parts.push(`${e.name} ${e.code}${e.reason ? ` ${e.reason}` : ''}`);
    else if (e instanceof Error) {
      const code = (e as { code?: unknown }).code;
      parts.push(`${e.name}${typeof code === 'string' || typeof code === 'number' ? ` ${code}` : ''}`);
    } else parts.push(typeof e);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(': ');
}

/** The failing step each error code belongs to, as ESO's reconciler names it; others: UpdateSecret. */
const SUMMARY_BY_CODE: Readonly<Record<string, FailureSummary>> = {
  // Reading and shaping the provider data (ESO's GetProviderSecretData).
  [ControllerErrorCode.StoreNotFound]: FailureSummary.GetSecretData,
  [ControllerErrorCode.NamespaceNotAllowed]: FailureSummary.GetSecretData,
  [ControllerErrorCode.InvalidStoreConfiguration]: FailureSummary.GetSecretData,
  [ControllerErrorCode.ControllerIdentityDenied]: FailureSummary.GetSecretData,
  [ControllerErrorCode.ProviderUnavailable]: FailureSummary.GetSecretData,
  [ControllerErrorCode.ProviderAccessDenied]: FailureSummary.GetSecretData,
  [ControllerErrorCode.ProviderBadCredentials]: FailureSummary.GetSecretData,
  [ControllerErrorCode.ProviderThrottled]: FailureSummary.GetSecretData,
  [ControllerErrorCode.ProviderError]: FailureSummary.GetSecretData,
  [ControllerErrorCode.UnsupportedSource]: FailureSummary.GetSecretData,
  [ControllerErrorCode.InvalidSpec]: FailureSummary.GetSecretData,
  // Generators run where ESO runs them: inside GetProviderSecretData.
  [ControllerErrorCode.GeneratorNotFound]: FailureSummary.GetSecretData,
  [ControllerErrorCode.GeneratorNotSupported]: FailureSummary.GetSecretData,
  [ControllerErrorCode.GeneratorInvalid]: FailureSummary.GetSecretData,
  [ControllerErrorCode.GeneratorFailed]: FailureSummary.GetSecretData,
  [SyncErrorCode.PropertyNotFound]: FailureSummary.GetSecretData,
  [SyncErrorCode.PropertyOnNonJSON]: FailureSummary.GetSecretData,
  [SyncErrorCode.UnsupportedPropertySyntax]: FailureSummary.GetSecretData,
  [SyncErrorCode.DecodeFailed]: FailureSummary.GetSecretData,
  [SyncErrorCode.NullByteInValue]: FailureSummary.GetSecretData,
  [SyncErrorCode.JSONTooDeep]: FailureSummary.GetSecretData,
  [SyncErrorCode.ExtractNotJSONObject]: FailureSummary.GetSecretData,
  [SyncErrorCode.InvalidSecretKey]: FailureSummary.GetSecretData,
  [SyncErrorCode.KeyCollision]: FailureSummary.GetSecretData,
  [SyncErrorCode.InvalidRewriteRegexp]: FailureSummary.GetSecretData,
  [SyncErrorCode.RewriteMergeFailed]: FailureSummary.GetSecretData,
  [SyncErrorCode.ProviderSecretNotFound]: FailureSummary.GetSecretData,
  [SyncErrorCode.DuplicateSecretKey]: FailureSummary.GetSecretData,
  [SyncErrorCode.FetchedValuesMismatch]: FailureSummary.GetSecretData,
  // The write step's own refusals.
  [SyncErrorCode.DeleteNotOwned]: FailureSummary.DeleteSecret,
  [SyncErrorCode.ImmutableSecretChanged]: FailureSummary.UpdateImmutable,
  [SyncErrorCode.SecretOwnedByOther]: FailureSummary.IsOwned,
  [ControllerErrorCode.GenericTargetsDisabled]: FailureSummary.InvalidGenericTarget,
  [SyncErrorCode.UnsupportedTargetKind]: FailureSummary.InvalidGenericTarget,
  [SyncErrorCode.TargetKindNotFound]: FailureSummary.InvalidGenericTarget,
  [SyncErrorCode.TargetKindClusterScoped]: FailureSummary.InvalidGenericTarget,
  [SyncErrorCode.ConfigMapValueNotText]: FailureSummary.ApplyTemplateToManifest,
};

/**
 * The Ready=False message: ESO's fixed summary of the failing step, then the cause (unless the
 * cause already starts with it), so tools matching ESO's text still match and status says why.
 */
export function readyFailureMessage(code: string, cause: string): string {
  const summary = SUMMARY_BY_CODE[code] ?? FailureSummary.UpdateSecret;
  return cause.startsWith(summary) ? cause : `${summary}: ${cause}`;
}

/** The code an error is counted and reported under (sync_calls_error{reason}, status). */
export function failureReason(err: unknown): string {
  return isSyncError(err) ? err.code : err instanceof ControllerError ? err.code : 'Error';
}

// ---- the reconciler ------------------------------------------------------------------------------

interface Reconcile {
  es: ES;
  ns: string;
  name: string;
  log: Logger;
  /** The reconcile's deadline and shutdown: handed to every kube and provider call. */
  signal: AbortSignal | undefined;
}

export class ExternalSecretReconciler {
  readonly caches: ExternalSecretCaches;
  readonly kube: ReconcilerKube;
  readonly clients: StoreClientSource;
  readonly reader: RemoteValueReader;
  readonly computeDesiredSecret: DesiredSecretCompute['computeDesiredSecret'];
  readonly templateSourcesFor: ((es: ES, kube: ReconcilerKube, signal?: AbortSignal) => Promise<TemplateSources>) | undefined;
  readonly events: Pick<EventRecorder, 'normal' | 'warning'>;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly random: () => number;
  readonly controllerClass: string;
  readonly providerCacheTtlMs: number;
  readonly generate: GenerateValues | undefined;
  readonly allowGenericTargets: boolean;
  readonly genericTargetKinds: readonly string[] | undefined;
  readonly discovery: KindResolver | undefined;
  readonly unseenWrites: { externalSecrets: UnseenWrites; secrets: UnseenWrites } | undefined;
  readonly watchGenericKind: ((rt: ResourceType) => void) | undefined;

  constructor(d: ExternalSecretReconcilerDeps) {
    this.caches = d.caches;
    this.kube = d.kube;
    this.clients = d.clients;
    this.reader = d.reader;
    this.computeDesiredSecret = d.computeDesiredSecret;
    this.templateSourcesFor = d.templateSourcesFor;
    this.events = d.events;
    this.logger = d.logger;
    this.clock = d.clock ?? systemClock;
    this.random = d.random ?? Math.random;
    this.controllerClass = d.controllerClass;
    this.providerCacheTtlMs = d.providerCacheTtlMs;
    this.generate = d.generate;
    this.allowGenericTargets = d.allowGenericTargets === true;
    this.genericTargetKinds = d.genericTargetKinds;
    this.discovery = d.discovery;
    this.watchGenericKind = d.watchGenericKind;
    this.unseenWrites = d.unseenWrites;
  }

  /**
   * One reconcile of the ExternalSecret `key` (namespace/name). `signal` is the controller's
   * shutdown / deadline signal; every kube and provider call of the reconcile takes it.
   */
  async reconcile(key: string, signal?: AbortSignal): Promise<Result> {
    const es = this.caches.externalSecret(key);
    if (!es) return {};
    const ns = es.metadata.namespace!;
    const name = es.metadata.name!;
    // controller-runtime's and ESO's field names, so existing log queries keep working.
    const log = this.logger.child({ ExternalSecret: { name, namespace: ns }, namespace: ns, name, reconcileID: randomUUID() });
    const r: Reconcile = { es, ns, name, log, signal };
    if (es.metadata.deletionTimestamp) return this.finalize(r);

    const { store, kind: storeKind, name: storeName } = this.findStore(es.spec.secretStoreRef, ns);
    if (store && !storeHandledBy(store, this.controllerClass)) {
      log.debug({ store: storeName, kind: storeKind, storeController: store.spec.controller, controllerClass: this.controllerClass }, 'skipped: the store belongs to another controller class');
      return {};
    }

    let refreshMs: number;
    try {
      refreshMs = parseDurationMs(es.spec.refreshInterval ?? '1h');
    } catch (e) {
      // The schema's pattern admits values Go cannot hold (past about 2,562,047h): say so in status.
      return await this.fail(r, controllerErrors.invalidSpec('spec.refreshInterval', (e as Error).message));
    }
    const target = targetName(es);
    const cached = this.cachedTarget(es, target);
    if (this.cachesBehindOwnWrite(key, es, target, cached)) {
      log.debug('deferred: the caches have not yet shown this controller\'s last write');
      return { requeueAfter: this.unseenWrites!.externalSecrets.ttlMs };
    }
    const state = this.refreshState(es, refreshMs, cached);
    if (state.storeUnavailable) log.debug({ store: storeName, kind: storeKind }, 'a store of this ExternalSecret is missing or does not admit its namespace');
    const due = refreshDue(state);
    const postponed = this.postponedBySyncWindows(r, state, due);
    if (postponed !== undefined) return { requeueAfter: postponed };
    const nextRefresh = (): Result => {
      const after = nextRefreshDelay(state, due, this.random);
      return after === undefined ? {} : { requeueAfter: after };
    };
    if (!due) {
      const next = nextRefresh();
      log.debug({ refreshPolicy: state.policy, nextRefresh: next.requeueAfter !== undefined ? rfc3339(new Date(state.now + next.requeueAfter)) : 'on change only' }, 'skipped: no refresh due');
      return next;
    }
    log.debug({ specChanged: state.specChanged, targetBroken: state.targetBroken, ready: state.ready }, 'sync due');

    secretMetrics.syncCalls.inc({ name, namespace: ns });
    const t0 = performance.now();
    try {
      this.checkSpecUsable(es);
      const firstSync = es.status?.syncedResourceVersion === undefined && !cached;
      const maxAge = maxReadAgeMs({ specChanged: state.specChanged, targetBroken: state.targetBroken, firstSync, refreshMs, providerCacheTtlMs: this.providerCacheTtlMs });
      const fetched = await this.fetchRemoteValues(es, maxAge, signal);
      if (fetched === 'skip') {
        log.debug({ store: storeName }, 'skipped: a store or generator belongs to another controller class');
        return {};
      }
      const creation = es.spec.target?.creationPolicy ?? 'Owner';
      const { plan, condition } = await this.syncTarget(r, fetched, cached, creation === 'Owner' || creation === 'Orphan');
      await this.writeStatus(r, { status: condition.status, reason: condition.reason, message: condition.message }, true);
      secretMetrics.reconcileDuration.set({ name, namespace: ns }, nanosecondsSince(t0));
      const next = nextRefresh();
      log.debug({ action: plan.action, requeueAfterMs: next.requeueAfter }, 'synced');
      return next;
    } catch (e) {
      // Every failure is reported in status and an event, then retried with backoff.
      return await this.fail(r, e);
    }
  }

  // ---- steps ----------------------------------------------------------------------------------

  /**
   * Writes (creates, updates or deletes) the target Secret as the plan says. Secrets we manage
   * are all in the cache; when the target is not, it usually does not exist: it is created
   * without a GET first, and a Secret we do not manage turns up as AlreadyExists and is read and
   * planned again then. (Merge needs the existing Secret, so it always reads.)
   */
  private async syncSecret(r: Reconcile, fetched: { data: FetchedValue[]; dataFrom: FetchedDataFrom[] }, cached: Secret | undefined, ownsWholeSecret: boolean) {
    const { es, ns, signal } = r;
    const target = targetName(es);
    const blindCreate = !cached && ownsWholeSecret && this.caches.managedSecretsSynced();
    let existing = cached ?? (blindCreate ? undefined : await this.kube.tryGet<Secret>(core.secrets, ns, target, { signal }));
    const sources = es.spec.target?.template ? await this.templateSourcesFor?.(es, this.kube, signal) : undefined;
    const planFor = async (current: Secret | undefined) => {
      const result = await this.computeDesiredSecret({ externalSecret: es, fetched, existing: current as unknown as SyncSecret | undefined, sources }, { signal });
      if (!result.ok) throw result.error;
      return result.plan;
    };
    let plan = await planFor(existing);
    // ESO's Normal MissingProviderSecret, once per skipped entry and sync, before the write as in
    // ESO (it names the field and the remote key only).
    for (const skipped of plan.skipped) this.events.normal(es, EventReason.MissingProviderSecret, skipped.message);
    if (plan.action === 'write' && !plan.upToDate && plan.mode === 'create' && !existing) {
      let created = false;
      try {
        this.wroteSecret(es, undefined, await this.secretWriter(es).create(core.secrets, plan.secret as unknown as Secret, { signal, metadataOnly: true }));
        created = true;
      } catch (e) {
        if (!(blindCreate && isAlreadyExists(e))) throw writeError(target, e);
        // A Secret we do not manage (or not in the cache yet): read it and decide again.
        r.log.debug({ secret: target }, 'blind create found an existing Secret; planning again');
        existing = await this.kube.tryGet<Secret>(core.secrets, ns, target, { signal });
        plan = await planFor(existing);
      }
      if (created) this.events.normal(es, EventReason.Created, EventMessage.Created);
      else if (plan.action === 'write' && !plan.upToDate) await this.writeSecret(es, plan.secret, existing, signal);
    } else if (plan.action === 'write' && !plan.upToDate) {
      await this.writeSecret(es, plan.secret, existing, signal);
    } else if (plan.action === 'delete') {
      plan = await this.deleteTarget(r, plan, existing, planFor);
    }
    return plan;
  }

  /**
   * deletionPolicy Delete with no remote data. Only Secrets we manage are cached: one that is not
   * may still exist and belong to someone else. It is read and planned again, so the ownership
   * rules refuse it before anything is deleted; the delete is conditional on the uid we saw.
   */
  private async deleteTarget(r: Reconcile, planned: SyncPlan, cached: Secret | undefined, planFor: (current: Secret | undefined) => Promise<SyncPlan>): Promise<SyncPlan> {
    const { es, ns, signal } = r;
    let plan = planned;
    let existing = cached;
    if (!existing) {
      existing = await this.kube.tryGet<Secret>(core.secrets, ns, targetName(es), { signal });
      if (existing) plan = await planFor(existing);
    }
    if (plan.action === 'delete' && existing?.metadata?.uid) {
      await this.kube.delete(core.secrets, plan.namespace ?? ns, plan.name, { preconditions: { uid: existing.metadata.uid }, signal }).catch((e) => {
        if (!isKubeNotFound(e)) throw e;
      });
      this.events.normal(es, EventReason.Deleted, EventMessage.Deleted);
    }
    return plan;
  }

  /**
   * The client an ExternalSecret writes its Secret with: its own field manager, named as ESO
   * names it, so the apiserver's managedFields tell who wrote what (and ESO reads them after a
   * migration back). Tessera itself decides ownership on the write records (src/sync/secret.ts).
   */
  private secretWriter(es: ES): ReconcilerKube {
    return this.kube.withFieldManager(fieldOwnerFor(es.metadata.name!));
  }

  /** Creates or updates the target Secret; a lost race is retried with backoff. */
  private async writeSecret(es: ES, secret: unknown, existing: Secret | undefined, signal: AbortSignal | undefined): Promise<void> {
    const target = targetName(es);
    try {
      if (!existing) {
        this.wroteSecret(es, undefined, await this.secretWriter(es).create(core.secrets, secret as Secret, { signal, metadataOnly: true }));
        this.events.normal(es, EventReason.Created, EventMessage.Created);
      } else {
        const s = secret as Secret;
        const body = { ...s, metadata: { ...s.metadata, resourceVersion: existing.metadata?.resourceVersion } };
        this.wroteSecret(es, existing, await this.secretWriter(es).update(core.secrets, body as Secret, { signal, metadataOnly: true }));
        this.events.normal(es, EventReason.Updated, EventMessage.Updated);
      }
    } catch (e) {
      throw writeError(target, e);
    }
  }

  /** What decides whether a sync is due, from the caches and the clock. */
  private refreshState(es: ES, refreshMs: number, cached: Secret | undefined): RefreshState {
    const ready = (es.status?.conditions ?? []).find((c) => c.type === 'Ready');
    return {
      policy: es.spec.refreshPolicy ?? 'Periodic',
      refreshMs,
      lastRefreshMs: es.status?.refreshTime ? Date.parse(es.status.refreshTime) : NaN,
      ready: ready?.status === 'True',
      specChanged: es.status?.syncedResourceVersion !== syncedVersion(es),
      targetBroken: targetBroken(es.spec.target?.creationPolicy ?? 'Owner', cached, es.metadata.name!),
      targetExists: !!cached,
      storeUnavailable: this.storeUnavailable(es),
      now: this.clock.now(),
    };
  }

  private wroteSecret(es: ES, before: Secret | undefined, written: Pick<Secret, 'metadata'> | undefined): void {
    this.unseenWrites?.secrets.wrote(`${es.metadata.namespace}/${targetName(es)}`, before?.metadata?.resourceVersion ?? '', written?.metadata?.resourceVersion);
  }

  /**
   * Do the caches still show the ExternalSecret, or its Secret, as they were before this
   * controller's last write of them? Read so, a synced ExternalSecret would look changed and read
   * every value fresh (one provider read too many), and a Secret just created would look missing.
   */
  private cachesBehindOwnWrite(key: string, es: ES, target: string, cached: Secret | undefined): boolean {
    const w = this.unseenWrites;
    if (!w) return false;
    if (w.externalSecrets.behind(key, es.metadata.resourceVersion ?? '', key)) return true;
    return !es.spec.target?.manifest && w.secrets.behind(`${es.metadata.namespace}/${target}`, cached?.metadata?.resourceVersion ?? '', key);
  }

  /** The target from the managed caches: a Secret, or a generic target's ConfigMap seen as one. */
  private cachedTarget(es: ES, target: string): Secret | undefined {
    const ns = es.metadata.namespace!;
    const manifest = es.spec.target?.manifest;
    if (!manifest) return this.caches.managedSecret(ns, target);
    // Other kinds have no cache: the generic path reads the object each sync.
    return isConfigMapManifest(manifest) ? configMapAsCachedSecret(this.caches.managedConfigMap?.(ns, target)) : undefined;
  }

  /** Writes the target (a Secret, or a generic target's ConfigMap) and says what status reports. */
  private async syncTarget(r: Reconcile, fetched: { data: FetchedValue[]; dataFrom: FetchedDataFrom[] }, cached: Secret | undefined, ownsWholeSecret: boolean) {
    const { es, ns, signal } = r;
    if (!es.spec.target?.manifest) {
      const plan = await this.syncSecret(r, fetched, cached, ownsWholeSecret);
      return { plan, condition: plan.condition };
    }
    const manifest = es.spec.target.manifest;
    let plan: SyncPlan;
    if (isConfigMapManifest(manifest)) {
      plan = await syncConfigMapTarget(this.configMapTargetDeps(es), es, fetched, this.caches.managedConfigMap?.(ns, targetName(es)), signal);
    } else {
      const rt = await resolveGenericTarget(this.discovery, manifest, this.genericTargetKinds, signal);
      plan = await syncGenericTarget(this.configMapTargetDeps(es), rt, es, fetched, signal);
      this.watchGenericKind?.(rt);
    }
    return { plan, condition: resourceCondition(plan.condition) };
  }

  /** The delay a due periodic refresh waits for spec.syncWindows; undefined: sync now. */
  private postponedBySyncWindows(r: Reconcile, state: RefreshState, due: boolean): number | undefined {
    if (!due || !periodicRefreshOnly(state)) return undefined;
    let windows: ReturnType<typeof parseSyncWindows>;
    try {
      windows = parseSyncWindows(r.es.spec.syncWindows);
    } catch {
      return undefined; // synced now, and refused with the field named (checkSpecUsable)
    }
    const postponed = windows ? postponedFor(windows, state.now) : undefined;
    if (postponed !== undefined) {
      r.log.debug({ syncWindows: windows!.kind, nextLook: rfc3339(new Date(state.now + postponed)) }, 'skipped: periodic refresh postponed by spec.syncWindows');
    }
    return postponed;
  }

  /**
   * A spec this controller does not act on: a generic target it does not write (ESO's rule: they
   * are opt-in for the whole controller), or sync windows it cannot read (ESO ignores such a
   * window silently, which with kind allow means never syncing again; Tessera says which field).
   */
  private checkSpecUsable(es: ES): void {
    const manifest = es.spec.target?.manifest;
    if (manifest) {
      const refused = this.allowGenericTargets ? refusedGenericKind(manifest, this.genericTargetKinds) : controllerErrors.genericTargetsDisabled();
      if (refused) throw refused;
    }
    try {
      parseSyncWindows(es.spec.syncWindows);
    } catch (e) {
      if (e instanceof SyncWindowError) throw controllerErrors.invalidSpec(e.field, e.detail);
      throw e;
    }
  }

  private configMapTargetDeps(es: ES) {
    return {
      kube: this.kube, writer: this.secretWriter(es), computeDesiredSecret: this.computeDesiredSecret,
      templateSourcesFor: this.templateSourcesFor, events: this.events, writeError,
    };
  }

  private findStore(ref: SecretStoreRef | undefined, namespace: string): { kind: StoreKind; store: AnyStore | undefined; name: string } {
    const kind = (ref?.kind ?? 'SecretStore') as StoreKind;
    const name = ref?.name ?? '';
    const store = kind === 'ClusterSecretStore' ? this.caches.clusterSecretStore(name) : this.caches.secretStore(namespace, name);
    return { kind, store, name };
  }

  /** Is any store of the ExternalSecret deleted, or closed to its namespace? (From the caches.) */
  private storeUnavailable(es: ES): boolean {
    const ns = es.metadata.namespace!;
    const sourceRefs = [...(es.spec.data ?? []), ...(es.spec.dataFrom ?? [])].flatMap((d) => (d.sourceRef?.storeRef ? [d.sourceRef.storeRef] : []));
    // Without secretStoreRef (generators only, as ESO's docs write them) there is no main store to miss.
    for (const ref of [...(es.spec.secretStoreRef?.name ? [es.spec.secretStoreRef] : []), ...sourceRefs]) {
      const { kind, store } = this.findStore(ref, ns);
      if (!store) return true;
      if (kind === 'ClusterSecretStore' && !namespaceAllowed(store.spec.conditions, ns, this.caches.namespaceLabels(ns))) return true;
    }
    return false;
  }

  private async handleFor(ref: SecretStoreRef | undefined, namespace: string): Promise<{ handle: StoreHandle; label: string } | 'skip'> {
    const { kind, store, name } = this.findStore(ref, namespace);
    if (!store) throw controllerErrors.storeNotFound(kind, name, kind === 'SecretStore' ? namespace : undefined);
    if (!storeHandledBy(store, this.controllerClass)) return 'skip';
    if (kind === 'ClusterSecretStore' && !namespaceAllowed(store.spec.conditions, namespace, this.caches.namespaceLabels(namespace))) {
      throw controllerErrors.namespaceNotAllowed(name, namespace);
    }
    const label = `${kind} ${JSON.stringify(name)}`;
    try {
      return { handle: await this.clients.clientFor(kind, store, namespace), label };
    } catch (e) {
      throw controllerErrors.fromProvider(label, e);
    }
  }

  /** Reads every remote value the ExternalSecret needs, through the coalescing reader. */
  private async fetchRemoteValues(es: ES, maxAgeMs: number, signal: AbortSignal | undefined): Promise<{ data: FetchedValue[]; dataFrom: FetchedDataFrom[] } | 'skip'> {
    const ns = es.metadata.namespace!;
    const main = es.spec.secretStoreRef?.name ? await this.handleFor(es.spec.secretStoreRef, ns) : undefined;
    if (main === 'skip') return 'skip';
    const storeFor = async (sourceRef: { storeRef?: SecretStoreRef; generatorRef?: unknown } | undefined, field: string) => {
      // ESO reads data[] entries from a store only; a generatorRef there is refused by name.
      if (sourceRef?.generatorRef) throw controllerErrors.unsupportedSource(`${field}.sourceRef.generatorRef`, 'a generator in spec.data (use spec.dataFrom)');
      if (!sourceRef?.storeRef) {
        if (!main) throw controllerErrors.invalidSpec('spec.secretStoreRef', `is required: ${field} reads a store`);
        return main;
      }
      const h = await this.handleFor(sourceRef.storeRef, ns);
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
        return guard(h.label, this.reader.read(h.handle, ref, maxAgeMs, signal));
      }),
    );
    const dataFrom = Promise.all(
      (es.spec.dataFrom ?? []).map(async (d, i): Promise<FetchedDataFrom | 'skip'> => {
        // A generator runs on every sync, never through the reader's cache (fresh values each refresh).
        if (d.sourceRef?.generatorRef) return generatedDataFrom(this.generate, ns, d.sourceRef.generatorRef, `spec.dataFrom[${i}].sourceRef.generatorRef`, signal);
        const h = await storeFor(d.sourceRef, `spec.dataFrom[${i}]`);
        if (d.extract) {
          const ref = { key: d.extract.key, version: d.extract.version, metadataPolicy: d.extract.metadataPolicy as 'None' | 'Fetch' | undefined };
          return guard(h.label, this.reader.read(h.handle, ref, maxAgeMs, signal));
        }
        if (d.find) {
          const query = { path: d.find.path, name: d.find.name?.regexp !== undefined ? { regexp: d.find.name.regexp } : undefined, tags: d.find.tags };
          return guard(h.label, this.reader.memo(h.handle, `find:${JSON.stringify(query)}`, maxAgeMs, (s) => h.handle.client.findValues(query, s), signal));
        }
        throw controllerErrors.unsupportedSource(`spec.dataFrom[${i}]`, 'an entry without extract or find');
      }),
    );
    // Awaited together: a rejection of one must not leave the other's rejection unhandled.
    const [d, df] = await Promise.all([data, dataFrom]);
    // A generator of another controller class makes the ExternalSecret another controller's (as in ESO).
    if (df.includes('skip')) return 'skip';
    return { data: d, dataFrom: df as FetchedDataFrom[] };
  }

  private async writeStatus(r: Reconcile, cond: { status: 'True' | 'False'; reason: string; message: string }, synced: boolean): Promise<void> {
    const { es, ns, name } = r;
    setReadyCondition(secretMetrics, { name, namespace: ns }, cond.status);
    const conditions = setCondition(es.status?.conditions as Condition[] | undefined, { type: 'Ready', ...cond });
    const status: Record<string, unknown> = { conditions, binding: { name: targetName(es) } };
    if (synced) {
      status.refreshTime = rfc3339(new Date(this.clock.now()));
      status.syncedResourceVersion = syncedVersion(es);
    } else if (sameReadyCondition((es.status?.conditions ?? []).find((c) => c.type === 'Ready') as Condition | undefined, cond)) {
      r.log.debug({ reason: cond.reason }, 'status unchanged; not written again');
      return;
    }
    try {
      const written = await this.kube.patch(externalSecrets, ns, name, 'merge', { status }, { subresource: 'status', signal: r.signal, metadataOnly: true });
      this.unseenWrites?.externalSecrets.wrote(`${ns}/${name}`, es.metadata.resourceVersion ?? '', written?.metadata?.resourceVersion);
    } catch (e) {
      if (!isKubeNotFound(e)) throw e;
    }
  }

  /** Reports a failure in metrics, an event and status, logs it once, and throws it for backoff. */
  private async fail(r: Reconcile, err: unknown): Promise<never> {
    const { es, ns, name, log } = r;
    // Cancelled (deadline or shutdown), not failed: nothing to report; the controller counts the
    // deadline, logs it and retries.
    if (r.signal?.aborted) throw err;
    const message = err instanceof Error ? err.message : String(err);
    const reason = failureReason(err);
    secretMetrics.syncErrors.inc({ name, namespace: ns }, reason);
    this.events.warning(es, EventReason.UpdateFailed, message);
    // A generic target's failures are ResourceSyncedError, except the refusal of the target
    // itself, which ESO reports as SecretSyncedError ("invalid generic target").
    const generic = es.spec.target?.manifest !== undefined && !(err instanceof ControllerError && err.code === ControllerErrorCode.GenericTargetsDisabled);
    const condition = { status: 'False' as const, reason: generic ? ConditionReason.ResourceSyncedError : ConditionReason.SecretSyncedError, message: readyFailureMessage(reason, message) };
    await this.writeStatus(r, condition, false).catch((e: unknown) =>
      log.warn({ error: causeChain(e) }, 'status update failed'),
    );
    log.warn({ reason, error: causeChain(err) }, 'sync failed; will retry with backoff');
    throw markLogged(err);
  }

  /**
   * An ExternalSecret being deleted: the Secret it owns goes with it (owner reference, garbage
   * collection), so the only work left is ESO's finalizer. ESO (0.20.1 and later) puts it on every
   * ExternalSecret; after a migration nobody else removes it, and the delete would hang.
   */
  private async finalize(r: Reconcile): Promise<Result> {
    const { es, ns, name, log } = r;
    if (!(es.metadata.finalizers ?? []).includes(FINALIZER_ESO_EXTERNALSECRET)) return {};
    const { store } = this.findStore(es.spec.secretStoreRef, ns);
    // Another controller class's ExternalSecret: its own controller (ESO) removes its finalizer.
    if (store && !storeHandledBy(store, this.controllerClass)) {
      log.debug({ finalizer: FINALIZER_ESO_EXTERNALSECRET }, 'skipped: the finalizer belongs to another controller class');
      return {};
    }
    try {
      await removeFinalizer(this.kube, es, FINALIZER_ESO_EXTERNALSECRET, r.signal);
    } catch (e) {
      log.warn({ finalizer: FINALIZER_ESO_EXTERNALSECRET, error: causeChain(e) }, 'finalizer removal failed; will retry with backoff');
      throw markLogged(e);
    }
    log.info({ finalizer: FINALIZER_ESO_EXTERNALSECRET }, 'removed the ESO finalizer from a deleted ExternalSecret');
    return {};
  }
}

function writeError(target: string, e: unknown): ControllerError {
  // Lost a race with another writer: read again and retry with backoff.
  if (isConflict(e) || isAlreadyExists(e)) return controllerErrors.secretWriteFailed(target, 'it changed while we wrote it; retrying');
  return controllerErrors.secretWriteRefused(target, e);
}

/** Removes one finalizer from an ExternalSecret (src/kube/finalizers.ts: a tested JSON patch, retried on a lost race). */
export async function removeFinalizer(kube: ReconcilerKube, es: ES, finalizer: string, signal?: AbortSignal, attempts = 5): Promise<void> {
  return removeFinalizerFrom(kube, externalSecrets, es, finalizer, signal, attempts);
}
