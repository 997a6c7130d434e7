// Reads remote values for many ExternalSecrets at once, so that provider calls grow with the
// number of *distinct* secrets rather than with the number of ExternalSecrets:
// - identical reads (same store, key, version, metadata policy) in flight are joined;
// - a value read recently is reused within the caller's allowed age (`maxAgeMs`), so the
//   ExternalSecrets sharing a key during one refresh window cost one read;
// - reads of one store that arrive together are grouped and sent through the provider's batch
//   API when it has one (AWS BatchGetSecretValue, 20 ids a call);
// - while ExternalSecrets wait for their first sync, their keys are read ahead in batches of their
//   own, a few in flight per store, so that the workers find them cached instead of each waiting
//   for a call. A key is read ahead at most once per READ_AHEAD_AGAIN_MS (or the cache age, if
//   longer), whatever became of the read, so ExternalSecrets that never sync cannot keep it going;
//   and only while readers still ask for the store;
// - a batch with room left is filled up with the store's oldest cached values that are past half
//   their allowed age (refresh-ahead): the next refreshes of those keys then find them in the
//   cache, so a steady refresh cycle costs about one batch call per 20 keys instead of one call
//   per key, whatever the jitter spreads the refreshes over;
// - each store has a token bucket, so a restart cannot burst past the provider's rate limits.
// Errors are never cached: the next reader tries again.
//
// Cancellation: every read takes its caller's AbortSignal. A read shared by several callers (joined
// in flight, or sent in one batch) is a SharedCall: a caller whose signal aborts stops waiting at
// once, and the provider call is aborted only when no caller waits for any of its answers (or by
// the transport's own deadline, --provider-timeout). Read-ahead and refresh-ahead items hold no
// call alive: nobody waits for them.
import type { ProviderClient, RemoteValue, RemoteValueRef } from './provider.ts';
import { TokenBucket } from '../token-bucket.ts';
import { SharedCall, abortReason } from '../shared-call.ts';

export interface StoreHandle {
  /** Identity of the store *and* its credentials: reads are shared only under the same id. */
  id: string;
  provider: string;
  client: ProviderClient;
}

export interface ReaderOptions {
  /**
   * How long to collect reads of one store before sending them as a batch (ms). Reads that may
   * use a cached value (refreshes, first syncs) wait up to `batchWindowMs`, so that keys read
   * near each other in time share a call; fresh reads (a changed ExternalSecret) wait at most
   * `freshBatchWindowMs`. A batch that read-ahead fills goes at once.
   */
  batchWindowMs?: number;
  freshBatchWindowMs?: number;
  /** Largest batch handed to the provider's getValues. */
  maxBatch?: number;
  /** Provider calls per second per store, and burst. */
  storeQps?: number;
  storeBurst?: number;
  /** Upper bound on how long a value is kept for reuse (ms). */
  maxCacheMs?: number;
  onCoalesced?: (store: StoreHandle) => void;
  /**
   * Read-ahead: refs of this store that readers will ask for soon (e.g. ExternalSecrets waiting
   * for their first sync). A batch sent with room left is filled with those not yet cached or in
   * flight, so a burst of first syncs costs about one batch call per 20 distinct keys.
   */
  readAhead?: (store: StoreHandle, room: number, wanted: (ref: RemoteValueRef) => boolean) => RemoteValueRef[];
  /**
   * Batches of read-ahead keys alone (no reader waits for them) kept in flight per store while
   * `readAhead` has keys to give: the provider's latency then overlaps the workers' writes instead
   * of stalling them. 0 reads ahead only in the room of batches that readers started.
   */
  readAheadDepth?: number;
  now?: () => number;
}

interface Cached {
  value: RemoteValue;
  at: number;
  ref: RemoteValueRef;
  /** The largest age a reader accepted for this value: refresh-ahead starts at half of it. */
  maxAgeMs: number;
  /** Last time a reader asked for it: values nobody reads any more are not refreshed ahead. */
  usedAt: number;
}

interface Pending {
  ref: RemoteValueRef;
  key: string;
  /** The shared call this item answers: its signal aborts when nobody waits any more. */
  call: SharedCall<RemoteValue>;
  resolve: (v: RemoteValue) => void;
  reject: (e: unknown) => void;
  /** Latest time the read may be sent (batch window). */
  sendBy?: number;
}

/** A key read ahead is not read ahead again before this (or the cache age, if longer). */
export const READ_AHEAD_AGAIN_MS = 5 * 60_000;
/** Read-ahead batches follow one another only while the store was read within this. */
export const READ_AHEAD_IDLE_MS = 10_000;

const refKey = (storeId: string, r: RemoteValueRef) => `${storeId}\u0000${r.key}\u0000${r.version ?? ''}\u0000${r.metadataPolicy ?? 'None'}`;

export class CoalescingReader {
  private readonly o: Required<Omit<ReaderOptions, 'onCoalesced' | 'readAhead'>> & Pick<ReaderOptions, 'onCoalesced' | 'readAhead'>;
  /** Read-ahead batches in flight per store id. */
  private readonly aheadInFlight = new Map<string, number>();
  /** When each key was last read ahead; not again before `aheadAgainMs`. */
  private readonly aheadAt = new Map<string, number>();
  /** READ_AHEAD_AGAIN_MS, or the cache age if longer. */
  private readonly aheadAgainMs: number;
  /** The latest handle each store id was read with, and when. */
  private readonly lastRead = new Map<string, { store: StoreHandle; at: number }>();
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, SharedCall<RemoteValue>>();
  private readonly batches = new Map<string, { store: StoreHandle; items: Pending[]; timer: NodeJS.Timeout | undefined; sendBy: number }>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly memoCache = new Map<string, { value: unknown; at: number }>();
  private readonly memoInflight = new Map<string, SharedCall<unknown>>();
  private sweepAt = 0;

  constructor(opts: ReaderOptions = {}) {
    this.o = { batchWindowMs: 50, freshBatchWindowMs: 10, maxBatch: 20, readAheadDepth: 2, storeQps: 50, storeBurst: 100, maxCacheMs: 5 * 60_000, now: () => performance.now(), ...opts };
    this.aheadAgainMs = Math.max(READ_AHEAD_AGAIN_MS, this.o.maxCacheMs);
  }

  /**
   * Reads one value; `maxAgeMs` 0 forces a fresh provider read (still joined if in flight). When
   * `signal` aborts, this caller's promise rejects at once with the signal's reason.
   */
  read(store: StoreHandle, ref: RemoteValueRef, maxAgeMs: number, signal?: AbortSignal): Promise<RemoteValue> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const key = refKey(store.id, ref);
    const now = this.o.now();
    this.lastRead.set(store.id, { store, at: now });
    const hit = this.cache.get(key);
    if (hit) {
      hit.maxAgeMs = Math.max(hit.maxAgeMs, maxAgeMs);
      hit.usedAt = now;
    }
    if (hit && now - hit.at <= Math.min(maxAgeMs, this.o.maxCacheMs)) {
      this.o.onCoalesced?.(store);
      return Promise.resolve(hit.value);
    }
    const running = this.inflight.get(key);
    if (running) {
      this.o.onCoalesced?.(store);
      return running.join(signal);
    }
    const sendBy = now + (maxAgeMs > 0 ? this.o.batchWindowMs : this.o.freshBatchWindowMs);
    return this.start(store, ref, key, Math.max(maxAgeMs, hit?.maxAgeMs ?? 0), (item) => this.enqueue(store, { ...item, sendBy })).join(signal);
  }

  /**
   * Registers an in-flight read of `key` whose result goes to the cache (in age order). The call
   * has no waiter yet: the caller joins it (read-ahead and refresh-ahead items never do).
   */
  private start(store: StoreHandle, ref: RemoteValueRef, key: string, maxAgeMs: number, send: (item: Pending) => void, usedAt?: number): SharedCall<RemoteValue> {
    const item = { ref, key } as Pending;
    const call = new SharedCall<RemoteValue>(
      () =>
        new Promise<RemoteValue>((resolve, reject) => {
          item.resolve = resolve;
          item.reject = reject;
        }),
    );
    item.call = call;
    const p = call.promise;
    this.inflight.set(key, call);
    // Gone from the map as soon as it is abandoned: a later reader starts a call of its own
    // instead of joining one that is being aborted.
    const clear = () => this.inflight.get(key) === call && this.inflight.delete(key);
    call.onAbandon(clear);
    send(item);
    p.then(
      (value) => {
        clear();
        // Delete first: Map order is then oldest read first, which refresh-ahead relies on.
        this.cache.delete(key);
        this.cache.set(key, { value, at: this.o.now(), ref, maxAgeMs, usedAt: usedAt ?? this.o.now() });
        this.sweep();
      },
      clear,
    );
    return call;
  }

  /** Cached values of the store due for refresh-ahead (oldest first), as batch items. */
  private refreshAhead(storeId: string, room: number): Pending[] {
    const out: Pending[] = [];
    if (room <= 0) return out;
    const now = this.o.now();
    const prefix = storeId + '\u0000';
    for (const [key, c] of this.cache) {
      if (out.length >= room) break;
      const age = now - c.at;
      const limit = Math.min(c.maxAgeMs, this.o.maxCacheMs);
      if (limit <= 0 || age < limit / 2 || now - c.usedAt > limit) continue;
      if (!key.startsWith(prefix) || this.inflight.has(key) || c.ref.version || (c.ref.metadataPolicy ?? 'None') !== 'None') continue;
      this.start({ id: storeId } as StoreHandle, c.ref, key, c.maxAgeMs, (item) => out.push(item), c.usedAt);
    }
    return out;
  }

  /** Refs the controller expects to be read soon, not cached or in flight, as batch items. */
  private readAheadItems(store: StoreHandle, room: number, already: Pending[]): Pending[] {
    const out: Pending[] = [];
    if (room <= 0 || !this.o.readAhead) return out;
    const now = this.o.now();
    const taken = new Set(already.map((i) => i.key));
    const wanted = (ref: RemoteValueRef) => {
      if (ref.version || (ref.metadataPolicy ?? 'None') !== 'None') return false;
      const key = refKey(store.id, ref);
      if (taken.has(key) || this.inflight.has(key)) return false;
      const ahead = this.aheadAt.get(key);
      if (ahead !== undefined && now - ahead < this.aheadAgainMs) return false;
      const c = this.cache.get(key);
      return !c || now - c.at > this.o.maxCacheMs / 2;
    };
    for (const ref of this.o.readAhead(store, room, wanted)) {
      if (out.length >= room || !wanted(ref)) continue;
      const key = refKey(store.id, ref);
      taken.add(key);
      this.aheadAt.set(key, now);
      // Allowed age unknown until a reader asks (0: not refreshed ahead before that).
      this.start(store, { key: ref.key }, key, 0, (item) => out.push(item));
    }
    return out;
  }

  /**
   * Coalesces any other read (e.g. dataFrom.find) by a caller-chosen key, with the same rules:
   * joined while in flight, reused within `maxAgeMs`, errors not kept. `fn` gets the shared
   * call's signal (aborted when every caller has gone), `signal` is this caller's.
   */
  memo<T>(store: StoreHandle, what: string, maxAgeMs: number, fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const key = `${store.id}\u0000memo\u0000${what}`;
    const now = this.o.now();
    const hit = this.memoCache.get(key);
    if (hit && now - hit.at <= Math.min(maxAgeMs, this.o.maxCacheMs)) {
      this.o.onCoalesced?.(store);
      return Promise.resolve(hit.value as T);
    }
    const running = this.memoInflight.get(key);
    if (running) {
      this.o.onCoalesced?.(store);
      return running.join(signal) as Promise<T>;
    }
    const call = new SharedCall<unknown>(async (callSignal) => {
      await this.acquire(store, callSignal);
      return fn(callSignal);
    });
    this.memoInflight.set(key, call);
    const clear = () => this.memoInflight.get(key) === call && this.memoInflight.delete(key);
    call.onAbandon(clear);
    call.promise.then(
      (value) => {
        clear();
        this.memoCache.set(key, { value, at: this.o.now() });
      },
      clear,
    );
    return call.join(signal) as Promise<T>;
  }

  /** Waits for the store's rate limit before one provider call; rejects once `signal` aborts. */
  async acquire(store: StoreHandle, signal?: AbortSignal): Promise<void> {
    let b = this.buckets.get(store.id);
    if (!b) this.buckets.set(store.id, (b = new TokenBucket(this.o.storeQps, this.o.storeBurst)));
    await b.take(signal);
    if (signal?.aborted) throw abortReason(signal);
  }

  private enqueue(store: StoreHandle, item: Pending): void {
    let batch = this.batches.get(store.id);
    if (!batch) {
      batch = { store, items: [], timer: undefined, sendBy: Infinity };
      this.batches.set(store.id, batch);
    }
    batch.items.push(item);
    const b = batch;
    if (!store.client.getValues || item.ref.version) {
      // No batch API (or a versioned read, which batch APIs do not take): send on its own.
      b.items.pop();
      void this.sendOne(store, item);
      return;
    }
    if (b.items.length === 1 && this.o.readAhead) {
      // The window gathers keys read near each other in time. While ExternalSecrets wait for
      // their first sync, read-ahead has those keys already: a batch it fills goes at once.
      // Read-ahead keys thus come before refresh-ahead ones in a new batch (flush adds those
      // with the room left): first syncs wait for values, refreshes have cached ones.
      b.items.push(...this.readAheadItems(store, this.o.maxBatch - 1, b.items));
    }
    if (b.items.length >= this.o.maxBatch) {
      this.flush(store.id);
    } else if (!b.timer || (item.sendBy ?? 0) < b.sendBy) {
      // The batch goes when its most impatient read must go.
      if (b.timer) clearTimeout(b.timer);
      b.sendBy = item.sendBy ?? this.o.now();
      b.timer = setTimeout(() => this.flush(store.id), Math.max(0, b.sendBy - this.o.now()));
    }
  }

  private flush(storeId: string): void {
    const b = this.batches.get(storeId);
    if (!b) return;
    this.batches.delete(storeId);
    if (b.timer) clearTimeout(b.timer);
    // Reads whose callers all left while the batch collected are not sent at all.
    b.items = b.items.filter((item) => {
      if (!item.call.abandoned) return true;
      item.reject(abortReason(item.call.signal));
      return false;
    });
    if (b.items.length === 0) return;
    if (b.store.client.getValues) {
      b.items.push(...this.refreshAhead(storeId, this.o.maxBatch - b.items.length));
      b.items.push(...this.readAheadItems(b.store, this.o.maxBatch - b.items.length, b.items));
    }
    if (b.items.length === 1) void this.sendOne(b.store, b.items[0]!);
    else void this.sendBatch(b.store, b.items);
    this.readAheadMore(b.store);
  }

  /**
   * Keeps up to `readAheadDepth` batches of read-ahead keys in flight for the store, each followed
   * by the next when it ends, while `readAhead` gives keys not cached, in flight or read ahead
   * within READ_AHEAD_AGAIN_MS (so a pass ends: each key is read ahead once) and while readers
   * still ask for the store (an edited store's old id is not read on; the latest handle is used).
   * Started by readers' batches.
   */
  private readAheadMore(store: StoreHandle): void {
    if (!store.client.getValues || !this.o.readAhead) return;
    this.sweep();
    let n = this.aheadInFlight.get(store.id) ?? 0;
    while (n < this.o.readAheadDepth) {
      const items = this.readAheadItems(store, this.o.maxBatch, []);
      if (items.length === 0) break;
      this.aheadInFlight.set(store.id, ++n);
      void this.sendBatch(store, items).then(() => {
        const left = (this.aheadInFlight.get(store.id) ?? 1) - 1;
        if (left > 0) this.aheadInFlight.set(store.id, left);
        else this.aheadInFlight.delete(store.id);
        const latest = this.lastRead.get(store.id);
        if (latest && this.o.now() - latest.at <= READ_AHEAD_IDLE_MS) this.readAheadMore(latest.store);
      });
    }
  }

  private async sendOne(store: StoreHandle, item: Pending): Promise<void> {
    try {
      await this.acquire(store, item.call.signal);
      item.resolve(await store.client.getValue(item.ref, item.call.signal));
    } catch (e) {
      item.reject(e);
    }
  }

  /**
   * One batch call for reads of several callers: aborted when none of its items is wanted any
   * more (each item's callers all left; read-ahead and refresh-ahead items are never wanted).
   */
  private async sendBatch(store: StoreHandle, items: Pending[]): Promise<void> {
    const batch = new AbortController();
    const check = (): void => {
      if (!batch.signal.aborted && items.every((i) => !i.call.wanted)) batch.abort(new DOMException('every caller waiting for this batch has gone', 'AbortError'));
    };
    const unsubscribe = items.map((i) => i.call.onAbandon(check));
    try {
      await this.acquire(store, batch.signal);
      const results = await store.client.getValues!(
        items.map((i) => i.ref),
        batch.signal,
      );
      items.forEach((item, i) => {
        const r = results[i];
        if (r instanceof Error) item.reject(r);
        else if (r) item.resolve(r);
        else item.reject(new Error(`provider returned no result for key "${item.ref.key}"`));
      });
    } catch (e) {
      for (const item of items) item.reject(e);
    } finally {
      for (const u of unsubscribe) u();
    }
  }

  private sweep(): void {
    const now = this.o.now();
    if (now < this.sweepAt) return;
    this.sweepAt = now + 30_000;
    for (const [k, c] of this.cache) if (now - c.at > this.o.maxCacheMs) this.cache.delete(k);
    for (const [k, c] of this.memoCache) if (now - c.at > this.o.maxCacheMs) this.memoCache.delete(k);
    for (const [k, at] of this.aheadAt) if (now - at > this.aheadAgainMs) this.aheadAt.delete(k);
    for (const [k, r] of this.lastRead) if (now - r.at > READ_AHEAD_IDLE_MS) this.lastRead.delete(k);
  }
}
