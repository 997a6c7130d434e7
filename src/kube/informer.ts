// An informer: list, then watch from the list's resourceVersion, keeping a local cache with
// indexes and calling handlers for each change.
//
// Resilience, as client-go's reflector:
// - watches ask for bookmarks, so the resourceVersion we resume from stays fresh;
// - a 410 Gone (resourceVersion compacted away) leads to a re-list, and the re-list is diffed
//   against the cache so handlers see exactly the adds, updates and deletes that were missed;
// - any other error, timeout or closed stream reconnects from the last resourceVersion, with
//   exponential backoff and jitter;
// - health is observable: `synced`, `healthy`, the last error, and metrics.
// resourceVersions are opaque strings: compared for equality only, never as numbers.
import type { KubeClient } from './client.ts';
import { ApiError, isGone, sleep } from './client.ts';
import type { KubeObject, ResourceType } from './types.ts';
import { objectKey } from './types.ts';
import { informerMetrics } from './metrics.ts';
import { internCommonStrings } from './intern.ts';

/** About an add: `initialList` is true for the objects of the first list (and a late handler's replay of the cache). */
export interface AddInfo {
  initialList: boolean;
}

export interface InformerHandlers<T extends KubeObject> {
  /** A handler may enqueue the first list's objects at a lower priority than objects created later. */
  add?(obj: T, info: AddInfo): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export type IndexFunc<T> = (obj: T) => string[];

export interface InformerOptions<T extends KubeObject> {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  /** Page size of lists, so a big collection never arrives as one huge response. */
  pageSize?: number;
  /** Lists and watches metadata only (PartialObjectMetadata): no data crosses the wire. */
  metadataOnly?: boolean;
  /**
   * Objects it rejects are neither cached nor handed to handlers; one that is cached and then
   * rejected (by a watch event, or a re-list after the filter changed) is delivered as deleted.
   * Sharding keeps only the namespaces of the shards this replica holds.
   */
  filter?: (obj: T) => boolean;
  /**
   * While it answers false the informer neither lists nor watches: its cache is empty (what it
   * held is delivered as deleted) and it counts as synced. Asked again at each relist(), so the
   * owner calls relist() when the answer may have changed (e.g. the first PushSecret arrived).
   */
  enabled?: () => boolean;
  /** Shrinks objects before they are cached (e.g. drop managedFields). */
  transform?: (obj: T) => T;
  indexers?: Record<string, IndexFunc<T>>;
  /** Reconnect backoff: initial and maximum delay in ms. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Server-side watch timeout range in seconds; each watch picks a random value in it. */
  watchTimeoutSeconds?: [number, number];
  onEvent?: (e: InformerLifecycleEvent) => void;
}

/** Observable lifecycle, for logs and tests. */
export type InformerLifecycleEvent =
  | { type: 'listed'; resourceVersion: string; count: number }
  | { type: 'watching'; resourceVersion: string }
  | { type: 'watch-closed' }
  | { type: 'watch-error'; error: Error; gone: boolean; retryInMs: number; op: 'list' | 'watch' };

/** The failure streak an informer is in: since when, the last error, and what was being done. */
export interface InformerFailure {
  error: Error;
  op: 'list' | 'watch';
  since: number;
  count: number;
}

/**
 * Drops managedFields (large, never read) from an object about to be cached. The metadata is
 * rebuilt rather than the field deleted: a `delete` turns the object into a slow dictionary of
 * about 430 bytes more, which at 10,000 ExternalSecrets and their Secrets was 8.5 MB of heap.
 */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata?.managedFields) {
    const { managedFields: _, ...metadata } = obj.metadata;
    obj.metadata = metadata;
  }
  return obj;
}

export class Informer<T extends KubeObject> {
  readonly resource: ResourceType;
  private readonly client: KubeClient;
  private opts: InformerOptions<T>;
  private readonly items = new Map<string, T>();
  /**
   * Index name → value → the keys of the objects with that value: one key as a plain string (most
   * values name one object, e.g. an ExternalSecret's target Secret), a Set once there are more.
   * A Set per entry would cost ~200 bytes: 2 MB for the target index at 10,000 ExternalSecrets.
   */
  private readonly indexes = new Map<string, Map<string, string | Set<string>>>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private resourceVersion = '';
  private hasSynced = false;
  private watchHealthy = false;
  private lastErr: Error | undefined;
  private lastErrAt = 0;
  private consecutiveFailures = 0;
  private abort = new AbortController();
  private running: Promise<void> | undefined;
  private syncWaiters: Array<() => void> = [];
  private watchAbort: AbortController | undefined;
  private holdUntil = 0;
  private readonly metricLabel: string;
  private readonly lifecycleListeners: Array<(e: InformerLifecycleEvent) => void> = [];
  private streak: InformerFailure | undefined;
  private relistRequested = false;
  private relistWaiters: Array<() => void> = [];
  /** Ends the wait of an informer that is not `enabled` (relist() asks again). */
  private wake: (() => void) | undefined;

  constructor(client: KubeClient, resource: ResourceType, opts: InformerOptions<T> = {}) {
    this.client = client;
    this.resource = resource;
    this.opts = opts;
    this.metricLabel = `${resource.plural}${resource.group ? '.' + resource.group : ''}`;
    for (const name of Object.keys(opts.indexers ?? {})) this.indexes.set(name, new Map());
  }

  /**
   * Adds an index to a cache that another controller shares (one watch, one copy of each
   * object); only before the informer starts, so that every cached object is indexed.
   */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (this.running) throw new Error(`${this.description}: index ${name} added after the informer started`);
    if (this.indexes.has(name)) throw new Error(`${this.description}: index ${name} already exists`);
    this.opts = { ...this.opts, indexers: { ...this.opts.indexers, [name]: fn } };
    this.indexes.set(name, new Map());
  }

  /** What this informer watches, for logs and /readyz: "secrets (namespace a)". */
  get description(): string {
    return `${this.metricLabel} (${this.scope})`;
  }

  /** "all namespaces" or "namespace x". */
  get scope(): string {
    return this.resource.namespaced && this.opts.namespace ? `namespace ${this.opts.namespace}` : this.resource.namespaced ? 'all namespaces' : 'cluster-scoped';
  }

  /** "externalsecrets.external-secrets.io", "secrets": the name RBAC rules and kubectl use. */
  get resourceName(): string {
    return this.metricLabel;
  }

  /** The apiserver this informer talks to (for diagnostics). */
  get server(): string {
    return this.client.server;
  }

  /** Observes lifecycle events besides `opts.onEvent` (the manager logs failures through this). */
  addLifecycleListener(fn: (e: InformerLifecycleEvent) => void): void {
    this.lifecycleListeners.push(fn);
  }

  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
    // Late registrants see the current contents as adds, as client-go does.
    if (this.hasSynced) for (const obj of this.items.values()) h.add?.(obj, { initialList: true });
  }

  // ---- cache reads ------------------------------------------------------------------------

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  size(): number {
    return this.items.size;
  }

  byIndex(index: string, value: string): T[] {
    const out: T[] = [];
    this.eachByIndex(index, value, (o) => void out.push(o));
    return out;
  }

  /**
   * Calls `fn` with each object of byIndex, without building an array, until it returns false:
   * for a caller that walks a large index often and may stop early.
   */
  eachByIndex(index: string, value: string, fn: (obj: T) => boolean | void): void {
    const keys = this.indexes.get(index)?.get(value);
    if (keys === undefined) return;
    if (typeof keys === 'string') {
      const o = this.items.get(keys);
      if (o) fn(o);
      return;
    }
    for (const k of keys) {
      const o = this.items.get(k);
      if (o && fn(o) === false) return;
    }
  }

  // ---- health -----------------------------------------------------------------------------

  get synced(): boolean {
    return this.hasSynced;
  }

  /** Synced, and the watch is connected or reconnecting after fewer than a few failures. */
  get healthy(): boolean {
    return this.hasSynced && (this.watchHealthy || this.consecutiveFailures < 5);
  }

  get lastError(): { error: Error; at: number } | undefined {
    return this.lastErr ? { error: this.lastErr, at: this.lastErrAt } : undefined;
  }

  /** The current failure streak (cleared by a successful list or an accepted watch). */
  get failure(): InformerFailure | undefined {
    return this.streak;
  }

  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.hasSynced) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.syncWaiters.push(() => resolve(true));
      signal?.addEventListener('abort', () => resolve(false), { once: true });
    });
  }

  // ---- lifecycle --------------------------------------------------------------------------

  start(): void {
    if (this.running) return;
    this.abort = new AbortController();
    this.running = this.run(this.abort.signal);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    this.running = undefined;
    informerMetrics.synced.set({ resource: this.metricLabel }, 0);
  }

  private async run(signal: AbortSignal): Promise<void> {
    let needList = true;
    while (!signal.aborted) {
      if (this.holdUntil > Date.now()) await sleep(this.holdUntil - Date.now(), signal);
      let op: 'list' | 'watch' = 'list';
      try {
        if (this.opts.enabled?.() === false) {
          this.idle();
          await new Promise<void>((resolve) => {
            // The run's signal lives as long as the informer: its listener goes with the wait.
            const onAbort = () => resolve();
            this.wake = () => (signal.removeEventListener('abort', onAbort), resolve());
            signal.addEventListener('abort', onAbort, { once: true });
          });
          this.wake = undefined;
          needList = true;
          continue;
        }
        if (needList || this.relistRequested) {
          await this.listAndReplace(signal);
          needList = false;
        }
        if (this.relistRequested) continue; // asked for again while listing: the filter changed since
        op = 'watch';
        await this.watchOnce(signal);
        // A server-side timeout or a closed stream: resume from the last resourceVersion.
        this.emit({ type: 'watch-closed' });
        this.consecutiveFailures = 0;
      } catch (err) {
        if (signal.aborted) break;
        // disconnectFor(), or relist() ending the watch: not a failure. A list that failed is one,
        // whoever asked for it: it backs off like any other (the re-list stays requested).
        if (this.holdUntil > Date.now() || (op === 'watch' && this.relistRequested)) continue;
        if (op === 'list') needList = true;
        const gone = isGone(err);
        if (gone) needList = true;
        this.watchHealthy = false;
        this.lastErr = err as Error;
        this.lastErrAt = Date.now();
        if (!gone) this.streak = { error: err as Error, op, since: this.streak?.since ?? this.lastErrAt, count: (this.streak?.count ?? 0) + 1 };
        informerMetrics.watchErrors.inc({ resource: this.metricLabel, reason: gone ? 'gone' : 'error' });
        // A 410 re-lists at once (first time); other errors back off with jitter.
        const delay = gone && this.consecutiveFailures === 0 ? 0 : this.backoffDelay();
        this.consecutiveFailures++;
        this.updateSyncedMetric();
        this.emit({ type: 'watch-error', error: err as Error, gone, retryInMs: delay, op });
        if (delay > 0) await sleep(delay, signal);
      }
    }
  }

  /** Not needed now: nothing cached, nothing watched, and synced (see `enabled`). */
  private idle(): void {
    this.relistRequested = false;
    this.relistWaiters.splice(0).forEach((f) => f());
    this.replaceCache(new Map(), '');
    this.watchHealthy = true;
    this.consecutiveFailures = 0;
    this.updateSyncedMetric();
  }

  private backoffDelay(): number {
    const base = this.opts.backoffInitialMs ?? 800;
    const max = this.opts.backoffMaxMs ?? 30_000;
    const exp = Math.min(max, base * 2 ** Math.min(this.consecutiveFailures, 20));
    // Full jitter in [exp/2, exp): many informers reconnecting after an outage spread out.
    return exp / 2 + Math.random() * (exp / 2);
  }

  private async listAndReplace(signal: AbortSignal): Promise<void> {
    // The relist() calls this list answers: those made before it started, under the current filter.
    const answering = this.relistWaiters.splice(0);
    this.relistRequested = false;
    try {
      await this.listAndReplaceOnce(signal);
    } catch (e) {
      this.relistWaiters.unshift(...answering);
      if (answering.length) this.relistRequested = true;
      throw e;
    }
    answering.forEach((f) => f());
  }

  private async listAndReplaceOnce(signal: AbortSignal): Promise<void> {
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.client.list<T>(
        this.resource,
        this.opts.namespace,
        {
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
          limit: this.opts.pageSize ?? 500,
          continue: cont,
          metadataOnly: this.opts.metadataOnly,
          signal,
        },
      );
      // An empty PartialObjectMetadataList (metadataOnly) comes with "items": null.
      for (const item of page.items ?? []) {
        const obj = this.fromList(item);
        if (obj) fresh.set(objectKey(obj), obj);
      }
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion ?? rv;
    } while (cont);
    informerMetrics.lists.inc({ resource: this.metricLabel });
    this.replaceCache(fresh, rv);
    this.emit({ type: 'listed', resourceVersion: rv, count: fresh.size });
  }

  /**
   * Makes the cache hold `fresh` and marks it synced. Diffed against the cache: the handlers get
   * exactly what changed while we were not watching. Adds of a re-list are objects created while
   * we were not watching: new, not the first list.
   */
  private replaceCache(fresh: Map<string, T>, rv: string): void {
    const initial: AddInfo = { initialList: !this.hasSynced };
    for (const [key, old] of this.items) {
      if (!fresh.has(key)) {
        this.removeFromCache(key, old);
        for (const h of this.handlers) h.delete?.(old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.items.get(key);
      this.putInCache(key, obj, old);
      if (!old) for (const h of this.handlers) h.add?.(obj, initial);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) for (const h of this.handlers) h.update?.(old, obj);
    }
    this.resourceVersion = rv;
    this.streak = undefined;
    if (!this.hasSynced) {
      this.hasSynced = true;
      this.syncWaiters.splice(0).forEach((f) => f());
    }
    informerMetrics.objects.set({ resource: this.metricLabel }, this.items.size);
  }

  /** A list item as the cache keeps it, or undefined when the filter rejects it. */
  private fromList(item: T): T | undefined {
    // List items carry no apiVersion/kind; restore them so handlers see whole objects.
    item.apiVersion ??= this.resource.group ? `${this.resource.group}/${this.resource.version}` : this.resource.version;
    item.kind ??= this.resource.kind;
    if (this.opts.filter && !this.opts.filter(item)) return undefined;
    return this.shrink(item);
  }

  private async watchOnce(signal: AbortSignal): Promise<void> {
    const [lo, hi] = this.opts.watchTimeoutSeconds ?? [300, 600];
    const timeoutSeconds = Math.floor(lo + Math.random() * (hi - lo));
    this.watchAbort = new AbortController();
    const stream = this.client.watch<T>(this.resource, this.opts.namespace, {
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds,
      metadataOnly: this.opts.metadataOnly,
      signal: AbortSignal.any([signal, this.watchAbort.signal]),
      onOpen: () => this.markWatching(),
    });
    informerMetrics.watches.inc({ resource: this.metricLabel });
    for await (const ev of stream) {
      informerMetrics.events.inc({ resource: this.metricLabel, type: ev.type });
      const rv = ev.object.metadata?.resourceVersion;
      if (ev.type === 'BOOKMARK') {
        if (rv) this.resourceVersion = rv;
        continue;
      }
      const obj = this.shrink(ev.object);
      const key = objectKey(obj);
      const old = this.items.get(key);
      if (ev.type === 'DELETED' || (this.opts.filter && !this.opts.filter(obj))) {
        if (old) {
          this.removeFromCache(key, old);
          for (const h of this.handlers) h.delete?.(obj);
        }
      } else if (!old) {
        this.putInCache(key, obj, undefined);
        for (const h of this.handlers) h.add?.(obj, { initialList: false });
      } else if (old.metadata?.resourceVersion !== rv) {
        this.putInCache(key, obj, old);
        for (const h of this.handlers) h.update?.(old, obj);
      }
      if (rv) this.resourceVersion = rv;
      informerMetrics.objects.set({ resource: this.metricLabel }, this.items.size);
    }
  }

  /**
   * Drops the watch connection and stays disconnected for `ms`, then resumes from the last
   * resourceVersion as after any network failure. A test seam for long outages: changes made
   * meanwhile (and an etcd compaction) must be caught up by the resume or by a re-list.
   */
  disconnectFor(ms: number): void {
    this.holdUntil = Date.now() + ms;
    this.watchHealthy = false;
    this.watchAbort?.abort();
  }

  /**
   * Lists again (diffed against the cache, as after a 410) and resolves once that list is in the
   * cache: used when the filter changed, e.g. a replica took or gave up a shard.
   */
  relist(): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.relistRequested = true;
    const done = new Promise<void>((resolve) => {
      const onStop = () => resolve();
      this.abort.signal.addEventListener('abort', onStop, { once: true });
      this.relistWaiters.push(() => {
        this.abort.signal.removeEventListener('abort', onStop);
        resolve();
      });
    });
    this.watchAbort?.abort();
    this.wake?.();
    return done;
  }

  private markWatching(): void {
    this.watchHealthy = true;
    this.consecutiveFailures = 0;
    this.streak = undefined;
    this.updateSyncedMetric();
    this.emit({ type: 'watching', resourceVersion: this.resourceVersion });
  }

  private updateSyncedMetric(): void {
    informerMetrics.synced.set({ resource: this.metricLabel }, this.healthy ? 1 : 0);
  }

  private shrink(obj: T): T {
    internCommonStrings(stripManagedFields(obj));
    return this.opts.transform ? this.opts.transform(obj) : obj;
  }

  private putInCache(key: string, obj: T, old: T | undefined): void {
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    for (const [name, fn] of Object.entries(this.opts.indexers ?? {})) {
      const idx = this.indexes.get(name)!;
      for (const v of fn(obj)) {
        const s = idx.get(v);
        if (s === undefined || s === key) idx.set(v, key);
        else if (typeof s === 'string') idx.set(v, new Set([s, key]));
        else s.add(key);
      }
    }
  }

  private removeFromCache(key: string, old: T): void {
    this.unindex(key, old);
    this.items.delete(key);
  }

  private unindex(key: string, old: T): void {
    for (const [name, fn] of Object.entries(this.opts.indexers ?? {})) {
      const idx = this.indexes.get(name)!;
      for (const v of fn(old)) {
        const s = idx.get(v);
        if (s === key) idx.delete(v);
        else if (typeof s === 'object') {
          s.delete(key);
          if (s.size === 1) idx.set(v, s.values().next().value!);
          else if (s.size === 0) idx.delete(v);
        }
      }
    }
  }

  private emit(e: InformerLifecycleEvent): void {
    this.opts.onEvent?.(e);
    for (const fn of this.lifecycleListeners) {
      try {
        fn(e);
      } catch {
        // An observer (a logger) must never stop the watch loop.
      }
    }
  }
}

export { ApiError };
